# Tests of per-stream credit flow control in the runner, in both directions, with a fake connection.
from __future__ import annotations

import unittest

from bicorn_runner.frames import Credit, HttpResponseBody, ProtocolError
from bicorn_runner.streams import Stream

from .fakes import Exchange, FakeConnection, request


def body_bytes_sent(frames) -> int:
    return sum(len(f.body) for f in frames if isinstance(f, HttpResponseBody))


class ResponseWindowTest(unittest.TestCase):
    def test_a_response_larger_than_the_window_waits_for_credit(self) -> None:
        exchange = Exchange(lambda e, s: (s("200 OK", []), [b"x" * 2500])[1], window=1000)
        conn = exchange.conn
        conn.wait_for("the first window", lambda frames: body_bytes_sent(frames) == 1000)
        self.assertTrue(exchange.thread.is_alive())
        exchange.stream.credit(1000)
        conn.wait_for("the second window", lambda frames: body_bytes_sent(frames) == 2000)
        self.assertTrue(exchange.thread.is_alive())
        self.assertEqual(body_bytes_sent(conn.frames), 2000)
        exchange.stream.credit(4000)
        exchange.join()
        self.assertEqual(exchange.body(), b"x" * 2500)
        self.assertTrue(exchange.completed())

    def test_a_disconnect_releases_an_app_waiting_for_credit(self) -> None:
        closed = []

        class Body:
            def __iter__(self):
                yield b"y" * 1500

            def close(self):
                closed.append(True)
        exchange = Exchange(lambda e, s: (s("200 OK", []), Body())[1], window=1000)
        exchange.conn.wait_for("the window", lambda frames: body_bytes_sent(frames) == 1000)
        exchange.stream.disconnect()
        exchange.join()
        self.assertEqual(closed, [True])
        self.assertTrue(exchange.ended.is_set())
        self.assertEqual(body_bytes_sent(exchange.conn.frames), 1000)


class RequestCreditTest(unittest.TestCase):
    def open_stream(self, window: int = 1000):
        conn = FakeConnection()
        return conn, Stream(request(more=True), window, conn, lambda s: None)

    def test_credits_read_bytes_in_batches_of_a_quarter_window(self) -> None:
        conn, stream = self.open_stream()
        stream.feed(b"a" * 1000, more=True)
        stream.read_some(100)
        self.assertEqual(conn.of_type(Credit), [])
        stream.read_some(200)
        self.assertEqual(conn.of_type(Credit), [Credit(1, 300)])

    def test_credits_what_was_read_when_the_buffer_drains(self) -> None:
        conn, stream = self.open_stream()
        stream.feed(b"a" * 100, more=True)
        stream.read_some(1000)
        self.assertEqual(conn.of_type(Credit), [Credit(1, 100)])

    def test_sends_no_credit_once_the_body_is_complete(self) -> None:
        conn, stream = self.open_stream()
        stream.feed(b"a" * 600, more=False)
        stream.read_some(1000)
        self.assertEqual(conn.of_type(Credit), [])

    def test_refuses_body_bytes_beyond_the_window(self) -> None:
        _conn, stream = self.open_stream()
        stream.feed(b"a" * 900, more=True)
        stream.read_some(100)
        with self.assertRaises(ProtocolError):
            stream.feed(b"a" * 101, more=True)

    def test_credits_and_drops_a_body_the_app_left_unread(self) -> None:
        ended = []
        conn = FakeConnection()
        stream = Stream(request(more=True), 1000, conn, ended.append)
        stream.feed(b"a" * 1000, more=True)
        stream.finish()
        self.assertEqual(conn.of_type(Credit), [Credit(1, 1000)])
        stream.feed(b"b" * 1000, more=True)
        self.assertEqual(conn.of_type(Credit), [Credit(1, 1000), Credit(1, 1000)])
        self.assertEqual(ended, [])
        stream.feed(b"c" * 10, more=False)
        self.assertEqual(ended, [stream])


if __name__ == "__main__":
    unittest.main()
