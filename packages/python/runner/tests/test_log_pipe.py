# Tests of the log streams: what the app writes becomes one LOG frame per write, record or
# traceback, read back from a real pipe.
from __future__ import annotations

import logging
import os
import threading
import traceback
import unittest
from typing import List

from bicorn_runner import frames as f
from bicorn_runner.log_pipe import LogPipe, LogStream, _gathered, _with_record


class _Handler(logging.StreamHandler):
    # What install() does to every StreamHandler, on this class only.
    emit = _with_record(logging.StreamHandler.emit)  # type: ignore[assignment]


class LogStreamTest(unittest.TestCase):
    def setUp(self) -> None:
        read, write = os.pipe()
        self.write_fd = write
        self.received = bytearray()
        # Read as the worker does, so that a write larger than the pipe's buffer completes.
        self.reader = threading.Thread(target=self._read_all, args=(read,))
        self.reader.start()
        self.pipe = LogPipe(write)
        self.stream = LogStream(self.pipe, "stdout", 1)

    def tearDown(self) -> None:
        if self.reader.is_alive():
            os.close(self.write_fd)
            self.reader.join()

    def _read_all(self, fd: int) -> None:
        with os.fdopen(fd, "rb") as file:
            for chunk in iter(lambda: file.read1(65536), b""):
                self.received += chunk

    def frames(self) -> List[f.Log]:
        os.close(self.write_fd)
        self.reader.join()
        return list(f.FrameDecoder().feed(bytes(self.received)))  # type: ignore[arg-type]

    def texts(self) -> List[str]:
        return [frame.text for frame in self.frames()]

    def test_print_sends_one_frame_for_its_text_and_its_newline(self) -> None:
        print("total", 3, "items", file=self.stream)
        print(file=self.stream)
        self.assertEqual(self.frames(), [f.Log(0, "stdout", 0, "", "total 3 items\n"),
                                         f.Log(0, "stdout", 0, "", "\n")])

    def test_a_write_of_many_lines_is_one_frame(self) -> None:
        self.stream.write("first\nsecond\nthird\n")
        self.assertEqual(self.texts(), ["first\nsecond\nthird\n"])

    def test_an_unfinished_line_waits_for_its_end_or_a_flush(self) -> None:
        self.stream.write("progress: ")
        self.stream.write("50%")
        self.stream.write(" done\n")
        self.stream.write("next: a write is never cut\nat its newlines")
        self.stream.flush()
        self.assertEqual(self.texts(), ["progress: 50% done\n", "next: a write is never cut\nat its newlines"])

    def test_the_unfinished_lines_of_two_threads_never_mix(self) -> None:
        self.stream.write("main ")
        other = threading.Thread(target=lambda: print("from a thread", file=self.stream))
        other.start()
        other.join()
        self.stream.write("thread\n")
        self.assertEqual(self.texts(), ["from a thread\n", "main thread\n"])

    def test_a_printed_traceback_is_one_frame(self) -> None:
        try:
            raise ValueError("bad input")
        except ValueError:
            _gathered(traceback.print_exc)(file=self.stream)
        [text] = self.texts()
        self.assertTrue(text.startswith("Traceback (most recent call last):\n"), text)
        self.assertTrue(text.endswith("ValueError: bad input\n"), text)

    def test_a_log_record_carries_its_level_and_logger(self) -> None:
        logger = logging.getLogger("shop.orders")
        logger.propagate = False
        handler = _Handler(self.stream)
        logger.addHandler(handler)
        self.addCleanup(logger.removeHandler, handler)
        try:
            raise KeyError("sku")
        except KeyError:
            logger.error("order failed", exc_info=True)
        logger.warning("stock low")
        [failed, low] = self.frames()
        self.assertEqual((failed.source, failed.level, failed.logger), ("stdout", 40, "shop.orders"))
        self.assertTrue(failed.text.startswith("order failed\nTraceback"), failed.text)
        self.assertTrue(failed.text.endswith("KeyError: 'sku'\n"), failed.text)
        self.assertEqual(low, f.Log(0, "stdout", 30, "shop.orders", "stock low\n"))

    def test_a_write_larger_than_a_frame_goes_in_pieces(self) -> None:
        text = "é" * (600 * 1024) + "\n"
        self.stream.write(text)
        texts = self.texts()
        self.assertGreater(len(texts), 1)
        self.assertEqual("".join(texts), text)

    def test_wsgi_errors_has_no_file_descriptor(self) -> None:
        errors = LogStream(self.pipe, "wsgi.errors")
        with self.assertRaises(OSError):
            errors.fileno()
        self.assertEqual(self.stream.fileno(), 1)

    def test_bytes_are_refused_as_a_text_stream_refuses_them(self) -> None:
        with self.assertRaises(TypeError):
            self.stream.write(b"raw")  # type: ignore[arg-type]


if __name__ == "__main__":
    unittest.main()
