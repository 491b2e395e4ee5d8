# Tests of wsgi.input: every way of reading, with the body arriving in pieces.
from __future__ import annotations

import os
import tempfile
import threading
import unittest

from bicorn_runner.streams import Stream
from bicorn_runner.wsgi_input import WsgiInput

from .fakes import FakeConnection, request

BODY_PIECES = [b"first li", b"ne\nsecond line\n", b"", b"third", b" line\nlast"]
BODY = b"".join(BODY_PIECES)


def fed_input(pieces=BODY_PIECES) -> WsgiInput:
    stream = Stream(request(more=True), 1 << 20, FakeConnection(), lambda s: None)
    for index, piece in enumerate(pieces):
        stream.feed(piece, more=index < len(pieces) - 1)
    return WsgiInput(stream)


class WsgiInputTest(unittest.TestCase):
    def test_read_without_size_reads_the_whole_body(self) -> None:
        self.assertEqual(fed_input().read(), BODY)
        self.assertEqual(fed_input().read(-1), BODY)
        self.assertEqual(fed_input().read(None), BODY)

    def test_read_with_size_returns_that_many_bytes_across_pieces(self) -> None:
        body = fed_input()
        self.assertEqual(body.read(3), b"fir")
        self.assertEqual(body.read(10), b"st line\nse")
        self.assertEqual(body.read(1000), BODY[13:])
        self.assertEqual(body.read(5), b"")
        self.assertEqual(body.read(), b"")

    def test_every_read_returns_bytes_not_a_view_of_a_frame(self) -> None:
        # The body arrives as views of frames; a view equals its bytes, so the type is checked.
        body = fed_input([memoryview(b"ab\ncd"), memoryview(b"ef")])
        self.assertIs(type(body.readline()), bytes)
        self.assertIs(type(body.read(1)), bytes)
        self.assertIs(type(body.read(3)), bytes)
        self.assertIs(type(body.read()), bytes)
        self.assertIs(type(fed_input([memoryview(b"whole")]).read()), bytes)

    def test_readline_splits_at_newlines_across_pieces(self) -> None:
        body = fed_input()
        self.assertEqual(body.readline(), b"first line\n")
        self.assertEqual(body.readline(), b"second line\n")
        self.assertEqual(body.readline(), b"third line\n")
        self.assertEqual(body.readline(), b"last")
        self.assertEqual(body.readline(), b"")

    def test_readline_with_size_stops_at_the_size(self) -> None:
        body = fed_input()
        self.assertEqual(body.readline(5), b"first")
        self.assertEqual(body.readline(100), b" line\n")

    def test_readlines_and_iteration_yield_every_line(self) -> None:
        lines = [b"first line\n", b"second line\n", b"third line\n", b"last"]
        self.assertEqual(fed_input().readlines(), lines)
        self.assertEqual(list(fed_input()), lines)
        self.assertEqual(fed_input().readlines(15), lines[:2])

    def test_an_empty_body_reads_as_eof(self) -> None:
        stream = Stream(request(more=False), 1 << 20, FakeConnection(), lambda s: None)
        self.assertEqual(WsgiInput(stream).read(), b"")
        self.assertEqual(WsgiInput(stream).readline(), b"")

    def test_a_read_blocks_until_bytes_arrive(self) -> None:
        stream = Stream(request(more=True), 1 << 20, FakeConnection(), lambda s: None)
        body = WsgiInput(stream)
        result = []
        reader = threading.Thread(target=lambda: result.append(body.read()))
        reader.start()
        stream.feed(b"abc", more=True)
        stream.feed(b"def", more=False)
        reader.join(10)
        self.assertEqual(result, [b"abcdef"])

    def test_a_disconnect_ends_a_blocked_read_with_eof(self) -> None:
        stream = Stream(request(more=True), 1 << 20, FakeConnection(), lambda s: None)
        body = WsgiInput(stream)
        stream.feed(b"abc", more=True)
        self.assertEqual(body.read(3), b"abc")
        result = []
        reader = threading.Thread(target=lambda: result.append(body.read(10)))
        reader.start()
        stream.disconnect()
        reader.join(10)
        self.assertEqual(result, [b""])


class FileBodyTest(unittest.TestCase):
    """A body the worker left in a file (HTTP_REQUEST's body_file), read straight from it."""

    def setUp(self) -> None:
        fd, path = tempfile.mkstemp()
        os.write(fd, BODY)
        os.close(fd)
        self.path = path.encode()
        self.addCleanup(lambda: os.path.exists(path) and os.unlink(path))
        self.conn = FakeConnection()

    def stream(self, path: bytes) -> Stream:
        return Stream(request(more=False)._replace(body_file=path), 1 << 20, self.conn, lambda s: None)

    def test_reads_every_way_as_from_frames(self) -> None:
        body = WsgiInput(self.stream(self.path))
        self.assertEqual(body.readline(), b"first line\n")
        self.assertEqual(body.read(3), b"sec")
        self.assertEqual(body.readline(4), b"ond ")
        self.assertEqual(body.readlines(), [b"line\n", b"third line\n", b"last"])
        self.assertEqual(body.read(), b"")
        self.assertEqual(WsgiInput(self.stream(self.path)).read(), BODY)
        self.assertIs(type(WsgiInput(self.stream(self.path)).read(5)), bytes)
        # Nothing to credit: the worker sends no body frames.
        self.assertEqual(self.conn.frames, [])

    def test_the_file_is_open_once_the_stream_is_made(self) -> None:
        # The worker may close its descriptor (the file goes) once the stream has ended here.
        stream = self.stream(self.path)
        os.unlink(self.path)
        self.assertEqual(WsgiInput(stream).read(), BODY)

    @unittest.skipUnless(os.path.isdir("/proc/self/fd"), "counts open files in Linux's /proc")
    def test_the_end_of_the_app_closes_the_file(self) -> None:
        stream = self.stream(self.path)
        before = len(os.listdir("/proc/self/fd"))
        stream.finish()
        self.assertEqual(len(os.listdir("/proc/self/fd")), before - 1)
        self.assertEqual(WsgiInput(stream).read(), b"")

    def test_a_file_that_cannot_be_opened_fails_the_reads_with_the_reason(self) -> None:
        stream = self.stream(b"/nonexistent/bicorn-body")
        with self.assertRaisesRegex(OSError, "could not be read from the worker's file: .*No such file"):
            WsgiInput(stream).read()
        stream.finish()
        self.assertEqual(WsgiInput(stream).read(), b"")


if __name__ == "__main__":
    unittest.main()
