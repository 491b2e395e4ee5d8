# Tests of the runner's dispatcher: frames routed to HTTP and WebSocket streams, and refused when
# they do not fit the stream they name.
from __future__ import annotations

import unittest
from typing import Any, List

from bicorn_runner.dispatch import Dispatcher
from bicorn_runner.frames import (Credit, HttpBody, HttpClosed, HttpDisconnect, HttpError,
                                  HttpWithdraw, HttpWithdrawn, Ping, Pong, ProtocolError, WsClose,
                                  WsMessage)

from .fakes import FakeConnection, request, ws_connect


class DispatcherHarness:
    def __init__(self, websockets: bool = True, window: int = 1000) -> None:
        self.conn = FakeConnection()
        connection: Any = self.conn
        self.dispatcher = Dispatcher(connection, window)
        self.started: List[Any] = []
        self.dispatcher.serve(self.started.append, lambda handler, stream: handler(stream),
                              self.started.append if websockets else None)


class QueuedHarness:
    """A pool with no free thread: submitted work waits until run_next()."""

    def __init__(self) -> None:
        self.conn = FakeConnection()
        connection: Any = self.conn
        self.dispatcher = Dispatcher(connection, 1000)
        self.started: List[Any] = []
        self.queue: List[Any] = []
        self.dispatcher.serve(self.started.append,
                              lambda handler, stream: self.queue.append((handler, stream)))

    def run_next(self) -> None:
        handler, item = self.queue.pop(0)
        handler(item)


class DispatchTest(unittest.TestCase):
    def test_withdraws_a_request_no_thread_has_taken(self) -> None:
        harness = QueuedHarness()
        harness.dispatcher.on_frame(request(stream=4))
        harness.dispatcher.on_frame(HttpWithdraw(4))
        self.assertEqual(harness.conn.of_type(HttpWithdrawn), [HttpWithdrawn(4)])
        # The thread that comes to it later finds nothing to run, and the id may be used again.
        harness.run_next()
        self.assertEqual(harness.started, [])
        harness.dispatcher.on_frame(request(stream=4))
        harness.run_next()
        self.assertEqual(len(harness.started), 1)

    def test_a_request_the_app_has_taken_is_not_withdrawn(self) -> None:
        harness = QueuedHarness()
        harness.dispatcher.on_frame(request(stream=4))
        harness.run_next()
        harness.dispatcher.on_frame(HttpWithdraw(4))
        self.assertEqual(harness.conn.of_type(HttpWithdrawn), [])
        self.assertEqual(len(harness.started), 1)

    def test_a_request_whose_client_left_before_it_started_never_reaches_the_app(self) -> None:
        harness = QueuedHarness()
        harness.dispatcher.on_frame(request(stream=4))
        harness.dispatcher.on_frame(HttpDisconnect(4))
        harness.run_next()
        self.assertEqual(harness.started, [])
        self.assertEqual(harness.conn.of_type(HttpClosed), [HttpClosed(4)])

    def test_routes_websocket_frames_to_their_stream(self) -> None:
        harness = DispatcherHarness()
        harness.dispatcher.on_frame(ws_connect(stream=3))
        (stream,) = harness.started
        harness.dispatcher.on_frame(WsMessage(3, False, True, b"hi"))
        harness.dispatcher.on_frame(Credit(3, 10))
        self.assertEqual(stream.take_message(), (True, b"hi"))
        self.assertEqual(stream.try_acquire(2000), 1010)
        harness.dispatcher.on_frame(WsClose(3, 1001, "bye"))
        self.assertEqual(stream.closed(), (1001, "bye"))
        stream.finish()
        # A frame that crossed the stream's end on the way is dropped.
        harness.dispatcher.on_frame(WsMessage(3, False, False, b"late"))

    def test_a_wsgi_app_answers_a_websocket_with_http_error(self) -> None:
        harness = DispatcherHarness(websockets=False)
        harness.dispatcher.on_frame(ws_connect(stream=5))
        self.assertEqual(harness.started, [])
        (error,) = harness.conn.of_type(HttpError)
        self.assertEqual(error.stream, 5)
        self.assertIn("a WSGI app cannot serve WebSocket connections", error.message)

    def test_answers_a_ping_with_a_pong_of_the_same_number(self) -> None:
        harness = DispatcherHarness()
        harness.dispatcher.on_frame(Ping(0, 41))
        self.assertEqual(harness.conn.frames, [Pong(0, 41)])

    def test_says_when_the_app_lets_go_of_a_stream_the_worker_disconnected(self) -> None:
        harness = DispatcherHarness()
        harness.dispatcher.on_frame(request(stream=4))
        harness.dispatcher.on_frame(request(stream=5))
        first, second = harness.started
        harness.dispatcher.on_frame(HttpDisconnect(4))
        self.assertEqual(harness.conn.of_type(HttpClosed), [])
        first.finish()
        second.finish()
        # Only the disconnected stream: the worker knows the other one ended from its response.
        self.assertEqual(harness.conn.of_type(HttpClosed), [HttpClosed(4)])

    def test_refuses_frames_of_the_wrong_kind_for_a_stream(self) -> None:
        harness = DispatcherHarness()
        harness.dispatcher.on_frame(request(stream=1, more=True))
        harness.dispatcher.on_frame(ws_connect(stream=2))
        with self.assertRaisesRegex(ProtocolError, "WsMessage on stream 1, which is not a "
                                                   "WebSocket stream"):
            harness.dispatcher.on_frame(WsMessage(1, False, False, b"x"))
        with self.assertRaisesRegex(ProtocolError, "HttpBody on stream 2, which is not an HTTP"):
            harness.dispatcher.on_frame(HttpBody(2, False, b"x"))

    def test_refuses_a_stream_id_that_is_open(self) -> None:
        harness = DispatcherHarness()
        harness.dispatcher.on_frame(ws_connect(stream=2))
        with self.assertRaisesRegex(ProtocolError, "stream 2, which is open"):
            harness.dispatcher.on_frame(request(stream=2))

    def test_refuses_websocket_bytes_beyond_the_window(self) -> None:
        harness = DispatcherHarness(window=10)
        harness.dispatcher.on_frame(ws_connect(stream=2))
        # An unfinished message with none before it is credited as it arrives: it does not count.
        harness.dispatcher.on_frame(WsMessage(2, True, False, b"w" * 4))
        harness.dispatcher.on_frame(WsMessage(2, False, False, b"x" * 6))
        # Behind a message the app has not taken, the next one's pieces count.
        harness.dispatcher.on_frame(WsMessage(2, True, False, b"y" * 4))
        with self.assertRaisesRegex(ProtocolError, "11 WebSocket bytes sent and not credited"):
            harness.dispatcher.on_frame(WsMessage(2, False, False, b"y" * 1))


if __name__ == "__main__":
    unittest.main()
