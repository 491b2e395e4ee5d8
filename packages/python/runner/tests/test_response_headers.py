# Tests of the response header rules shared by WSGI (str) and ASGI (bytes) apps.
from __future__ import annotations

import unittest

from bicorn_runner.wsgi_headers import check_header, check_header_bytes


def error_of(check, name, value) -> str:
    try:
        check(name, value)
    except ValueError as error:
        return str(error)
    raise AssertionError(f"{name!r}: {value!r} was taken")


class HeaderBytesTest(unittest.TestCase):
    def test_says_what_check_header_says_for_each_rule(self) -> None:
        cases = [("bad name", "x"), ("X-Bad", "a\r\nb"), ("Connection", "close"),
                 ("Keep-Alive", "timeout=5"), ("Transfer-Encoding", "gzip")]
        for name, value in cases:
            with self.subTest(name):
                self.assertEqual(
                    error_of(check_header_bytes, name.encode(), value.encode()),
                    error_of(check_header, name, value))

    def test_checks_the_value_of_a_name_it_has_seen_before(self) -> None:
        self.assertEqual(check_header_bytes(b"X-Seen", b" ok\t"), (b"x-seen", b"ok"))
        self.assertEqual(check_header_bytes(b"X-Seen", b"again"), (b"x-seen", b"again"))
        self.assertIn("a control character", error_of(check_header_bytes, b"X-Seen", b"a\nb"))

    def test_checks_transfer_encoding_every_time(self) -> None:
        self.assertEqual(check_header_bytes(b"Transfer-Encoding", b"chunked"),
                         (b"transfer-encoding", b"chunked"))
        self.assertIn('can only be "chunked"',
                      error_of(check_header_bytes, b"Transfer-Encoding", b"gzip"))

    def test_takes_a_trailer_header_declaring_the_trailers_to_come(self) -> None:
        self.assertEqual(check_header_bytes(b"Trailer", b"grpc-status"),
                         (b"trailer", b"grpc-status"))
        self.assertEqual(check_header("Trailer", "grpc-status"), (b"trailer", b"grpc-status"))


if __name__ == "__main__":
    unittest.main()
