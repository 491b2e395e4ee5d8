# RFC 6455 on the wire, for a WebSocket the runner runs on the client's socket itself
# (lent_websocket.py): the client's frames read, checked and unmasked into messages and control
# frames, and the server's frames built. No extension is ever negotiated there, so a frame with
# a reserved bit set is a breach. Pure; runner process.
from __future__ import annotations

import codecs
import struct
from typing import List, NamedTuple, Optional, Tuple, Union

from .asgi_websocket_events import MAX_REASON

CONTINUATION, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA

# The close codes of RFC 6455 7.4.
PROTOCOL_ERROR = 1002
NO_STATUS = 1005
INVALID_DATA = 1007
TOO_BIG = 1009

_U16 = struct.Struct(">H")
_U64 = struct.Struct(">Q")


class WireError(Exception):
    """The client broke the protocol: the connection closes with `code`."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class Message(NamedTuple):
    """A whole message: its text decoded, or its bytes."""
    data: Union[str, bytes]


class Control(NamedTuple):
    """A ping, a pong or a close, with its payload (a close's, unparsed: see close_of)."""
    opcode: int
    payload: bytes


Event = Union[Message, Control]


def _may_close_with(code: int) -> bool:
    """Codes a close frame may carry (RFC 6455 7.4.1 and IANA's registry): 1004-1006 and 1015
    are for reports only, and 1016-2999 are not assigned."""
    return 1000 <= code <= 1014 and code not in (1004, 1005, 1006) or 3000 <= code <= 4999


def close_of(payload: bytes) -> Tuple[int, str]:
    """A close frame's code and reason; 1005 for one without a code."""
    if not payload:
        return NO_STATUS, ""
    if len(payload) == 1:
        raise WireError(PROTOCOL_ERROR, "a close frame of one byte")
    code = _U16.unpack_from(payload)[0]
    if not _may_close_with(code):
        raise WireError(PROTOCOL_ERROR, f"close code {code} may not be sent")
    try:
        return code, payload[2:].decode("utf-8")
    except UnicodeDecodeError:
        raise WireError(INVALID_DATA, "a close reason that is not UTF-8") from None


class FrameReader:
    """Turns the client's bytes into events, in order. A message's size counts against
    max_size as its frames come, before their payloads are buffered."""

    def __init__(self, max_size: int) -> None:
        self._max_size = max_size
        self._buffer = bytearray()
        # The message under way: its opcode (0 when none), its pieces, its size so far.
        self._opcode = 0
        self._pieces: List[bytes] = []
        self._size = 0
        self._text: Optional[codecs.IncrementalDecoder] = None

    def feed(self, data: bytes) -> List[Event]:
        """The events the bytes complete; raises WireError at the first breach."""
        buffer = self._buffer
        if buffer:
            buffer += data
            view: Union[bytes, bytearray] = buffer
        else:
            view = data
        events: List[Event] = []
        at = 0
        end = len(view)
        while end - at >= 2:
            first, second = view[at], view[at + 1]
            if first & 0x70:
                raise WireError(PROTOCOL_ERROR, "a reserved bit is set, and no extension was agreed")
            if not second & 0x80:
                raise WireError(PROTOCOL_ERROR, "a client's frame is not masked")
            length = second & 0x7F
            head = at + 2
            if length == 126:
                if end - head < 2:
                    break
                length = _U16.unpack_from(view, head)[0]
                head += 2
            elif length == 127:
                if end - head < 8:
                    break
                length = _U64.unpack_from(view, head)[0]
                if length >> 63:
                    raise WireError(PROTOCOL_ERROR, "a frame length with its top bit set")
                head += 8
            opcode = first & 0x0F
            self._check_head(first & 0x80, opcode, length)
            stop = head + 4 + length
            if stop > end:
                break
            key = view[head:head + 4]
            payload = _unmask(key, view[head + 4:stop]) if length else b""
            at = stop
            event = self._on_frame(bool(first & 0x80), opcode, payload)
            if event is not None:
                events.append(event)
        if at:
            if buffer:
                del buffer[:at]
            else:
                buffer += data[at:]
        elif not buffer:
            buffer += data
        return events

    def _check_head(self, fin: int, opcode: int, length: int) -> None:
        if opcode >= CLOSE:
            if opcode > PONG:
                raise WireError(PROTOCOL_ERROR, f"opcode {opcode:#x} is reserved")
            if not fin:
                raise WireError(PROTOCOL_ERROR, "a control frame is fragmented")
            if length > 125:
                raise WireError(PROTOCOL_ERROR, "a control frame's payload is over 125 bytes")
            return
        if opcode > BINARY:
            raise WireError(PROTOCOL_ERROR, f"opcode {opcode:#x} is reserved")
        if opcode == CONTINUATION and not self._opcode:
            raise WireError(PROTOCOL_ERROR, "a continuation frame with no message to continue")
        if opcode != CONTINUATION and self._opcode:
            raise WireError(PROTOCOL_ERROR, "a new message before the last one ended")
        if self._size + length > self._max_size:
            raise WireError(TOO_BIG, f"a message over {self._max_size} bytes")

    def _on_frame(self, fin: bool, opcode: int, payload: bytes) -> Optional[Event]:
        if opcode >= CLOSE:
            return Control(opcode, payload)
        if opcode != CONTINUATION:
            if fin:
                # A message in one frame, as nearly every one is.
                if opcode == BINARY:
                    return Message(payload)
                try:
                    return Message(payload.decode("utf-8"))
                except UnicodeDecodeError:
                    raise WireError(INVALID_DATA, "a text message that is not UTF-8") from None
            self._opcode = opcode
            if opcode == TEXT:
                self._text = codecs.getincrementaldecoder("utf-8")()
        self._size += len(payload)
        text = self._text
        try:
            # Checked as the pieces come, so that a bad message fails at its first bad byte.
            self._pieces.append(text.decode(payload, fin) if text is not None else payload)
        except UnicodeDecodeError:
            raise WireError(INVALID_DATA, "a text message that is not UTF-8") from None
        if not fin:
            return None
        pieces, self._pieces = self._pieces, []
        self._opcode, self._size, self._text = 0, 0, None
        return Message("".join(pieces) if text is not None else b"".join(pieces))


def _unmask(key: bytes, payload: bytes) -> bytes:
    """The payload XORed with the repeated 4-byte key, as one big integer (C speed)."""
    n = len(payload)
    mask = (bytes(key) * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(mask, "big")).to_bytes(n, "big")


def frame(opcode: int, payload: bytes) -> bytes:
    """A server's frame: final, unmasked."""
    n = len(payload)
    if n < 126:
        return bytes((0x80 | opcode, n)) + payload
    if n < 65536:
        return bytes((0x80 | opcode, 126)) + _U16.pack(n) + payload
    return bytes((0x80 | opcode, 127)) + _U64.pack(n) + payload


def close_frame(code: int, reason: str = "") -> bytes:
    """A close frame with code (none for 1005) and reason, cut to fit a control frame."""
    if code == NO_STATUS:
        return frame(CLOSE, b"")
    return frame(CLOSE, _U16.pack(code) + _cut(reason.encode("utf-8"), MAX_REASON))


def _cut(data: bytes, size: int) -> bytes:
    """At most size bytes of UTF-8, not cutting a character."""
    if len(data) <= size:
        return data
    return data[:size].decode("utf-8", "ignore").encode("utf-8")
