# Tests of the PEP 3333 environ the runner builds from an HTTP_REQUEST frame.
from __future__ import annotations

import unittest

from bicorn_runner.wsgi_environ import build_environ

from .fakes import base, request


def environ_of(**kwargs) -> dict:
    return build_environ(request(**kwargs), base(), wsgi_input=object())


class WsgiEnvironTest(unittest.TestCase):
    def test_has_every_required_key_with_native_strings(self) -> None:
        env = environ_of(method="POST", path=b"/a", query=b"x=1",
                         headers=[(b"host", b"example.com"), (b"content-type", b"text/plain"),
                                  (b"content-length", b"3")])
        for key in ("REQUEST_METHOD", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING", "CONTENT_TYPE",
                    "CONTENT_LENGTH", "SERVER_NAME", "SERVER_PORT", "SERVER_PROTOCOL",
                    "REMOTE_ADDR", "REMOTE_PORT", "HTTP_HOST", "wsgi.url_scheme"):
            self.assertIs(type(env[key]), str, key)
        self.assertEqual(env["REQUEST_METHOD"], "POST")
        self.assertEqual((env["SCRIPT_NAME"], env["PATH_INFO"], env["QUERY_STRING"]),
                         ("", "/a", "x=1"))
        self.assertEqual((env["CONTENT_TYPE"], env["CONTENT_LENGTH"]), ("text/plain", "3"))
        self.assertNotIn("HTTP_CONTENT_TYPE", env)
        self.assertEqual((env["SERVER_NAME"], env["SERVER_PORT"]), ("127.0.0.1", "8000"))
        self.assertEqual((env["REMOTE_ADDR"], env["REMOTE_PORT"]), ("10.0.0.7", "51000"))
        self.assertEqual(env["SERVER_PROTOCOL"], "HTTP/1.1")
        self.assertEqual(env["wsgi.version"], (1, 0))
        self.assertEqual(env["wsgi.url_scheme"], "http")
        self.assertIs(env["wsgi.run_once"], False)
        self.assertIs(env["wsgi.input_terminated"], True)
        self.assertIs(env["wsgi.multithread"], False)
        self.assertIs(env["wsgi.multiprocess"], False)
        self.assertTrue(callable(env["wsgi.file_wrapper"]))

    def test_leaves_out_content_type_and_length_when_the_request_has_none(self) -> None:
        env = environ_of()
        self.assertNotIn("CONTENT_TYPE", env)
        self.assertNotIn("CONTENT_LENGTH", env)

    def test_splits_the_root_path_off_as_script_name(self) -> None:
        env = environ_of(path=b"/app/users/1", root_path=b"/app")
        self.assertEqual((env["SCRIPT_NAME"], env["PATH_INFO"]), ("/app", "/users/1"))
        env = environ_of(path=b"/app", root_path=b"/app/")
        self.assertEqual((env["SCRIPT_NAME"], env["PATH_INFO"]), ("/app", ""))

    def test_keeps_a_path_outside_the_root_path_whole(self) -> None:
        env = environ_of(path=b"/application/x", root_path=b"/app")
        self.assertEqual((env["SCRIPT_NAME"], env["PATH_INFO"]), ("/app", "/application/x"))

    def test_percent_decodes_the_path_into_latin_1(self) -> None:
        env = environ_of(path=b"/caf%C3%A9/a%20b%2Fc")
        self.assertEqual(env["PATH_INFO"], "/caf\u00c3\u00a9/a b/c")
        self.assertEqual(env["PATH_INFO"].encode("latin-1").decode("utf-8"), "/café/a b/c")

    def test_keeps_the_query_string_raw(self) -> None:
        self.assertEqual(environ_of(query=b"q=1&r=%20")["QUERY_STRING"], "q=1&r=%20")

    def test_decodes_header_values_as_latin_1(self) -> None:
        env = environ_of(headers=[(b"x-latin", b"caf\xe9")])
        self.assertEqual(env["HTTP_X_LATIN"], "caf\u00e9")

    def test_drops_headers_whose_names_contain_an_underscore(self) -> None:
        env = environ_of(headers=[(b"x-forwarded-for", b"1.1.1.1"),
                                  (b"x_forwarded_for", b"6.6.6.6")])
        self.assertEqual(env["HTTP_X_FORWARDED_FOR"], "1.1.1.1")

    def test_joins_repeated_headers_with_a_comma_and_cookies_with_a_semicolon(self) -> None:
        env = environ_of(headers=[(b"accept", b"a"), (b"accept", b"b"),
                                  (b"cookie", b"a=1"), (b"cookie", b"b=2")])
        self.assertEqual(env["HTTP_ACCEPT"], "a,b")
        self.assertEqual(env["HTTP_COOKIE"], "a=1; b=2")

    def test_takes_the_server_name_from_the_host_header_when_the_address_is_unknown(self) -> None:
        env = environ_of(server=None, headers=[(b"host", b"[::1]:8443")])
        self.assertEqual((env["SERVER_NAME"], env["SERVER_PORT"]), ("::1", "8443"))
        env = environ_of(server=None, scheme="https", headers=[(b"host", b"example.com")])
        self.assertEqual((env["SERVER_NAME"], env["SERVER_PORT"]), ("example.com", "443"))

    def test_has_an_empty_remote_addr_and_no_port_for_an_unknown_client(self) -> None:
        env = environ_of(client=None)
        self.assertEqual(env["REMOTE_ADDR"], "")
        self.assertNotIn("REMOTE_PORT", env)

    def test_reports_http_1_0(self) -> None:
        self.assertEqual(environ_of(http_version="1.0")["SERVER_PROTOCOL"], "HTTP/1.0")


if __name__ == "__main__":
    unittest.main()
