# Tests of the ASGI HTTP extensions the runner offers, as frames: response trailers, pathsend and
# early hints (their rules are pinned by protocol's send vectors: test_send_vectors.py).
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
            HttpResponse(1, 200, [(b"x-a", b"1")], trailers=True),
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

    def test_is_followed_by_the_trailers_its_start_announced(self) -> None:
        path = os.path.join(os.sep, "srv", "a.css")
        exchange = serve_asgi(self, app_sending(
            start(trailers=True), {"type": "http.response.pathsend", "path": path},
            trailers([(b"x-checksum", b"9")])), TE_TRAILERS)
        self.assertEqual(exchange.conn.frames, [
            HttpResponse(1, 200, [(b"x-a", b"1")], trailers=True),
            HttpPathsend(1, os.fsencode(path)),
            HttpTrailers(1, [(b"x-checksum", b"9")]),
        ])
        self.assertIsNone(exchange.error())
        self.assertTrue(exchange.ended.is_set())

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

    def test_goes_to_the_worker_whatever_the_http_version_for_it_to_judge(self) -> None:
        exchange = serve_asgi(self, app_sending(self.hint(), start(), body(b"page")),
                              request(http_version="1.0"))
        self.assertEqual([type(frame) for frame in exchange.conn.frames],
                         [HttpEarlyHint, HttpResponse, HttpResponseBody])
        self.assertIsNone(exchange.error())

    def test_is_refused_after_the_start_even_while_the_head_waits_for_the_body(self) -> None:
        exchange = serve_asgi(self, app_sending(start(), self.hint(), body(b"page")))
        self.assertEqual(exchange.conn.of_type(HttpEarlyHint), [])
        self.assertIn("http.response.early_hint sent after http.response.start",
                      exchange.error())

if __name__ == "__main__":
    unittest.main()
