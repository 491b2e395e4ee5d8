# Tests of one WSGI call in the runner: start_response, write(), iteration, close(), errors (the
# rules for statuses and headers are pinned by protocol's send vectors: test_send_vectors.py).
from __future__ import annotations

import io
import os
import sys
import tempfile
import threading
import unittest
from wsgiref.validate import validator

from bicorn_runner.frames import HttpResponse, HttpResponseBody

from .fakes import Exchange, request, serve


def hello_app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("X-Two", "a")])
    return [b"hello ", b"world"]


class ClosingIterable:
    def __init__(self, chunks, fail_at=None, on_chunk=None):
        self.chunks = chunks
        self.fail_at = fail_at
        self.on_chunk = on_chunk
        self.closed = threading.Event()
        self.sent = 0

    def __iter__(self):
        for index, chunk in enumerate(self.chunks):
            if index == self.fail_at:
                raise ZeroDivisionError("app failed mid-body")
            if self.on_chunk:
                self.on_chunk(index)
            self.sent += 1
            yield chunk

    def close(self):
        self.closed.set()


def written_and_iterated(environ, start_response):
    write = start_response("200 OK", [])
    write(b"written ")
    return iter([b"and ", b"iterated"])


def failing_start(status, headers):
    """An app that starts the response with the given status and headers."""
    def app(environ, start_response):
        start_response(status, headers)
        return [b"never"]
    return app


class StartResponseTest(unittest.TestCase):
    def test_sends_status_lowercased_latin_1_headers_and_the_body(self) -> None:
        exchange = serve(hello_app)
        self.assertEqual(exchange.head().status, 200)
        self.assertEqual(exchange.head().headers,
                         [(b"content-type", b"text/plain"), (b"x-two", b"a")])
        self.assertEqual(exchange.body(), b"hello world")
        self.assertTrue(exchange.completed())
        self.assertIsNone(exchange.error())

    def test_trims_spaces_and_tabs_around_header_values(self) -> None:
        def app(environ, start_response):
            start_response("200 OK", [("Set-Cookie", " a=1; Path=/"), ("X-Trail", "v \t")])
            return [b"ok"]

        self.assertEqual(serve(app).head().headers, [(b"set-cookie", b"a=1; Path=/"), (b"x-trail", b"v")])

    def test_a_one_item_list_costs_two_frames(self) -> None:
        exchange = serve(lambda env, sr: (sr("200 OK", []), [b"x"])[1])
        self.assertEqual([type(frame) for frame in exchange.conn.frames],
                         [HttpResponse, HttpResponseBody])
        self.assertFalse(exchange.conn.frames[1].more)

    def test_a_small_list_of_bytes_is_one_body_and_other_lists_go_item_by_item(self) -> None:
        exchange = serve(hello_app)
        self.assertEqual([(type(frame), getattr(frame, "more", None))
                          for frame in exchange.conn.frames],
                         [(HttpResponse, None), (HttpResponseBody, False)])
        self.assertEqual(exchange.body(), b"hello world")
        exchange = serve(lambda env, sr: (sr("200 OK", []), [b"a", bytearray(b"b")])[1])
        self.assertEqual([bytes(b.body) for b in exchange.conn.of_type(HttpResponseBody)],
                         [b"a", b"b"])
        big = [b"x" * 40_000, b"y" * 40_000]
        exchange = serve(lambda env, sr: (sr("200 OK", []), big)[1], window=1 << 20)
        self.assertEqual(len(exchange.conn.of_type(HttpResponseBody)), 2)
        self.assertEqual(exchange.body(), b"".join(big))

    def test_an_iterable_over_a_list_ends_with_its_last_item_as_a_list_does(self) -> None:
        class ListBacked:
            # As Django's HttpResponse: its iterator is the list's own.
            def __init__(self, chunks):
                self.chunks = chunks

            def __iter__(self):
                return iter(self.chunks)

        for chunks in ([b"x"], (b"a", b"b")):
            exchange = serve(lambda env, sr, chunks=chunks: (sr("200 OK", []), ListBacked(chunks))[1])
            frames = exchange.conn.frames
            self.assertEqual([type(frame) for frame in frames],
                             [HttpResponse] + [HttpResponseBody] * len(chunks))
            self.assertEqual([frame.more for frame in frames[1:]], [True] * (len(chunks) - 1) + [False])
            self.assertEqual(b"".join(frame.body for frame in frames[1:]), b"".join(chunks))
        # A generator's end is known only once it has ended: an empty final frame then.
        generated = serve(lambda env, sr: (sr("200 OK", []), (c for c in [b"x"]))[1]).conn.frames
        self.assertEqual([(type(f), f.more) for f in generated[1:]],
                         [(HttpResponseBody, True), (HttpResponseBody, False)])

    def test_empty_chunks_are_not_sent_and_headers_wait_for_the_end(self) -> None:
        def app(environ, start_response):
            start_response("204 No Content", [])
            yield b""
            yield b""
        exchange = serve(app)
        self.assertEqual(exchange.head().status, 204)
        bodies = exchange.conn.of_type(HttpResponseBody)
        self.assertEqual([(b.more, bytes(b.body)) for b in bodies], [(False, b"")])

    def test_checks_every_value_of_a_header_name_it_has_seen_before(self) -> None:
        # Names are checked once and remembered; values never are.
        self.assertEqual(serve(failing_start("200 OK", [("X-Seen", "fine")])).head().status, 200)
        self.assertIn("response header 'X-Seen': a control character",
                      serve(failing_start("200 OK", [("X-Seen", "a\r\nb")])).error())
        self.assertIn("'X-Seen': the value '\u2603' is not latin-1",
                      serve(failing_start("200 OK", [("X-Seen", "\u2603")])).error())

    def test_an_error_before_the_response_sends_the_apps_traceback(self) -> None:
        def app(environ, start_response):
            return 1 // 0
        message = serve(app).error()
        self.assertIn("ZeroDivisionError", message)
        self.assertIn("return 1 // 0", message)
        self.assertNotIn("bicorn_runner", message)

    def test_start_response_twice_without_exc_info_fails(self) -> None:
        def app(environ, start_response):
            start_response("200 OK", [])
            start_response("500 Oops", [])
            return []
        self.assertIn("second time without exc_info", serve(app).error())

    def test_returning_without_start_response_fails(self) -> None:
        self.assertIn("without calling start_response", serve(lambda e, s: []).error())

    def test_a_str_chunk_fails_the_request(self) -> None:
        exchange = serve(lambda e, s: (s("200 OK", []), ["text"])[1])
        self.assertIn("must be bytes, got str", exchange.error())


class ExcInfoTest(unittest.TestCase):
    def test_exc_info_before_the_head_was_sent_replaces_the_response(self) -> None:
        def app(environ, start_response):
            start_response("200 OK", [("X-First", "1")])
            try:
                raise ValueError("boom")
            except ValueError:
                start_response("500 Internal Server Error", [("X-Second", "2")], sys.exc_info())
            return [b"sorry"]
        exchange = serve(app)
        self.assertEqual(exchange.head(), HttpResponse(1, 500, [(b"x-second", b"2")]))
        self.assertEqual(exchange.body(), b"sorry")

    def test_exc_info_after_the_head_was_sent_re_raises(self) -> None:
        def app(environ, start_response):
            write = start_response("200 OK", [])
            write(b"partial")
            try:
                raise ValueError("late failure")
            except ValueError:
                start_response("500 Internal Server Error", [], sys.exc_info())
            return [b"never"]
        exchange = serve(app)
        self.assertEqual(exchange.head().status, 200)
        self.assertEqual(exchange.body(), b"partial")
        self.assertFalse(exchange.completed())
        self.assertIn("ValueError: late failure", exchange.error())


class WriteAndIterationTest(unittest.TestCase):
    def test_write_and_the_iterable_both_reach_the_body(self) -> None:
        exchange = serve(written_and_iterated)
        self.assertEqual(exchange.body(), b"written and iterated")
        self.assertTrue(exchange.completed())

    def test_splits_a_large_chunk_into_frames_of_256_kib(self) -> None:
        big = os.urandom(600 * 1024)
        exchange = serve(lambda e, s: (s("200 OK", []), [big])[1], window=1 << 21)
        sizes = [len(f.body) for f in exchange.conn.of_type(HttpResponseBody)]
        self.assertEqual(sizes, [256 * 1024, 256 * 1024, 88 * 1024])
        self.assertEqual(exchange.body(), big)
        self.assertTrue(exchange.completed())

    def test_only_the_frames_that_end_a_response_may_wait_for_the_next_calls(self) -> None:
        exchange = serve(written_and_iterated)
        # write(), a part, and the end: a list iterator says "iterated" is its last item.
        self.assertEqual(exchange.conn.may_wait, [False, False, True])
        big = os.urandom(600 * 1024)
        exchange = serve(lambda e, s: (s("200 OK", []), [big])[1], window=1 << 21)
        self.assertEqual(exchange.conn.may_wait, [False, False, True])

    def test_a_part_that_reaches_the_content_length_may_wait_like_the_end(self) -> None:
        def generated(environ, start_response):
            start_response("200 OK", [("Content-Length", "8")])
            # A generator, as a framework's wrapped iterator is: its end is known only after.
            yield b"all "
            yield b"here"

        exchange = serve(generated)
        self.assertEqual(exchange.body(), b"all here")
        self.assertEqual(exchange.conn.may_wait, [False, True, True])

    def test_the_file_wrapper_streams_a_file_in_blocks(self) -> None:
        content = os.urandom(700 * 1024)
        with tempfile.TemporaryFile() as file:
            file.write(content)
            file.seek(0)
            reads = []
            original_readinto = file.readinto

            def app(environ, start_response):
                start_response("200 OK", [])
                return environ["wsgi.file_wrapper"](file, 4096)
            file.readinto = lambda b: reads.append(len(b)) or original_readinto(b)
            exchange = serve(app, window=1 << 21)
            self.assertTrue(file.closed)
        self.assertEqual(exchange.body(), content)
        self.assertTrue(exchange.completed())
        self.assertTrue(all(size <= 256 * 1024 for size in reads))

    def test_the_file_wrapper_iterates_a_file_without_readinto(self) -> None:
        def app(environ, start_response):
            start_response("200 OK", [])
            return environ["wsgi.file_wrapper"](io.StringIO("x" * 10), 3)
        self.assertIn("must be bytes, got str", serve(app).error())

    def test_passes_wsgiref_validator(self) -> None:
        def app(environ, start_response):
            body = environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"]))
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"got " + body]
        req = request(method="POST", more=True, headers=[(b"content-length", b"3"),
                                                         (b"host", b"x")])
        exchange = serve(validator(app), req, body=[b"a", b"bc"])
        self.assertIsNone(exchange.error())
        self.assertEqual(exchange.body(), b"got abc")


class CloseTest(unittest.TestCase):
    def test_close_is_called_after_a_complete_response(self) -> None:
        iterable = ClosingIterable([b"a", b"b"])
        serve(lambda e, s: (s("200 OK", []), iterable)[1])
        self.assertTrue(iterable.closed.is_set())

    def test_close_is_called_when_the_iterable_raises(self) -> None:
        iterable = ClosingIterable([b"a", b"b"], fail_at=1)
        exchange = serve(lambda e, s: (s("200 OK", []), iterable)[1])
        self.assertTrue(iterable.closed.is_set())
        self.assertIn("app failed mid-body", exchange.error())
        self.assertFalse(exchange.completed())

    def test_close_is_called_and_iteration_stops_on_disconnect(self) -> None:
        holder = {}

        def on_chunk(index):
            if index == 2:
                holder["exchange"].stream.disconnect()
        iterable = ClosingIterable([b"a", b"b", b"c", b"d"], on_chunk=on_chunk)
        exchange = Exchange(lambda e, s: (s("200 OK", []), iterable)[1], start=False)
        holder["exchange"] = exchange
        exchange.thread.start()
        exchange.join()
        self.assertTrue(iterable.closed.is_set())
        self.assertEqual(iterable.sent, 3)
        self.assertEqual(exchange.body(), b"ab")
        self.assertIsNone(exchange.error())
        self.assertTrue(exchange.ended.is_set())

    def test_an_error_in_close_is_written_to_stderr(self) -> None:
        class BadClose(ClosingIterable):
            def close(self):
                raise RuntimeError("close failed")
        stderr = io.StringIO()
        original, sys.stderr = sys.stderr, stderr
        try:
            exchange = serve(lambda e, s: (s("200 OK", []), BadClose([b"a"]))[1])
        finally:
            sys.stderr = original
        self.assertTrue(exchange.completed())
        self.assertIn("RuntimeError: close failed", stderr.getvalue())


if __name__ == "__main__":
    unittest.main()
