# Tests of an ASGI app's receive() in the runner: the request body as http.request events, the
# credit its bytes earn, and http.disconnect.
from __future__ import annotations

import asyncio
import queue
import threading
import unittest

from bicorn_runner.frames import Credit

from .fakes import TIMEOUT, AsgiExchange, request, serve_asgi

START = {"type": "http.response.start", "status": 200, "headers": []}


def body_of(event):
    return (event["type"], bytes(event.get("body", b"")), event.get("more_body"))


class RequestBodyTest(unittest.TestCase):
    def test_a_request_without_a_body_is_one_empty_final_event(self) -> None:
        events = []

        async def app(scope, receive, send):
            events.append(await receive())
            await send(START)
            await send({"type": "http.response.body", "body": b"ok"})
            events.append(await receive())

        exchange = serve_asgi(self, app)
        self.assertEqual(events, [{"type": "http.request", "body": b"", "more_body": False},
                                  {"type": "http.disconnect"}])
        self.assertTrue(exchange.completed())

    def test_streams_the_body_as_it_arrives_and_credits_what_was_read(self) -> None:
        seen: "queue.Queue[tuple]" = queue.Queue()

        async def app(scope, receive, send):
            chunks = []
            while True:
                event = await receive()
                seen.put(body_of(event))
                chunks.append(event["body"])
                if not event["more_body"]:
                    break
            await send(START)
            await send({"type": "http.response.body", "body": b"|".join(chunks)})

        exchange = AsgiExchange(self, app, request(more=True), window=1000)
        exchange.stream.feed(b"hello ", more=True)
        self.assertEqual(seen.get(timeout=TIMEOUT), ("http.request", b"hello ", True))
        exchange.conn.wait_for("the credit", lambda frames: Credit(1, 6) in frames)
        exchange.stream.feed(b"world", more=True)
        self.assertEqual(seen.get(timeout=TIMEOUT), ("http.request", b"world", True))
        exchange.stream.feed(b"", more=False)
        self.assertEqual(seen.get(timeout=TIMEOUT), ("http.request", b"", False))
        exchange.join()
        self.assertEqual(exchange.body(), b"hello |world|")
        self.assertTrue(exchange.ended.is_set())

    def test_hands_over_what_is_buffered_in_one_event(self) -> None:
        events = []
        fed = threading.Event()

        async def app(scope, receive, send):
            # receive() only once all three pieces are buffered, however the threads run.
            await asyncio.get_running_loop().run_in_executor(None, fed.wait, TIMEOUT)
            events.append(body_of(await receive()))
            await send(START)
            await send({"type": "http.response.body"})

        exchange = AsgiExchange(self, app, request(more=True))
        for piece, more in ((b"a" * 10, True), (b"b" * 10, True), (b"c", False)):
            exchange.stream.feed(piece, more)
        fed.set()
        exchange.join()
        self.assertEqual(events, [("http.request", b"a" * 10 + b"b" * 10 + b"c", False)])


class DisconnectTest(unittest.TestCase):
    def test_a_client_that_leaves_ends_a_wait_for_the_body(self) -> None:
        waiting: "queue.Queue[bool]" = queue.Queue()
        events = []

        async def app(scope, receive, send):
            waiting.put(True)
            events.append(await receive())

        exchange = AsgiExchange(self, app, request(more=True))
        waiting.get(timeout=TIMEOUT)
        exchange.stream.disconnect()
        exchange.join()
        self.assertEqual(events, [{"type": "http.disconnect"}])
        self.assertEqual(exchange.conn.frames, [])
        self.assertTrue(exchange.ended.is_set())

    def test_after_the_response_receive_says_disconnect_without_waiting_for_the_body(self) -> None:
        events = []

        async def app(scope, receive, send):
            await send(START)
            await send({"type": "http.response.body", "body": b"early"})
            events.append(await receive())

        exchange = AsgiExchange(self, app, request(more=True)).join()
        self.assertEqual(events, [{"type": "http.disconnect"}])
        self.assertFalse(exchange.ended.is_set())
        exchange.stream.feed(b"late", more=False)
        self.assertTrue(exchange.ended.is_set())

    def test_a_client_that_leaves_mid_response_is_seen_by_receive_and_send(self) -> None:
        streaming: "queue.Queue[bool]" = queue.Queue()
        outcome = []

        async def app(scope, receive, send):
            await receive()
            await send(START)
            await send({"type": "http.response.body", "body": b"tick", "more_body": True})
            streaming.put(True)
            outcome.append(await receive())
            try:
                await send({"type": "http.response.body", "body": b"tock", "more_body": True})
            except OSError as error:
                outcome.append(type(error).__name__)
                raise

        exchange = AsgiExchange(self, app)
        streaming.get(timeout=TIMEOUT)
        exchange.stream.disconnect()
        exchange.join()
        self.assertEqual(outcome, [{"type": "http.disconnect"}, "ClientDisconnected"])
        self.assertEqual(exchange.body(), b"tick")
        self.assertIsNone(exchange.error())
        self.assertTrue(exchange.ended.is_set())


if __name__ == "__main__":
    unittest.main()
