# Tests of an ASGI app's send() in the runner: the response as frames, the send window, the
# event order, and what the worker is told when the app fails (the rules for each event are
# pinned by protocol's send vectors: test_send_vectors.py).
from __future__ import annotations

import asyncio
import unittest
from http import HTTPStatus

from bicorn_runner.asgi_server import as_asgi3
from bicorn_runner.frames import HttpResponse, HttpResponseBody

from .fakes import AsgiExchange, serve_asgi

START = {"type": "http.response.start", "status": 200,
         "headers": [(b"content-type", b"text/plain")]}


def app_sending(*events):
    async def app(scope, receive, send):
        for event in events:
            await send(event)
    return app


def body(data=b"", more=False):
    return {"type": "http.response.body", "body": data, "more_body": more}


def body_bytes_sent(frames) -> int:
    return sum(len(f.body) for f in frames if isinstance(f, HttpResponseBody))


class ResponseTest(unittest.TestCase):
    def test_a_small_response_is_a_head_and_one_body_frame(self) -> None:
        exchange = serve_asgi(self, app_sending(START, body(b"hello")))
        self.assertEqual(exchange.conn.frames, [
            HttpResponse(1, 200, [(b"content-type", b"text/plain")]),
            HttpResponseBody(1, False, b"hello"),
        ])
        self.assertTrue(exchange.ended.is_set())

    def test_events_off_the_common_shape_give_the_same_frames(self) -> None:
        # A status that is an int subclass, and bodies that are not bytes: send()'s general way,
        # beside the plain start and bytes body of its quick one.
        exchange = serve_asgi(self, app_sending(
            dict(START, status=HTTPStatus.CREATED), body(bytearray(b"one "), more=True),
            body(memoryview(b"two"), more=True), body(b"!")))
        self.assertEqual(exchange.conn.frames, [
            HttpResponse(1, 201, [(b"content-type", b"text/plain")]),
            HttpResponseBody(1, True, b"one "),
            HttpResponseBody(1, True, b"two"),
            HttpResponseBody(1, False, b"!"),
        ])

    def test_streams_a_response_sent_with_more_body(self) -> None:
        exchange = serve_asgi(self, app_sending(
            {"type": "http.response.start", "status": 201,
             "headers": [[b"X-Mixed-Case", b" padded "]]},
            body(more=True), body(b"one ", more=True), body(b"two", more=True), body()))
        self.assertEqual(exchange.conn.frames, [
            HttpResponse(1, 201, [(b"x-mixed-case", b"padded")]),
            HttpResponseBody(1, True, b"one "),
            HttpResponseBody(1, True, b"two"),
            HttpResponseBody(1, False, b""),
        ])

    def test_a_response_larger_than_the_window_waits_for_credit_without_blocking_the_loop(
            self) -> None:
        exchange = AsgiExchange(self, app_sending(START, body(b"x" * 2500)), window=1000)
        conn = exchange.conn
        conn.wait_for("the first window", lambda frames: body_bytes_sent(frames) == 1000)

        async def other_work() -> str:
            await asyncio.sleep(0)
            return "the loop is free"
        self.assertEqual(exchange.server.run(other_work()), "the loop is free")
        self.assertEqual(body_bytes_sent(conn.frames), 1000)
        exchange.stream.credit(1000)
        conn.wait_for("the second window", lambda frames: body_bytes_sent(frames) == 2000)
        exchange.stream.credit(4000)
        exchange.join()
        self.assertEqual(exchange.body(), b"x" * 2500)
        self.assertTrue(exchange.completed())

    def test_a_client_that_leaves_releases_a_send_waiting_for_credit(self) -> None:
        raised = []

        async def app(scope, receive, send):
            await send(START)
            try:
                await send(body(b"y" * 1500))
            except OSError as error:
                raised.append(error)
                raise

        exchange = AsgiExchange(self, app, window=1000)
        exchange.conn.wait_for("the window", lambda frames: body_bytes_sent(frames) == 1000)
        exchange.stream.disconnect()
        exchange.join()
        self.assertEqual([type(error).__name__ for error in raised], ["ClientDisconnected"])
        self.assertIsNone(exchange.error())
        self.assertTrue(exchange.ended.is_set())

    def test_serves_an_asgi_2_double_callable(self) -> None:
        class Asgi2:
            def __init__(self, scope):
                self.path = scope["path"]

            async def __call__(self, receive, send):
                await send(START)
                await send(body(self.path.encode()))

        self.assertEqual(serve_asgi(self, as_asgi3(Asgi2)).body(), b"/")


class EventOrderTest(unittest.TestCase):
    def test_refuses_a_body_before_start_naming_the_rule(self) -> None:
        exchange = serve_asgi(self, app_sending(body(b"x")))
        self.assertEqual(exchange.conn.of_type(HttpResponse), [])
        self.assertIn("EventOrderError: ASGI event order violated: http.response.body sent before "
                      "http.response.start", exchange.error())

    def test_refuses_a_second_start(self) -> None:
        exchange = serve_asgi(self, app_sending(START, START, body()))
        self.assertEqual(exchange.conn.of_type(HttpResponse), [])
        self.assertIn("ASGI event order violated: http.response.start sent twice",
                      exchange.error())

    def test_refuses_events_after_the_final_body_and_logs_them(self) -> None:
        exchange = serve_asgi(self, app_sending(START, body(b"done"), body(b"more")))
        self.assertTrue(exchange.completed())
        self.assertIn("ASGI event order violated: http.response.body sent after the final "
                      "http.response.body", exchange.error())

    def test_fails_the_response_when_the_app_swallows_the_violation(self) -> None:
        async def app(scope, receive, send):
            await send(START)
            await send(body(b"part", more=True))
            try:
                await send(START)
            except RuntimeError:
                pass

        exchange = serve_asgi(self, app)
        self.assertEqual(exchange.head().status, 200)
        self.assertIn("http.response.start sent twice", exchange.error())

    def test_an_app_that_returns_early_fails_its_response(self) -> None:
        exchange = serve_asgi(self, app_sending(START, body(b"half", more=True)))
        self.assertEqual(exchange.body(), b"half")
        self.assertIn("ASGI app returned before the final http.response.body", exchange.error())


class AppErrorTest(unittest.TestCase):
    def test_an_exception_before_start_sends_the_apps_traceback_only(self) -> None:
        async def app(scope, receive, send):
            1 / 0

        exchange = serve_asgi(self, app)
        self.assertEqual(exchange.conn.of_type(HttpResponse), [])
        error = exchange.error()
        self.assertIn("ZeroDivisionError: division by zero", error)
        self.assertIn("test_asgi_response.py", error)
        self.assertNotIn("bicorn_runner", error)
        self.assertTrue(exchange.ended.is_set())

    def test_an_exception_between_start_and_body_still_sends_no_head(self) -> None:
        async def app(scope, receive, send):
            await send(START)
            raise KeyError("missing")

        exchange = serve_asgi(self, app)
        self.assertEqual(exchange.conn.of_type(HttpResponse), [])
        self.assertIn("KeyError: 'missing'", exchange.error())

    def test_an_exception_after_body_bytes_fails_the_started_response(self) -> None:
        async def app(scope, receive, send):
            await send(START)
            await send(body(b"partial", more=True))
            raise ValueError("mid-body")

        exchange = serve_asgi(self, app)
        self.assertEqual(exchange.head().status, 200)
        self.assertEqual(exchange.body(), b"partial")
        self.assertIn("ValueError: mid-body", exchange.error())

    def test_system_exit_fails_one_request_and_the_loop_serves_the_next(self) -> None:
        async def app(scope, receive, send):
            raise SystemExit(3)

        exchange = serve_asgi(self, app)
        self.assertIn("SystemExit: 3", exchange.error())

        async def ping() -> str:
            return "alive"
        self.assertEqual(exchange.server.run(ping()), "alive")

    def test_an_exception_after_the_response_still_reaches_the_worker(self) -> None:
        async def app(scope, receive, send):
            await send(START)
            await send(body(b"ok"))
            raise RuntimeError("in a background task")

        exchange = serve_asgi(self, app)
        # The response is whole; the worker only logs the late error.
        self.assertTrue(exchange.completed())
        self.assertIn("RuntimeError: in a background task", exchange.error())


if __name__ == "__main__":
    unittest.main()
