# Tests of the ASGI HTTP scope the runner builds from an HTTP_REQUEST frame, and hands the app.
from __future__ import annotations

import unittest

from bicorn_runner.asgi_scope import build_scope, build_websocket_scope
from bicorn_runner.frames import WsConnect

from .fakes import request, serve_asgi

EXTENSIONS = {"http.response.pathsend": {}, "http.response.early_hint": {}}


def connect(path: bytes = b"/ws", headers=None, root_path: bytes = b"") -> WsConnect:
    return WsConnect(9, "GET", "wss", "1.1", path, b"room=1", root_path, ("::1", 50123),
                     ("::1", 8000), headers or [])


class ScopeTest(unittest.TestCase):
    def test_carries_every_field_of_the_spec(self) -> None:
        scope = build_scope(request(
            method="POST", path=b"/caf%C3%A9/a%2Fb", query=b"x=1&y=%20", scheme="https",
            headers=[(b"host", b"example.com"), (b"x-tag", b"a"), (b"x-tag", b"b")],
            http_version="1.0"), {"db": "pool"})
        self.assertEqual(scope, {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.5"},
            "http_version": "1.0",
            "method": "POST",
            "scheme": "https",
            "path": "/café/a/b",
            "raw_path": b"/caf%C3%A9/a%2Fb",
            "query_string": b"x=1&y=%20",
            "root_path": "",
            "headers": [(b"host", b"example.com"), (b"x-tag", b"a"), (b"x-tag", b"b")],
            "client": ("10.0.0.7", 51000),
            "server": ("127.0.0.1", 8000),
            "state": {"db": "pool"},
            # HTTP/1.0 has no 1xx responses, so no early hints.
            "extensions": {"http.response.pathsend": {}},
        })

    def test_puts_the_root_path_in_front_of_path_and_raw_path(self) -> None:
        scope = build_scope(request(path=b"/users/7", root_path=b"/app"), {})
        self.assertEqual((scope["root_path"], scope["path"], scope["raw_path"]),
                         ("/app", "/app/users/7", b"/app/users/7"))

    def test_replaces_malformed_utf_8_and_keeps_unknown_addresses_as_none(self) -> None:
        scope = build_scope(request(path=b"/%FF", client=None, server=None), {})
        self.assertEqual(scope["path"], "/\ufffd")
        self.assertIsNone(scope["client"])
        self.assertIsNone(scope["server"])

    def test_each_call_gets_its_own_scope(self) -> None:
        scopes = []

        async def app(scope, receive, send):
            scope["asgi"]["mutated"] = True
            scopes.append(scope)
            await send({"type": "http.response.start", "status": 204})
            await send({"type": "http.response.body"})

        serve_asgi(self, app)
        serve_asgi(self, app)
        self.assertEqual(len(scopes), 2)
        self.assertIsNot(scopes[0]["asgi"], scopes[1]["asgi"])
        self.assertNotIn("mutated", build_scope(request(), {})["asgi"])

    def test_gives_each_scope_a_shallow_copy_of_the_lifespan_state(self) -> None:
        state = {"pool": ["conn"]}
        scope = build_scope(request(), state)
        scope["state"]["request_only"] = True
        self.assertEqual(state, {"pool": ["conn"]})
        self.assertIs(scope["state"]["pool"], state["pool"])

    def test_offers_trailers_only_to_a_client_that_sent_te_trailers(self) -> None:
        cases = [
            ([], False),
            ([(b"te", b"trailers")], True),
            ([(b"te", b"deflate;q=0.5, Trailers")], True),
            ([(b"te", b"gzip"), (b"te", b"trailers;q=1")], True),
            ([(b"te", b"gzip")], False),
            ([(b"x-te", b"trailers")], False),
        ]
        for headers, offered in cases:
            with self.subTest(headers=headers):
                extensions = build_scope(request(headers=headers), {})["extensions"]
                self.assertEqual("http.response.trailers" in extensions, offered)
                self.assertIn("http.response.pathsend", extensions)
                self.assertIn("http.response.early_hint", extensions)

    def test_offers_neither_trailers_nor_early_hints_to_http_1_0(self) -> None:
        for version, offered in (("1.0", {"http.response.pathsend": {}}),
                                 ("1.1", EXTENSIONS), ("2", EXTENSIONS)):
            with self.subTest(version=version):
                scope = build_scope(request(headers=[(b"te", b"trailers")],
                                            http_version=version), {})
                expected = dict(offered)
                if version != "1.0":
                    expected["http.response.trailers"] = {}
                self.assertEqual(scope["extensions"], expected)


class WebSocketScopeTest(unittest.TestCase):
    def test_carries_every_field_of_the_spec(self) -> None:
        scope = build_websocket_scope(connect(
            path=b"/ws/r%C3%A9", headers=[(b"host", b"example.com"),
                                          (b"sec-websocket-protocol", b"chat, superchat")]),
            {"n": 1})
        self.assertEqual(scope, {
            "type": "websocket",
            "asgi": {"version": "3.0", "spec_version": "2.4"},
            "http_version": "1.1",
            "scheme": "wss",
            "path": "/ws/ré",
            "raw_path": b"/ws/r%C3%A9",
            "query_string": b"room=1",
            "root_path": "",
            "headers": [(b"host", b"example.com"), (b"sec-websocket-protocol", b"chat, superchat")],
            "client": ("::1", 50123),
            "server": ("::1", 8000),
            "subprotocols": ["chat", "superchat"],
            "state": {"n": 1},
            "extensions": {"websocket.http.response": {}},
        })

    def test_puts_the_root_path_in_front_and_reads_every_subprotocol_header(self) -> None:
        scope = build_websocket_scope(connect(
            path=b"/live", root_path=b"/app",
            headers=[(b"sec-websocket-protocol", b" a ,b,"), (b"sec-websocket-protocol", b"c")]),
            {})
        self.assertEqual((scope["path"], scope["raw_path"]), ("/app/live", b"/app/live"))
        self.assertEqual(scope["subprotocols"], ["a", "b", "c"])
        self.assertEqual(build_websocket_scope(connect(), {})["subprotocols"], [])


if __name__ == "__main__":
    unittest.main()
