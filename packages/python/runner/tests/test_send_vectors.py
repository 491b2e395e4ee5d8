# The vectors of protocol's send/SPEC.md against the runner, as the TypeScript suite runs them
# against the gateway: each vector's app served by the real WSGI handler or ASGI server over a
# fake connection. A rule on the app's side must raise in the app, the error reaching the
# worker; a rule on the worker's side must find the app's output passed on as the app gave it.
from __future__ import annotations

import unittest
from typing import Any, Dict, List

from bicorn_runner.frames import (HttpEarlyHint, HttpPathsend, HttpResponse, HttpResponseBody,
                                  HttpTrailers, WsAccept, WsClose, WsMessage)

from .fakes import Recorded, WebSocketExchange, request, serve, serve_asgi, ws_connect
from .send_vectors import (VECTORS, answering, asgi_events, playing, vector_file,
                           wsgi_response)


def http_request(vector: Dict[str, Any]) -> Any:
    spec = vector.get("request", {})
    return request(method=spec.get("method", "GET"), http_version=spec.get("httpVersion", "1.1"),
                   headers=[(n.encode("latin-1"), v.encode("latin-1"))
                            for n, v in spec.get("headers", [])])


def names_and_values(headers: Any) -> List[List[str]]:
    return [[name.decode("latin-1"), value.decode("latin-1")] for name, value in headers]


class SendVectorTest(unittest.TestCase):
    def test_http_vectors_against_wsgi_apps(self) -> None:
        for vector in VECTORS["http"]:
            parts = wsgi_response(vector)
            if parts is None:
                continue
            with self.subTest(vector["name"]):
                self.check_http(serve(answering(*parts), http_request(vector)), vector)

    def test_http_vectors_against_asgi_apps(self) -> None:
        for vector in VECTORS["http"]:
            events = asgi_events(vector)
            if events is None:
                continue
            with self.subTest(vector["name"]):
                self.check_http(serve_asgi(self, playing(events), http_request(vector)), vector)

    def test_websocket_vectors(self) -> None:
        for vector in VECTORS["websocket"]:
            with self.subTest(vector["name"]):
                offered = ", ".join(vector.get("request", {}).get("subprotocols", []))
                headers = [(b"sec-websocket-protocol", offered.encode())] if offered else []
                exchange = WebSocketExchange(self, playing(asgi_events(vector) or []),
                                             ws_connect(headers=headers))
                self.check_websocket(exchange.join(), vector)

    def check_http(self, exchange: Recorded, vector: Dict[str, Any]) -> None:
        expect = vector["expect"]
        error = expect.get("error")
        if vector["side"] == "app" and error is not None:
            self.assertIn(error, exchange.error() or "no error")
        else:
            # The worker's rules: the runner passes the app's output on as it is.
            self.assertIsNone(exchange.error())
        heads = exchange.conn.of_type(HttpResponse)
        if expect["status"] == 500 and vector["side"] == "app":
            self.assertEqual(heads, [], "a refused response sends no head")
            return
        (head,) = heads
        if vector["side"] == "app":
            self.assertEqual(head.status, expect["status"])
        if "headers" in expect:
            self.check_headers(names_and_values(head.headers), expect)
        if vector["side"] == "worker" or expect.get("complete", True) is False:
            return
        pathsends = exchange.conn.of_type(HttpPathsend)
        if pathsends:
            self.assertEqual(pathsends[0].path.decode(), vector_file())
        elif "body" in expect:
            self.assertEqual(exchange.body().decode("latin-1"), expect["body"])
        trailers = [h for frame in exchange.conn.of_type(HttpTrailers) for h in frame.headers]
        self.assertEqual(names_and_values(trailers), expect.get("trailers", []))
        self.assertEqual(head.trailers, "trailers" in expect)
        hints = [[link.decode("latin-1") for link in f.links]
                 for f in exchange.conn.of_type(HttpEarlyHint)]
        self.assertEqual(hints, expect.get("hints", []))

    def check_headers(self, sent: List[List[str]], expect: Dict[str, Any]) -> None:
        """The runner sends the headers the client is to get, in order, and those the worker
        drops; a Content-Length the worker adds (a pathsend's) is not among them."""
        dropped = expect.get("dropped", [])
        kept = [header for header in sent if header[0] not in dropped]
        wanted = [h for h in expect.get("headers", []) if h[0] != "content-length" or any(
            name == "content-length" for name, _ in sent)]
        self.assertEqual(kept, wanted)
        self.assertEqual([name for name, _ in sent if name in dropped], dropped)

    def check_websocket(self, exchange: WebSocketExchange, vector: Dict[str, Any]) -> None:
        expect = vector["expect"]
        frames = exchange.conn.frames
        error = expect.get("error")
        if error is not None:
            self.assertIn(error, exchange.error() or "no error")
        else:
            self.assertIsNone(exchange.error())
        accepts = [f for f in frames if isinstance(f, WsAccept)]
        status = expect["status"]
        if status == 101:
            (accept,) = accepts
            self.assertEqual(accept.subprotocol or None, expect["subprotocol"])
            self.check_headers(names_and_values(accept.headers), expect)
            messages = [{"text": f.body.decode()} if f.text else {"bytes": f.body.decode("latin-1")}
                        for f in frames if isinstance(f, WsMessage)]
            self.assertEqual(messages, expect["messages"])
            closes = [(f.code, f.reason) for f in frames if isinstance(f, WsClose)]
            closed = expect["closed"]
            # A close 1011 is the worker's answer to the error, once open.
            self.assertEqual(closes, [] if closed["code"] == 1011 else [(closed["code"],
                                                                         closed["reason"])])
            return
        self.assertEqual(accepts, [])
        if status == 403 and "headers" not in expect:
            # A close before the accept, which the worker answers 403.
            self.assertEqual([type(f) for f in frames], [WsClose])
        elif status == 500:
            self.assertEqual(exchange.conn.of_type(HttpResponse), [])
        else:
            (head,) = exchange.conn.of_type(HttpResponse)
            self.assertEqual(head.status, status)
            self.check_headers(names_and_values(head.headers), expect)
            if expect.get("complete", True):
                body = b"".join(bytes(f.body) for f in exchange.conn.of_type(HttpResponseBody))
                self.assertEqual(body.decode("latin-1"), expect["body"])


if __name__ == "__main__":
    unittest.main()
