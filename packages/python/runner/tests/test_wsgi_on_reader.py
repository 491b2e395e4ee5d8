# A WSGI app with one thread, run on the thread that reads the frames (wsgi_on_reader.py): a real
# runner process, spoken to in frames. Frames the reader thread cannot read during a call (a PING,
# a withdrawal, the call's own body) are read by the relief thread.
from __future__ import annotations

import os
import socket
import unittest
from typing import Any, Callable, List
from unittest import mock

from bicorn_runner import frames as f
from bicorn_runner import wsgi_on_reader
from bicorn_runner.wsgi_on_reader import OnReader

from .test_runner_process import RunnerProcess

# /hold says so on wsgi.errors, then blocks until the test writes to the FIFO `hold`: a call
# that runs as long as the test needs, with no clock involved. Every answer names the thread
# that made the call.
APP = """
    import threading

    def application(environ, start_response):
        if environ["PATH_INFO"] == "/hold":
            environ["wsgi.errors"].write("holding\\n")
            environ["wsgi.errors"].flush()
            with open("hold", "rb") as fifo:
                fifo.read(1)
        body = environ["wsgi.input"].read()
        start_response("200 OK", [])
        return [threading.current_thread().name.encode(), b"|", body]
"""


def get(stream: int, path: bytes = b"/", more: bool = False, method: str = "GET") -> f.HttpRequest:
    return f.HttpRequest(stream, more, method, "http", "1.1", path, b"", b"", None, None, [])


class OnReaderTest(unittest.TestCase):
    def start(self) -> RunnerProcess:
        runner = RunnerProcess(self, "app:application", files={"app.py": APP})
        os.mkfifo(os.path.join(runner.dir, "hold"))
        self.assertIsInstance(runner.next_frame(), f.Hello)
        self.assertEqual(runner.next_frame(), f.Ready(0, "wsgi"))
        return runner

    def answer(self, runner: RunnerProcess, stream: int) -> bytes:
        head = runner.next_response_frame()
        self.assertEqual(head, f.HttpResponse(stream, 200, []))
        return runner.read_body()

    def release(self, runner: RunnerProcess) -> None:
        with open(os.path.join(runner.dir, "hold"), "wb") as fifo:
            fifo.write(b"x")

    def test_every_call_is_made_on_the_thread_that_reads_the_frames(self) -> None:
        runner = self.start()
        # Three requests in one write, then a body that comes only after its call has begun.
        runner.send(get(1), get(2), f.HttpRequest(3, True, "POST", "http", "1.1", b"/", b"", b"",
                                                  None, None, []), f.HttpBody(3, False, b"in"))
        for stream in (1, 2):
            self.assertEqual(self.answer(runner, stream), b"bicorn-frame-reader|")
        self.assertEqual(self.answer(runner, 3), b"bicorn-frame-reader|in")
        runner.send(get(4, more=True, method="POST"))
        runner.send(f.Ping(0, 1))
        self.assertEqual(runner.next_frame(), f.Pong(0, 1))
        runner.send(f.HttpBody(4, True, b"late "), f.HttpBody(4, False, b"body"))
        self.assertEqual(self.answer(runner, 4), b"bicorn-frame-reader|late body")
        runner.send(f.Shutdown(0))
        self.assertEqual(runner.wait_exit(), 0)

    def test_the_answers_to_requests_read_together_leave_together(self) -> None:
        runner = self.start()
        # A first call, so that the next ones are as short as they are once the app is warm.
        runner.send(get(1))
        self.assertEqual(self.answer(runner, 1), b"bicorn-frame-reader|")
        runner.send(*(get(stream) for stream in range(2, 2 + wsgi_on_reader.HOLD_FROM_CALLS)))
        # The first read takes the first answers together (every one, unless the calls were
        # slower than HOLD_FOR_S in all): the worker wakes once for them.
        frames = f.FrameDecoder().feed(runner.sock.recv(65536))
        answered = [frame.stream for frame in frames
                    if isinstance(frame, f.HttpResponseBody) and not frame.more]
        self.assertGreater(len(answered), 1)
        self.assertEqual(answered, list(range(2, 2 + len(answered))))

    def test_an_answer_held_for_the_next_call_leaves_when_that_call_runs_long(self) -> None:
        runner = self.start()
        runner.send(get(1), get(2, b"/hold"))
        runner.log_until("holding")
        self.assertEqual(self.answer(runner, 1), b"bicorn-frame-reader|")
        self.release(runner)
        self.assertEqual(self.answer(runner, 2), b"bicorn-frame-reader|")

    def test_a_ping_is_answered_while_a_call_runs(self) -> None:
        runner = self.start()
        runner.send(get(1, b"/hold"))
        runner.log_until("holding")
        runner.send(f.Ping(0, 7))
        self.assertEqual(runner.next_frame(), f.Pong(0, 7))
        self.release(runner)
        self.assertEqual(self.answer(runner, 1), b"bicorn-frame-reader|")

    def test_a_request_withdrawn_while_it_waits_behind_a_call_never_reaches_the_app(self) -> None:
        runner = self.start()
        runner.send(get(1, b"/hold"), get(2))
        runner.log_until("holding")
        # The PONG shows the relief thread reads: request 2 waits behind the call.
        runner.send(f.Ping(0, 1))
        self.assertEqual(runner.next_frame(), f.Pong(0, 1))
        runner.send(f.HttpWithdraw(2))
        self.assertEqual(runner.next_frame(), f.HttpWithdrawn(2))
        runner.send(get(3))
        self.release(runner)
        self.assertEqual(self.answer(runner, 1), b"bicorn-frame-reader|")
        self.assertEqual(self.answer(runner, 3), b"bicorn-frame-reader|")

    def test_exits_when_the_worker_closes_fd_3_while_a_call_runs(self) -> None:
        runner = self.start()
        runner.send(get(1, b"/hold"))
        runner.log_until("holding")
        runner.sock.shutdown(socket.SHUT_WR)
        self.assertEqual(runner.wait_exit(), 0)

    def test_only_a_quick_apps_answers_wait_for_the_next_calls_in_a_deep_chunk(self) -> None:
        clock = [0.0]
        conn = HoldRecorder()
        reader = OnReader(conn)  # type: ignore[arg-type]
        self.addCleanup(reader.shutdown)

        def takes(seconds: float) -> Callable[[Any], None]:
            def handler(_: Any) -> None:
                clock[0] += seconds
            return handler

        def chunk(*durations: float) -> List[bool]:
            for seconds in durations:
                reader.submit(takes(seconds), None)
            conn.holds.clear()
            conn.run()
            return conn.holds

        deep = wsgi_on_reader.HOLD_FROM_CALLS
        quick, slow = wsgi_on_reader.HOLD_FOR_S / 10, wsgi_on_reader.HOLD_FOR_S * 4
        with mock.patch.object(wsgi_on_reader.time, "monotonic", lambda: clock[0]):
            # Held but the last, which no call follows.
            self.assertEqual(chunk(*[quick] * deep), [True] * (deep - 1) + [False])
            # Fewer calls than that: none waits.
            self.assertEqual(chunk(*[quick] * (deep - 1)), [False] * (deep - 1))
            # The first is held, the calls having been quick till then; once one took
            # HOLD_FOR_S, none is until one is quick again.
            holds = chunk(slow, slow, *[quick] * (deep - 2))
            self.assertEqual(holds, [True, False, False] + [True] * (deep - 4) + [False])

    def test_more_than_one_thread_keeps_the_pool(self) -> None:
        runner = RunnerProcess(self, "app:application", "--threads", "2", files={"app.py": APP})
        self.assertIsInstance(runner.next_frame(), f.Hello)
        self.assertIsInstance(runner.next_frame(), f.Ready)
        runner.send(get(1))
        self.assertTrue(self.answer(runner, 1).startswith(b"bicorn-wsgi-"))


class HoldRecorder:
    """The part of a Connection OnReader uses: records each call's hold_writes."""

    def __init__(self) -> None:
        self.holds: List[bool] = []
        self._run: Callable[[], None] = lambda: None

    def run_between_chunks(self, run: Callable[[], None], need_reader: Callable[[], None]) -> None:
        self._run = run

    def run(self) -> None:
        self._run()

    def hold_writes(self, hold: bool) -> None:
        self.holds.append(hold)

    def release_writes(self) -> None:
        pass


if __name__ == "__main__":
    unittest.main()
