# Tests of the ASGI HTTP scope the runner builds from an HTTP_REQUEST frame, and hands the app.
from __future__ import annotations

import unittest

from bicorn_runner.asgi_scope import build_scope

from .fakes import request, serve_asgi


class ScopeTest(unittest.TestCase):
    def test_carries_every_field_of_the_spec(self) -> None:
        scope = build_scope(request(
            method="POST", path=b"/caf%C3%A9/a%2Fb", query=b"x=1&y=%20", scheme="https",
            headers=[(b"host", b"example.com"), (b"x-tag", b"a"), (b"x-tag", b"b")],
            http_version="1.0"))
        self.assertEqual(scope, {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.4"},
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
            "extensions": {},
        })
        self.assertNotIn("state", scope)

    def test_puts_the_root_path_in_front_of_path_and_raw_path(self) -> None:
        scope = build_scope(request(path=b"/users/7", root_path=b"/app"))
        self.assertEqual((scope["root_path"], scope["path"], scope["raw_path"]),
                         ("/app", "/app/users/7", b"/app/users/7"))

    def test_replaces_malformed_utf_8_and_keeps_unknown_addresses_as_none(self) -> None:
        scope = build_scope(request(path=b"/%FF", client=None, server=None))
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
        self.assertNotIn("mutated", build_scope(request())["asgi"])


if __name__ == "__main__":
    unittest.main()
