# Tests of the ASGI HTTP extensions the runner offers: response trailers, pathsend and early hints.
from __future__ import annotations

import os
import unittest

from bicorn_runner.frames import (HttpEarlyHint, HttpPathsend, HttpResponse, HttpResponseBody,
                                  HttpTrailers)

from .fakes import request, serve_asgi

TE_TRAILERS = request(headers=[(b"te", b"trailers")])


def app_sending(*events, scopes=None):
    async def app(scope, receive, send):
        if scopes is not None:
            scopes.append(scope)
        for event in events:
            await send(event)
    return app


def start(trailers=False, status=200):
    return {"type": "http.response.start", "status": status, "headers": [(b"x-a", b"1")],
            "trailers": trailers}


def body(data=b"", more=False):
    return {"type": "http.response.body", "body": data, "more_body": more}


def trailers(headers, more=False):
    return {"type": "http.response.trailers", "headers": headers, "more_trailers": more}


class TrailersTest(unittest.TestCase):
    def test_the_last_body_frame_says_more_and_the_trailers_end_the_response(self) -> None:
        exchange = serve_asgi(self, app_sending(
            start(trailers=True), body(b"data", more=True), body(b"end"),
            trailers([(b"Grpc-Status", b"0")])), TE_TRAILERS)
        self.assertEqual(exchange.conn.frames, [
            HttpResponse(1, 200, [(b"x-a", b"1")]),
            HttpResponseBody(1, True, b"data"),
            HttpResponseBody(1, True, b"end"),
            HttpTrailers(1, [(b"grpc-status", b"0")]),
        ])
        self.assertTrue(exchange.ended.is_set())
        self.assertIsNone(exchange.error())

    def test_gathers_trailers_sent_with_more_trailers_into_one_frame(self) -> None:
        exchange = serve_asgi(self, app_sending(
            start(trailers=True), body(), trailers([(b"a", b"1")], more=True),
            trailers([(b"b", b"2")])), TE_TRAILERS)
        self.assertEqual(exchange.conn.frames[1:], [
            HttpResponseBody(1, True, b""),
            HttpTrailers(1, [(b"a", b"1"), (b"b", b"2")]),
        ])

    def test_is_offered_only_with_te_trailers(self) -> None:
        scopes: list = []
        serve_asgi(self, app_sending(start(), body(), scopes=scopes))
        serve_asgi(self, app_sending(start(), body(), scopes=scopes), TE_TRAILERS)
        self.assertEqual(["http.response.trailers" in scope["extensions"] for scope in scopes],
                         [False, True])

    def test_an_app_that_returns_without_the_announced_trailers_fails(self) -> None:
        exchange = serve_asgi(self, app_sending(start(trailers=True), body(b"x")), TE_TRAILERS)
        self.assertEqual(exchange.body(), b"x")
        self.assertIn("returned without sending the http.response.trailers", exchange.error())

    def test_refuses_trailers_out_of_order_naming_the_rule(self) -> None:
        cases = [
            ((start(trailers=True), body(b"x", more=True), trailers([])),
             "http.response.trailers sent before the final http.response.body"),
            ((start(), body(b"x", more=True), trailers([])),
             "http.response.trailers sent, but http.response.start did not set 'trailers'"),
            ((start(trailers=True), body(b"x"), body(b"y")),
             "http.response.body sent after the final http.response.body"),
            ((trailers([]),), "http.response.trailers sent before http.response.start"),
        ]
        for events, rule in cases:
            with self.subTest(rule):
                exchange = serve_asgi(self, app_sending(*events), TE_TRAILERS)
                self.assertIn(f"ASGI event order violated: {rule}", exchange.error())

    def test_refuses_trailers_with_a_content_length_naming_both(self) -> None:
        exchange = serve_asgi(self, app_sending(
            {"type": "http.response.start", "status": 200, "trailers": True,
             "headers": [(b"content-length", b"4")]}, body(b"data"), trailers([])), TE_TRAILERS)
        self.assertEqual(exchange.conn.of_type(HttpResponse), [])
        self.assertIn("http.response.start: 'trailers' is True, so the body is chunked; drop "
                      "the content-length header", exchange.error())

    def test_checks_trailer_headers_as_response_headers(self) -> None:
        exchange = serve_asgi(self, app_sending(
            start(trailers=True), body(), trailers([(b"x", b"a\nb")])), TE_TRAILERS)
        self.assertIn("http.response.trailers: headers[0]: response header 'x': a control "
                      "character", exchange.error())


class PathsendTest(unittest.TestCase):
    def test_sends_the_head_and_the_path_and_ends_the_response(self) -> None:
        events = []
        path = os.path.join(os.sep, "srv", "static", "café.css")

        async def app(scope, receive, send):
            self.assertIn("http.response.pathsend", scope["extensions"])
            await send(start())
            await send({"type": "http.response.pathsend", "path": path})
            events.append(await receive())

        exchange = serve_asgi(self, app)
        self.assertEqual(exchange.conn.frames, [
            HttpResponse(1, 200, [(b"x-a", b"1")]),
            HttpPathsend(1, os.fsencode(path)),
        ])
        self.assertEqual(events, [{"type": "http.disconnect"}])
        self.assertTrue(exchange.ended.is_set())

    def test_refuses_a_relative_path_or_one_that_is_not_a_str(self) -> None:
        for path, message in (("static/app.css", "'path' must be absolute"),
                              (b"/srv/app.css", "'path' must be a str, got bytes")):
            with self.subTest(path=path):
                exchange = serve_asgi(self, app_sending(
                    start(), {"type": "http.response.pathsend", "path": path}))
                self.assertIn(f"http.response.pathsend: {message}", exchange.error())

    def test_refuses_pathsend_after_body_or_with_trailers(self) -> None:
        pathsend = {"type": "http.response.pathsend", "path": "/srv/a"}
        cases = [
            ((start(), body(b"x", more=True), pathsend),
             "http.response.pathsend sent after http.response.body"),
            ((start(trailers=True), pathsend),
             "http.response.pathsend sent, but http.response.start announced trailers"),
            ((pathsend,), "http.response.pathsend sent before http.response.start"),
        ]
        for events, rule in cases:
            with self.subTest(rule):
                exchange = serve_asgi(self, app_sending(*events), TE_TRAILERS)
                self.assertIn(f"ASGI event order violated: {rule}", exchange.error())
                self.assertEqual(exchange.conn.of_type(HttpPathsend), [])


class EarlyHintTest(unittest.TestCase):
    LINKS = [b"</style.css>; rel=preload; as=style", b"</app.js>; rel=preload; as=script"]

    def hint(self, links=None):
        return {"type": "http.response.early_hint", "links": links or self.LINKS}

    def test_goes_out_at_once_before_the_response(self) -> None:
        exchange = serve_asgi(self, app_sending(self.hint(), start(), body(b"page")))
        self.assertEqual(exchange.conn.frames, [
            HttpEarlyHint(1, self.LINKS),
            HttpResponse(1, 200, [(b"x-a", b"1")]),
            HttpResponseBody(1, False, b"page"),
        ])

    def test_may_follow_start_while_the_head_still_waits_for_the_body(self) -> None:
        exchange = serve_asgi(self, app_sending(start(), self.hint(), body(b"page")))
        self.assertEqual([type(frame) for frame in exchange.conn.frames],
                         [HttpEarlyHint, HttpResponse, HttpResponseBody])

    def test_is_dropped_for_an_http_1_0_client_which_was_not_offered_it(self) -> None:
        exchange = serve_asgi(self, app_sending(self.hint(), start(), body(b"page")),
                              request(http_version="1.0"))
        self.assertEqual([type(frame) for frame in exchange.conn.frames],
                         [HttpResponse, HttpResponseBody])
        self.assertIsNone(exchange.error())

    def test_refuses_a_hint_after_the_head_went_out(self) -> None:
        exchange = serve_asgi(self, app_sending(start(), body(b"a", more=True), self.hint()))
        self.assertIn("http.response.early_hint sent after the response head went out",
                      exchange.error())

    def test_refuses_links_that_are_not_byte_strings_or_carry_control_characters(self) -> None:
        cases = [
            (b"</a>", "'links' must be an iterable of byte strings, got bytes"),
            (7, "'links' must be an iterable of byte strings, got int"),
            (["</a>"], "links[0] must be bytes, got str"),
            ([b"</a>", b"</b>\r\nx: y"], "links[1]: response header 'link': a control character"),
        ]
        for links, message in cases:
            with self.subTest(message):
                exchange = serve_asgi(self, app_sending(
                    {"type": "http.response.early_hint", "links": links}))
                self.assertIn(f"http.response.early_hint: {message}", exchange.error())
                self.assertEqual(exchange.conn.of_type(HttpEarlyHint), [])


if __name__ == "__main__":
    unittest.main()
