# Tests of RFC 6455 as the runner reads and writes it on a lent socket (websocket_wire.py): the
# client's frames, each rule that closes the connection and with which code, and the server's.
from __future__ import annotations

import os
import struct
import unittest
from typing import Optional

from bicorn_runner.websocket_wire import (BINARY, CLOSE, CONTINUATION, PING, PONG, TEXT,
                                          Control, FrameReader, Message, WireError, close_frame,
                                          close_of, frame)


def client_frame(opcode: int, payload: bytes, fin: bool = True, mask: Optional[bytes] = None,
                 rsv: int = 0) -> bytes:
    """A frame as a client sends it: masked (with a random key unless given)."""
    key = os.urandom(4) if mask is None else mask
    n = len(payload)
    first = (0x80 if fin else 0) | rsv | opcode
    if n < 126:
        head = bytes((first, 0x80 | n))
    elif n < 65536:
        head = bytes((first, 0x80 | 126)) + struct.pack(">H", n)
    else:
        head = bytes((first, 0x80 | 127)) + struct.pack(">Q", n)
    masked = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    return head + key + masked


def breach(data: bytes, max_size: int = 1 << 20) -> WireError:
    reader = FrameReader(max_size)
    try:
        reader.feed(data)
    except WireError as error:
        return error
    raise AssertionError("no WireError")


class ReadingTest(unittest.TestCase):
    def test_unmasks_text_and_binary_messages_of_each_length_encoding(self) -> None:
        reader = FrameReader(1 << 20)
        for size in (0, 1, 125, 126, 65535, 65536, 70000):
            payload = bytes(i % 251 for i in range(size))
            self.assertEqual(reader.feed(client_frame(BINARY, payload)), [Message(payload)])
        self.assertEqual(reader.feed(client_frame(TEXT, "héllo ✓".encode())), [Message("héllo ✓")])

    def test_reads_frames_split_anywhere_and_several_in_one_chunk(self) -> None:
        data = client_frame(TEXT, b"one") + client_frame(BINARY, b"x" * 300) + client_frame(PING, b"p")
        for cut in range(len(data) + 1):
            reader = FrameReader(1 << 20)
            events = reader.feed(data[:cut]) + reader.feed(data[cut:])
            self.assertEqual(events, [Message("one"), Message(b"x" * 300), Control(PING, b"p")])
        reader = FrameReader(1 << 20)
        self.assertEqual(sum((reader.feed(data[i:i + 1]) for i in range(len(data))), []),
                         [Message("one"), Message(b"x" * 300), Control(PING, b"p")])

    def test_joins_a_fragmented_message_with_control_frames_between(self) -> None:
        reader = FrameReader(1 << 20)
        text = "añb€c".encode()
        events = reader.feed(client_frame(TEXT, text[:2], fin=False)
                             + client_frame(PING, b"hi")
                             + client_frame(CONTINUATION, text[2:5], fin=False)
                             + client_frame(CONTINUATION, text[5:]))
        self.assertEqual(events, [Control(PING, b"hi"), Message("añb€c")])
        events = reader.feed(client_frame(BINARY, b"ab", fin=False) + client_frame(CONTINUATION, b"cd"))
        self.assertEqual(events, [Message(b"abcd")])

    def test_closes_with_1002_for_each_breach_of_the_framing(self) -> None:
        cases = {
            "unmasked": bytes((0x81, 0x01)) + b"x",
            "reserved bit": client_frame(TEXT, b"x", rsv=0x40),
            "reserved opcode": client_frame(0x3, b"x"),
            "reserved control opcode": client_frame(0xB, b""),
            "fragmented ping": client_frame(PING, b"x", fin=False),
            "long ping": client_frame(PING, b"x" * 126),
            "continuation first": client_frame(CONTINUATION, b"x"),
            "new message mid-message": client_frame(TEXT, b"a", fin=False) + client_frame(TEXT, b"b"),
            "top bit of a 64-bit length": bytes((0x82, 0xFF)) + struct.pack(">Q", 1 << 63) + b"\0" * 4,
        }
        for name, data in cases.items():
            with self.subTest(name):
                self.assertEqual(breach(data).code, 1002)

    def test_closes_with_1007_for_text_that_is_not_utf8_at_its_first_bad_piece(self) -> None:
        self.assertEqual(breach(client_frame(TEXT, b"\xff")).code, 1007)
        reader = FrameReader(1 << 20)
        with self.assertRaises(WireError) as caught:
            # The message goes on, but its first piece is bad already.
            reader.feed(client_frame(TEXT, b"ok\xc0\x80", fin=False))
        self.assertEqual(caught.exception.code, 1007)
        reader = FrameReader(1 << 20)
        with self.assertRaises(WireError):
            reader.feed(client_frame(TEXT, b"\xe2\x82", fin=False) + client_frame(CONTINUATION, b""))

    def test_closes_with_1009_for_a_message_over_the_limit_before_buffering_it(self) -> None:
        self.assertEqual(breach(client_frame(BINARY, b"x" * 11), max_size=10).code, 1009)
        # The head alone is enough: the payload need not have come.
        self.assertEqual(breach(client_frame(BINARY, b"x" * 100_000)[:14], max_size=10).code, 1009)
        reader = FrameReader(10)
        reader.feed(client_frame(TEXT, b"x" * 6, fin=False))
        with self.assertRaises(WireError) as caught:
            reader.feed(client_frame(CONTINUATION, b"x" * 5))
        self.assertEqual(caught.exception.code, 1009)
        self.assertEqual(FrameReader(10).feed(client_frame(BINARY, b"x" * 10)), [Message(b"x" * 10)])


class CloseTest(unittest.TestCase):
    def test_reads_a_close_code_and_reason(self) -> None:
        self.assertEqual(close_of(b""), (1005, ""))
        self.assertEqual(close_of(struct.pack(">H", 1000) + "bye ✓".encode()), (1000, "bye ✓"))
        for code in (1000, 1001, 1003, 1007, 1011, 1014, 3000, 4999):
            self.assertEqual(close_of(struct.pack(">H", code))[0], code)

    def test_refuses_a_close_a_client_may_not_send(self) -> None:
        self.assertEqual(self._code(b"\x03"), 1002)
        for code in (0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535):
            with self.subTest(code):
                self.assertEqual(self._code(struct.pack(">H", code)), 1002)
        self.assertEqual(self._code(struct.pack(">H", 1000) + b"\xff"), 1007)

    def _code(self, payload: bytes) -> int:
        with self.assertRaises(WireError) as caught:
            close_of(payload)
        return caught.exception.code


class WritingTest(unittest.TestCase):
    def test_writes_unmasked_final_frames_with_the_shortest_length(self) -> None:
        self.assertEqual(frame(TEXT, b"hi"), b"\x81\x02hi")
        self.assertEqual(frame(BINARY, b"x" * 126)[:4], b"\x82\x7e\x00\x7e")
        self.assertEqual(frame(BINARY, b"x" * 65536)[:10], b"\x82\x7f" + struct.pack(">Q", 65536))
        self.assertEqual(frame(PONG, b""), b"\x8a\x00")

    def test_writes_a_close_with_its_reason_cut_to_fit_a_control_frame(self) -> None:
        self.assertEqual(close_frame(1005), b"\x88\x00")
        self.assertEqual(close_frame(1000, "bye"), b"\x88\x05\x03\xe8bye")
        long = close_frame(1001, "é" * 100)
        self.assertLessEqual(len(long) - 2, 125)
        self.assertEqual(long[0], 0x80 | CLOSE)
        # Cut between characters: what is left is still UTF-8.
        long[4:].decode("utf-8")


if __name__ == "__main__":
    unittest.main()
