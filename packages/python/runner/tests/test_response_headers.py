# Tests of the response header rules shared by WSGI (str) and ASGI (bytes) apps.
from __future__ import annotations

import unittest

from bicorn_runner.asgi_events import parse_headers
from bicorn_runner.wsgi_headers import check_header, check_header_bytes


def error_of(check, name, value) -> str:
    try:
        check(name, value)
    except ValueError as error:
        return str(error)
    raise AssertionError(f"{name!r}: {value!r} was taken")


class HeaderBytesTest(unittest.TestCase):
    def test_says_what_check_header_says_for_each_rule(self) -> None:
        cases = [("bad name", "x"), ("X-Bad", "a\r\nb"), ("X-Del", "a\x7fb")]
        for name, value in cases:
            with self.subTest(name):
                self.assertEqual(
                    error_of(check_header_bytes, name.encode(), value.encode()),
                    error_of(check_header, name, value))

    def test_checks_the_value_of_a_name_it_has_seen_before(self) -> None:
        self.assertEqual(check_header_bytes(b"X-Seen", b" ok\t"), (b"x-seen", b"ok"))
        self.assertEqual(check_header_bytes(b"X-Seen", b"again"), (b"x-seen", b"again"))
        self.assertIn("a control character", error_of(check_header_bytes, b"X-Seen", b"a\nb"))

    def test_passes_hop_by_hop_headers_on_for_the_worker_to_drop(self) -> None:
        self.assertEqual(check_header_bytes(b"Connection", b"close"), (b"connection", b"close"))
        self.assertEqual(check_header("Transfer-Encoding", "gzip"), (b"transfer-encoding", b"gzip"))

    def test_passes_a_trailer_header_on_for_the_worker_to_judge(self) -> None:
        self.assertEqual(check_header_bytes(b"Trailer", b"grpc-status"),
                         (b"trailer", b"grpc-status"))
        self.assertEqual(check_header("Trailer", "grpc-status"), (b"trailer", b"grpc-status"))


class SeenHeadersTest(unittest.TestCase):
    """parse_headers checks a list of names it has seen before in one loop: the same result,
    and the same errors, as the full check of each header."""

    def setUp(self) -> None:
        # The names are seen once, as a first response would show them.
        parse_headers([(b"Content-Type", b"text/plain"), (b"Content-Length", b"5")], "start")

    def test_gives_what_the_full_check_gives(self) -> None:
        headers = [(b"Content-Type", b" text/plain "), [b"content-length", b"13"]]
        self.assertEqual(parse_headers(headers, "start"),
                         [(b"content-type", b"text/plain"), (b"content-length", b"13")])
        self.assertEqual(parse_headers((), "start"), [])

    def test_still_refuses_what_the_full_check_refuses(self) -> None:
        cases = {
            "a second content-length": [(b"content-length", b"1"), (b"Content-Length", b"1")],
            "must be a number of bytes": [(b"content-length", b"1e3")],
            "a control character": [(b"content-type", b"a\r\nb")],
            "must be a byte string": [(b"content-type", "text/plain")],
            "must be a [name, value] pair": [(b"content-type",)],
        }
        for words, headers in cases.items():
            with self.subTest(words), self.assertRaisesRegex((TypeError, ValueError),
                                                             words.replace("[", "\\[")):
                parse_headers(headers, "start")


if __name__ == "__main__":
    unittest.main()
