# Tests of the runner's frame codec against the golden vectors shared with the TypeScript codec.
from __future__ import annotations

import json
import os
import struct
import unittest

from bicorn_runner import frames as f

_RUNNER_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VECTORS = os.environ.get("BICORN_FRAME_VECTORS") or os.path.join(
    _RUNNER_DIR, "..", "..", "protocol", "frames", "vectors.json")

_CLASSES = {
    "hello": f.Hello, "ready": f.Ready, "fatal": f.Fatal, "shutdown": f.Shutdown, "log": f.Log,
    "ping": f.Ping, "pong": f.Pong, "http-closed": f.HttpClosed,
    "http-withdraw": f.HttpWithdraw, "http-withdrawn": f.HttpWithdrawn,
    "http-borrow": f.HttpBorrow, "http-not-lent": f.HttpNotLent, "http-returned": f.HttpReturned,
    "http-receive": f.HttpReceive, "http-received": f.HttpReceived,
    "http-request": f.HttpRequest, "http-body": f.HttpBody, "http-disconnect": f.HttpDisconnect,
    "http-response": f.HttpResponse, "http-response-body": f.HttpResponseBody,
    "http-error": f.HttpError, "credit": f.Credit, "http-trailers": f.HttpTrailers,
    "http-pathsend": f.HttpPathsend, "http-early-hint": f.HttpEarlyHint,
    "ws-connect": f.WsConnect, "ws-accept": f.WsAccept, "ws-message": f.WsMessage,
    "ws-close": f.WsClose,
}
_FIELD_NAMES = {"pythonVersion": "python_version", "exitCode": "exit_code",
                "httpVersion": "http_version", "queryString": "query_string",
                "rootPath": "root_path", "bytes": "amount", "bodyFile": "body_file"}
_HEX_FIELDS = {"path", "queryString", "rootPath", "body", "bodyFile"}


def expected_frame(decoded: dict) -> f.Frame:
    """A vector's decoded form as the codec's frame: hex fields as bytes, addresses as tuples."""
    fields = {}
    for key, value in decoded.items():
        if key == "type":
            continue
        if key in _HEX_FIELDS:
            value = bytes.fromhex(value)
        elif key == "links":
            value = [bytes.fromhex(link) for link in value]
        elif key == "headers":
            value = [(bytes.fromhex(name), bytes.fromhex(v)) for name, v in value]
        elif key == "tls":
            value = f.TlsHead(value["version"], value["cipherSuite"], value["serverCert"],
                              value["clientCertName"], tuple(value["clientCertChain"]))
        elif key in ("client", "server") and value is not None:
            value = (value[0], value[1])
        fields[_FIELD_NAMES.get(key, key)] = value
    return _CLASSES[decoded["type"]](**fields)


def comparable(frame: f.Frame) -> f.Frame:
    if isinstance(frame, (f.HttpBody, f.HttpResponseBody, f.WsMessage, f.HttpReceive)):
        return frame._replace(body=bytes(frame.body))
    return frame


def joined_request_bodies(frames: list) -> list:
    """The frames, each run of HTTP_BODY frames with MORE joined with the frame that ends it."""
    out: list = []
    for frame in map(comparable, frames):
        last = out[-1] if out else None
        if (isinstance(frame, f.HttpBody) and isinstance(last, f.HttpBody) and last.more
                and last.stream == frame.stream):
            out[-1] = frame._replace(body=last.body + frame.body)
        else:
            out.append(frame)
    return out


def load_vectors() -> dict:
    with open(VECTORS, encoding="utf-8") as file:
        return json.load(file)


class GoldenVectorTest(unittest.TestCase):
    def test_decodes_every_vector_to_its_decoded_form(self) -> None:
        for vector in load_vectors()["frames"]:
            with self.subTest(vector["name"]):
                frame = f.decode(bytes.fromhex(vector["hex"]))
                self.assertEqual(comparable(frame), expected_frame(vector["frame"]))

    def test_encodes_every_vector_back_to_its_hex(self) -> None:
        for vector in load_vectors()["frames"]:
            with self.subTest(vector["name"]):
                self.assertEqual(f.encode(expected_frame(vector["frame"])).hex(), vector["hex"])

    def test_refuses_every_invalid_vector(self) -> None:
        for vector in load_vectors()["invalid"]:
            with self.subTest(vector["name"]):
                with self.assertRaises(f.ProtocolError):
                    f.decode(bytes.fromhex(vector["hex"]))


class FrameDecoderTest(unittest.TestCase):
    def all_vector_bytes(self) -> bytes:
        return b"".join(bytes.fromhex(v["hex"]) for v in load_vectors()["frames"])

    def test_decodes_a_stream_fed_one_byte_at_a_time(self) -> None:
        data = self.all_vector_bytes()
        decoder = f.FrameDecoder()
        frames = []
        for i in range(len(data)):
            frames.extend(decoder.feed(data[i:i + 1]))
        expected = [expected_frame(v["frame"]) for v in load_vectors()["frames"]]
        self.assertEqual([comparable(frame) for frame in frames], expected)
        self.assertTrue(decoder.idle)

    def test_decodes_a_stream_fed_in_uneven_chunks(self) -> None:
        data = self.all_vector_bytes() * 3
        decoder = f.FrameDecoder()
        frames = []
        for start in range(0, len(data), 37):
            frames.extend(decoder.feed(data[start:start + 37]))
        expected = [expected_frame(v["frame"]) for v in load_vectors()["frames"]] * 3
        # A request body frame with MORE may come out in parts: compare those as one.
        self.assertEqual(joined_request_bodies(frames), joined_request_bodies(expected))
        self.assertTrue(decoder.idle)

    def test_a_whole_frame_body_is_a_view_of_the_received_chunk(self) -> None:
        data = f.encode(f.HttpBody(3, True, b"x" * 1000))
        (frame,) = f.FrameDecoder().feed(data)
        self.assertIsInstance(frame.body, memoryview)
        self.assertIs(frame.body.obj, data)

    def test_a_split_last_body_frame_is_gathered_into_one_buffer(self) -> None:
        body = bytes(range(256)) * 1024
        data = f.encode(f.HttpBody(3, False, body))
        decoder = f.FrameDecoder()
        self.assertEqual(decoder.feed(data[:1000]), [])
        (frame,) = decoder.feed(data[1000:])
        self.assertEqual(bytes(frame.body), body)

    def test_a_split_body_with_more_comes_out_in_parts_that_view_the_chunks(self) -> None:
        body = bytes(range(256)) * 1024
        data = (f.encode(f.HttpBody(3, True, body)) + f.encode(f.HttpBody(3, False, b"end"))
                + f.encode(f.Credit(3, 10)))
        for step in (10, 11, 4096, 65536, len(body) - 1):
            decoder = f.FrameDecoder()
            frames = []
            for start in range(0, len(data), step):
                frames.extend(decoder.feed(data[start:start + step]))
            parts = [frame for frame in frames if isinstance(frame, f.HttpBody)]
            self.assertGreater(len(parts), 2)
            self.assertEqual(b"".join(bytes(part.body) for part in parts), body + b"end")
            self.assertEqual([part.more for part in parts], [True] * (len(parts) - 1) + [False])
            self.assertTrue(all(part.stream == 3 and len(part.body) > 0 for part in parts))
            self.assertTrue(all(type(part.body.obj) is bytes for part in parts[:-1]))
            self.assertEqual(frames[-1], f.Credit(3, 10))
            self.assertTrue(decoder.idle)

    def test_refuses_a_body_frame_split_on_the_control_stream(self) -> None:
        data = f.encode(f.HttpBody(3, True, b"x" * 100))
        data = data[:5] + bytes(4) + data[9:]
        decoder = f.FrameDecoder()
        with self.assertRaises(f.ProtocolError):
            decoder.feed(data[:50])

    def test_refuses_a_frame_longer_than_the_maximum(self) -> None:
        with self.assertRaises(f.ProtocolError):
            f.FrameDecoder().feed((f.MAX_LENGTH + 1).to_bytes(4, "big"))

    def test_refuses_a_control_frame_on_a_request_stream(self) -> None:
        with self.assertRaises(f.ProtocolError):
            f.decode(bytes.fromhex("000000050400000001"))

    def test_encodes_a_body_without_copying_it(self) -> None:
        body = bytearray(b"abc")
        parts = f.encode_parts(f.HttpResponseBody(1, True, body))
        self.assertIs(parts[1], body)

    def test_encodes_a_websocket_message_without_copying_it_and_keeps_both_flags(self) -> None:
        body = bytearray("é".encode())
        parts = f.encode_parts(f.WsMessage(9, True, True, body))
        self.assertIs(parts[1], body)
        self.assertEqual(f.decode(b"".join(parts)), f.WsMessage(9, True, True, body))

    def test_encodes_a_whole_response_as_its_two_frames_would_be(self) -> None:
        headers = [(b"content-type", b"text/plain"), (b"x-empty", b"")]
        for body in (b"Hello, world!", b""):
            frames = (f.HttpResponse(7, 404, headers), f.HttpResponseBody(7, False, body))
            parts = f.encode_response(7, 404, headers, body)
            self.assertEqual(b"".join(parts), b"".join(f.encode(frame) for frame in frames))
            if body:
                self.assertIs(parts[-1], body)

    def test_encodes_a_whole_message_as_its_frame_would_be(self) -> None:
        for text, data in ((True, b"Hello, world!"), (False, b"\x00\x01"), (True, b"")):
            parts = f.encode_message(9, text, data)
            self.assertEqual(b"".join(parts), f.encode(f.WsMessage(9, False, text, data)))
            if data:
                self.assertIs(parts[-1], data)
        with self.assertRaisesRegex(f.ProtocolError, "a body frame carries at most"):
            f.encode_message(1, False, bytes(f.MAX_PAYLOAD))

    def test_refuses_a_whole_response_whose_head_or_body_exceeds_a_frame(self) -> None:
        with self.assertRaisesRegex(f.ProtocolError, "a payload is at most"):
            f.encode_response(1, 200, [(b"x-big", bytes(f.MAX_PAYLOAD))], b"")
        with self.assertRaisesRegex(f.ProtocolError, "a body frame carries at most"):
            f.encode_response(1, 200, [], bytes(f.MAX_PAYLOAD))

    def test_refuses_early_hint_links_more_than_the_payload_holds(self) -> None:
        with self.assertRaises(f.ProtocolError):
            f.decode(bytes.fromhex("0000000d19000000070000ffff00000000"))

    def test_refuses_a_request_whose_lengths_do_not_add_up_to_its_payload(self) -> None:
        request = f.HttpRequest(1, False, "GET", "http", "1.1", b"/", b"", b"", None, None,
                                [(b"a", b"b")])
        frame = f.encode(request)
        # Frame header 9, flags 1, ports 4, count 4, then the eight fields' lengths and the
        # header's two: its value's length is the last one.
        value_length = 9 + 1 + 4 + 4 + 4 * 8 + 4
        longer = bytearray(frame)
        longer[value_length:value_length + 4] = struct.pack(">I", 3)
        with self.assertRaisesRegex(f.ProtocolError, "payload ends 2 bytes early"):
            f.decode(longer)
        # A count whose lengths alone would run past the payload.
        counted = bytearray(frame)
        counted[14:18] = struct.pack(">I", 1000)
        with self.assertRaisesRegex(f.ProtocolError, "bytes early"):
            f.decode(counted)
        trailing = frame + b"xy"
        trailing = struct.pack(">I", len(trailing) - 4) + trailing[4:]
        with self.assertRaisesRegex(f.ProtocolError, "2 bytes after the payload"):
            f.decode(trailing)

    def test_refuses_websocket_frames_on_the_control_stream(self) -> None:
        data = bytearray(f.encode(f.WsClose(1, 1000, "")))
        data[5:9] = bytes(4)
        with self.assertRaises(f.ProtocolError):
            f.decode(data)


if __name__ == "__main__":
    unittest.main()
