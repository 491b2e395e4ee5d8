# Tests of how the runner's ASGI server starts a request's task: at once where Python has eager
# tasks (3.12), always as the current task and with a context of its own.
from __future__ import annotations

import asyncio
import contextvars
import sys
import threading
import unittest
from typing import Any, List

from bicorn_runner.asgi_server import AsgiServer
from bicorn_runner.streams import Stream

from .fakes import TIMEOUT, FakeConnection, request

START = {"type": "http.response.start", "status": 200, "headers": []}
BODY = {"type": "http.response.body", "body": b"ok"}
SET_BY_APP: "contextvars.ContextVar[Any]" = contextvars.ContextVar("set_by_app", default=None)


class StartTest(unittest.TestCase):
    def setUp(self) -> None:
        self.conn = FakeConnection()
        self.seen: List[Any] = []
        self.ended = threading.Event()

    def serve(self, app: Any, streams: int) -> List[Any]:
        """Starts one stream after another from a single callback of the loop, as the frames of
        one read start them, and returns what the app saw, with what had ended meanwhile."""
        server = AsgiServer(app)
        server.start()
        self.addCleanup(server.destroy)
        connection: Any = self.conn
        done = threading.Event()

        def start_all() -> None:
            for stream_id in range(1, streams + 1):
                stream = Stream(request(stream=stream_id), 1 << 20, connection,
                                lambda _: self.ended.set())
                server.handle(stream)
                self.seen.append(("handled", stream_id, self.ended.is_set()))
            done.set()

        server.loop.call_soon_threadsafe(start_all)
        self.assertTrue(done.wait(TIMEOUT))
        server.run(server.drain())
        return self.seen

    def test_each_request_runs_as_the_current_task_in_a_context_of_its_own(self) -> None:
        async def app(scope, receive, send):
            self.seen.append(("app", asyncio.current_task() is not None, SET_BY_APP.get()))
            SET_BY_APP.set("left by a request")
            await send(START)
            await send(BODY)

        seen = self.serve(app, 2)
        self.assertEqual([entry for entry in seen if entry[0] == "app"],
                         [("app", True, None), ("app", True, None)])
        self.assertEqual(len(self.conn.frames), 4)

    @unittest.skipIf(sys.version_info < (3, 12), "eager tasks come with Python 3.12")
    def test_an_app_that_answers_without_waiting_has_answered_when_its_start_returns(self) -> None:
        async def app(scope, receive, send):
            await send(START)
            await send(BODY)

        seen = self.serve(app, 1)
        self.assertEqual(seen, [("handled", 1, True)])
