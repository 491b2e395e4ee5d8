# The frame codec of ../../protocol/frames/SPEC.md, pure and without I/O; runs in the runner.
from __future__ import annotations

import struct
from typing import Dict, List, NamedTuple, Optional, Tuple, Union

VERSION = 11

HELLO = 0x01
READY = 0x02
FATAL = 0x03
SHUTDOWN = 0x04
LOG = 0x05
PING = 0x06
PONG = 0x07
HTTP_REQUEST = 0x10
HTTP_BODY = 0x11
HTTP_DISCONNECT = 0x12
HTTP_RESPONSE = 0x13
HTTP_RESPONSE_BODY = 0x14
HTTP_ERROR = 0x15
CREDIT = 0x16
HTTP_TRAILERS = 0x17
HTTP_PATHSEND = 0x18
HTTP_EARLY_HINT = 0x19
HTTP_CLOSED = 0x1A
HTTP_WITHDRAW = 0x1B
HTTP_WITHDRAWN = 0x1C
HTTP_BORROW = 0x1D
HTTP_NOT_LENT = 0x1E
HTTP_RETURNED = 0x1F
WS_CONNECT = 0x20
WS_ACCEPT = 0x21
WS_MESSAGE = 0x22
WS_CLOSE = 0x23
HTTP_RECEIVE = 0x24
HTTP_RECEIVED = 0x25

# Where a LOG frame's text was written, as its u8 code (index + 1).
LOG_SOURCES = ("stdout", "stderr", "wsgi.errors", "runner")

MORE = 0x01
# HTTP_REQUEST and WS_CONNECT: the TLS fields follow the headers.
TLS = 0x02
# HTTP_REQUEST: the path of the file that holds the whole body follows (after the TLS fields).
BODY_FILE = 0x04
# HTTP_REQUEST: the runner may borrow the client's socket to write body bytes (HTTP_BORROW).
LENDABLE = 0x08
# HTTP_REQUEST: the body is the one the runner received for the stream (HTTP_RECEIVE).
HELD = 0x10
# HTTP_RESPONSE: the app announced trailers, so HTTP_TRAILERS ends the response.
TRAILERS = 0x01
# WS_MESSAGE: the message is text (UTF-8), on each of its frames.
TEXT = 0x02
MAX_PAYLOAD = 1024 * 1024
MAX_LENGTH = 5 + MAX_PAYLOAD

Buffer = Union[bytes, bytearray, memoryview]
Address = Optional[Tuple[str, int]]
Headers = List[Tuple[bytes, bytes]]


class ProtocolError(Exception):
    pass


class Hello(NamedTuple):
    stream: int
    version: int
    python_version: str


class Ready(NamedTuple):
    stream: int
    interface: str


class Fatal(NamedTuple):
    stream: int
    exit_code: int
    message: str


class Shutdown(NamedTuple):
    stream: int


class Log(NamedTuple):
    """One write to a stream, or one log record (level > 0); sent on the log pipe, fd 4."""
    stream: int
    source: str
    level: int
    logger: str
    text: str


class TlsHead(NamedTuple):
    """A TLS connection as the app is told of it (ASGI's tls extension, WSGI's SSL_CLIENT_*)."""
    version: int  # 0x0304 for TLS 1.3; 0: unknown
    cipher_suite: int  # IANA's number; 0: unknown
    server_cert: str  # PEM; empty when unknown
    client_cert_name: str  # RFC 4514; empty without a client certificate
    client_cert_chain: Tuple[str, ...]  # PEM, the client's certificate first
class Ping(NamedTuple):
    stream: int
    seq: int


class Pong(NamedTuple):
    stream: int
    seq: int


class HttpRequest(NamedTuple):
    stream: int
    more: bool
    method: str
    scheme: str
    http_version: str
    path: bytes
    query_string: bytes
    root_path: bytes
    client: Address
    server: Address
    headers: Headers
    tls: Optional[TlsHead] = None
    # The whole body is in this file (the worker's, by a /proc path), not in HTTP_BODY frames.
    body_file: Optional[bytes] = None
    # The runner may borrow the client's socket to write body bytes to it (HTTP_BORROW).
    lendable: bool = False
    # The body is the one the runner received from the client's socket (HTTP_RECEIVE).
    held: bool = False


class HttpBody(NamedTuple):
    stream: int
    more: bool
    body: Buffer


class HttpDisconnect(NamedTuple):
    stream: int


class HttpResponse(NamedTuple):
    stream: int
    status: int
    headers: Headers
    trailers: bool = False


class HttpResponseBody(NamedTuple):
    stream: int
    more: bool
    body: Buffer


class HttpError(NamedTuple):
    stream: int
    message: str


class Credit(NamedTuple):
    stream: int
    amount: int


class HttpTrailers(NamedTuple):
    stream: int
    headers: Headers


class HttpPathsend(NamedTuple):
    stream: int
    path: bytes


class HttpEarlyHint(NamedTuple):
    stream: int
    links: List[bytes]


class WsConnect(NamedTuple):
    """The head of an HTTP_REQUEST; of its flags only TLS and LENDABLE."""
    stream: int
    method: str
    scheme: str
    http_version: str
    path: bytes
    query_string: bytes
    root_path: bytes
    client: Address
    server: Address
    headers: Headers
    tls: Optional[TlsHead] = None
    # The runner may frame the connection itself on the client's socket, asking for it with
    # HTTP_BORROW before WS_ACCEPT ("A WebSocket on the client's socket").
    lendable: bool = False


class WsAccept(NamedTuple):
    stream: int
    subprotocol: str
    headers: Headers


class WsMessage(NamedTuple):
    stream: int
    more: bool
    text: bool
    body: Buffer


class WsClose(NamedTuple):
    stream: int
    code: int
    reason: str


class HttpClosed(NamedTuple):
    stream: int


class HttpWithdraw(NamedTuple):
    stream: int


class HttpWithdrawn(NamedTuple):
    stream: int


class HttpBorrow(NamedTuple):
    """Asks for the client's socket, to write the next body bytes to it."""
    stream: int


class HttpNotLent(NamedTuple):
    """The worker keeps the socket: the body goes on in frames."""
    stream: int


class HttpReturned(NamedTuple):
    """The borrowed socket is closed here, after `amount` body bytes went to it."""
    stream: int
    amount: int


class HttpReceive(NamedTuple):
    """A request body of `length` bytes, of which the worker had `body`: the runner takes the
    rest from the client's socket (HTTP_BORROW), before the request comes."""
    stream: int
    length: int
    body: Buffer


class HttpReceived(NamedTuple):
    """`amount` more bytes of that body came; without `more`, the socket is closed here."""
    stream: int
    more: bool
    amount: int


Frame = Union[Hello, Ready, Fatal, Shutdown, Log, Ping, Pong, HttpRequest, HttpBody, HttpDisconnect,
              HttpResponse, HttpResponseBody, HttpError, Credit, HttpTrailers, HttpPathsend,
              HttpEarlyHint, HttpClosed, HttpWithdraw, HttpWithdrawn, HttpBorrow, HttpNotLent,
              HttpReturned, HttpReceive, HttpReceived, WsConnect, WsAccept, WsMessage, WsClose]

_HEAD = struct.Struct(">IBI")
_BODY_HEAD = struct.Struct(">IBIB")
_U8 = struct.Struct(">B")
_U16 = struct.Struct(">H")
_FLAGS_STATUS = struct.Struct(">BH")
_U32 = struct.Struct(">I")

_CONTROL_TYPES = frozenset((HELLO, READY, FATAL, SHUTDOWN, LOG, PING, PONG))
_STREAM_TYPES = frozenset((HTTP_REQUEST, HTTP_BODY, HTTP_DISCONNECT, HTTP_RESPONSE,
                           HTTP_RESPONSE_BODY, HTTP_ERROR, CREDIT, HTTP_TRAILERS, HTTP_PATHSEND,
                           HTTP_EARLY_HINT, HTTP_CLOSED, HTTP_WITHDRAW, HTTP_WITHDRAWN, HTTP_BORROW,
                           HTTP_NOT_LENT, HTTP_RETURNED, HTTP_RECEIVE, HTTP_RECEIVED, WS_CONNECT,
                           WS_ACCEPT, WS_MESSAGE, WS_CLOSE))


class _Writer:
    __slots__ = ("out",)

    def __init__(self) -> None:
        self.out = bytearray()

    def u8(self, value: int) -> None:
        self.out += _U8.pack(value)

    def u16(self, value: int) -> None:
        self.out += _U16.pack(value)

    def u32(self, value: int) -> None:
        self.out += _U32.pack(value)

    def bytes_(self, value: Buffer) -> None:
        self.out += _U32.pack(len(value))
        self.out += value

    def text(self, value: str) -> None:
        self.bytes_(value.encode("utf-8", "replace"))

    def request_head(self, frame: Union[HttpRequest, WsConnect]) -> None:
        """The ports, the header count, every field's length, then every field's bytes."""
        fields = [frame.method.encode("utf-8"), frame.scheme.encode("utf-8"),
                  frame.http_version.encode("utf-8"), frame.path, frame.query_string,
                  frame.root_path]
        for address in (frame.client, frame.server):
            fields.append(b"" if address is None else address[0].encode("utf-8"))
        for name, value in frame.headers:
            fields += (name, value)
        self.u16(0 if frame.client is None else frame.client[1])
        self.u16(0 if frame.server is None else frame.server[1])
        self.u32(len(frame.headers))
        for field in fields:
            self.u32(len(field))
        for field in fields:
            self.out += field

    def headers(self, value: Headers) -> None:
        self.u32(len(value))
        for name, header_value in value:
            self.bytes_(name)
            self.bytes_(header_value)


def _payload(frame: Frame) -> bytearray:
    w = _Writer()
    if isinstance(frame, Hello):
        w.u8(frame.version)
        w.text(frame.python_version)
    elif isinstance(frame, Ready):
        w.text(frame.interface)
    elif isinstance(frame, Fatal):
        w.u8(frame.exit_code)
        w.text(frame.message)
    elif isinstance(frame, Log):
        w.u8(LOG_SOURCES.index(frame.source) + 1)
        w.u8(frame.level)
        w.text(frame.logger)
        w.text(frame.text)
    elif isinstance(frame, (Ping, Pong)):
        w.u32(frame.seq)
    elif isinstance(frame, (HttpRequest, WsConnect)):
        body_file = frame.body_file if isinstance(frame, HttpRequest) else None
        request = isinstance(frame, HttpRequest)
        w.u8((MORE if request and frame.more else 0) | (0 if frame.tls is None else TLS)
             | (0 if body_file is None else BODY_FILE)
             | (LENDABLE if frame.lendable else 0)
             | (HELD if request and frame.held else 0))
        w.request_head(frame)
        if frame.tls is not None:
            w.u16(frame.tls.version)
            w.u16(frame.tls.cipher_suite)
            w.text(frame.tls.server_cert)
            w.text(frame.tls.client_cert_name)
            w.u32(len(frame.tls.client_cert_chain))
            for cert in frame.tls.client_cert_chain:
                w.text(cert)
        if body_file is not None:
            w.bytes_(body_file)
    elif isinstance(frame, HttpError):
        w.text(frame.message)
    elif isinstance(frame, Credit):
        w.u32(frame.amount)
    elif isinstance(frame, HttpReturned):
        w.u32(frame.amount)
    elif isinstance(frame, HttpReceive):
        w.u32(frame.length)
        w.out += frame.body
    elif isinstance(frame, HttpReceived):
        w.u8(MORE if frame.more else 0)
        w.u32(frame.amount)
    elif isinstance(frame, HttpTrailers):
        w.headers(frame.headers)
    elif isinstance(frame, HttpPathsend):
        w.bytes_(frame.path)
    elif isinstance(frame, HttpEarlyHint):
        w.u32(len(frame.links))
        for link in frame.links:
            w.bytes_(link)
    elif isinstance(frame, WsAccept):
        w.text(frame.subprotocol)
        w.headers(frame.headers)
    elif isinstance(frame, WsClose):
        w.u16(frame.code)
        w.text(frame.reason)
    return w.out


def _response_head(status: int, headers: Headers, trailers: bool) -> bytes:
    """HTTP_RESPONSE's payload, packed without a call per field."""
    pack = _U32.pack
    parts = [_FLAGS_STATUS.pack(TRAILERS if trailers else 0, status), pack(len(headers))]
    for name, value in headers:
        parts += (pack(len(name)), name, pack(len(value)), value)
    payload = b"".join(parts)
    if len(payload) > MAX_PAYLOAD:
        raise ProtocolError(f"a payload is at most {MAX_PAYLOAD} bytes, got {len(payload)}")
    return payload


_TYPE_OF = {
    Hello: HELLO, Ready: READY, Fatal: FATAL, Shutdown: SHUTDOWN, Log: LOG, Ping: PING, Pong: PONG,
    HttpRequest: HTTP_REQUEST, HttpBody: HTTP_BODY, HttpDisconnect: HTTP_DISCONNECT,
    HttpResponse: HTTP_RESPONSE, HttpResponseBody: HTTP_RESPONSE_BODY, HttpError: HTTP_ERROR,
    Credit: CREDIT, HttpTrailers: HTTP_TRAILERS, HttpPathsend: HTTP_PATHSEND,
    HttpEarlyHint: HTTP_EARLY_HINT, HttpClosed: HTTP_CLOSED, HttpWithdraw: HTTP_WITHDRAW,
    HttpWithdrawn: HTTP_WITHDRAWN, HttpBorrow: HTTP_BORROW, HttpNotLent: HTTP_NOT_LENT,
    HttpReturned: HTTP_RETURNED, HttpReceive: HTTP_RECEIVE, HttpReceived: HTTP_RECEIVED,
    WsConnect: WS_CONNECT,
    WsAccept: WS_ACCEPT, WsMessage: WS_MESSAGE, WsClose: WS_CLOSE,
}


def encode_parts(frame: Frame) -> List[Buffer]:
    """The frame as buffers to write in order; a body is passed through, never copied."""
    frame_type = _TYPE_OF[type(frame)]
    if isinstance(frame, (HttpBody, HttpResponseBody, WsMessage)):
        size = len(frame.body)
        if size > MAX_PAYLOAD - 1:
            raise ProtocolError(f"a body frame carries at most {MAX_PAYLOAD - 1} bytes, got {size}")
        flags = MORE if frame.more else 0
        if isinstance(frame, WsMessage) and frame.text:
            flags |= TEXT
        head = _BODY_HEAD.pack(6 + size, frame_type, frame.stream, flags)
        return [head, frame.body] if size else [head]
    if type(frame) is HttpResponse:
        payload = _response_head(frame.status, frame.headers, frame.trailers)
    else:
        payload = _payload(frame)
        if len(payload) > MAX_PAYLOAD:
            raise ProtocolError(f"a payload is at most {MAX_PAYLOAD} bytes, got {len(payload)}")
    return [_HEAD.pack(5 + len(payload), frame_type, frame.stream) + payload]


def encode_response(stream: int, status: int, headers: Headers, body: bytes) -> List[bytes]:
    """What encode_parts gives for an HTTP_RESPONSE without trailers followed by its one
    HTTP_RESPONSE_BODY (without MORE), made without either frame: a response sent whole, as
    nearly every one is. Both heads come in one buffer, the body after it as it is."""
    payload = _response_head(status, headers, False)
    size = len(body)
    if size > MAX_PAYLOAD - 1:
        raise ProtocolError(f"a body frame carries at most {MAX_PAYLOAD - 1} bytes, got {size}")
    heads = b"".join((_HEAD.pack(5 + len(payload), HTTP_RESPONSE, stream), payload,
                      _BODY_HEAD.pack(6 + size, HTTP_RESPONSE_BODY, stream, 0)))
    return [heads, body] if size else [heads]


def encode_message(stream: int, text: bool, data: bytes) -> List[bytes]:
    """What encode_parts gives for a WS_MESSAGE without MORE, a whole message in one frame, made
    without the frame."""
    size = len(data)
    if size > MAX_PAYLOAD - 1:
        raise ProtocolError(f"a body frame carries at most {MAX_PAYLOAD - 1} bytes, got {size}")
    head = _BODY_HEAD.pack(6 + size, WS_MESSAGE, stream, TEXT if text else 0)
    return [head, data] if size else [head]


def encode(frame: Frame) -> bytes:
    return b"".join(encode_parts(frame))


class _Cursor:
    __slots__ = ("view", "pos")

    def __init__(self, view: memoryview) -> None:
        self.view = view
        self.pos = 0

    def _need(self, n: int) -> None:
        if self.pos + n > len(self.view):
            raise ProtocolError(f"payload ends {self.pos + n - len(self.view)} bytes early")

    def u8(self) -> int:
        self._need(1)
        self.pos += 1
        return self.view[self.pos - 1]

    def u16(self) -> int:
        self._need(2)
        (value,) = _U16.unpack_from(self.view, self.pos)
        self.pos += 2
        return value

    def u32(self) -> int:
        self._need(4)
        (value,) = _U32.unpack_from(self.view, self.pos)
        self.pos += 4
        return value

    def bytes_(self) -> bytes:
        n = self.u32()
        self._need(n)
        self.pos += n
        return self.view[self.pos - n:self.pos].tobytes()

    def text(self) -> str:
        try:
            return self.bytes_().decode("utf-8")
        except UnicodeDecodeError as error:
            raise ProtocolError(f"a string is not UTF-8: {error}") from None

    def flags(self) -> bool:
        return bool(self.u8() & MORE)

    def byte_strings(self) -> List[bytes]:
        count = self.u32()
        self._need(4 * count)
        return [self.bytes_() for _ in range(count)]

    def headers(self) -> Headers:
        count = self.u32()
        # Each pair takes at least 8 bytes, so a lying count fails here, not after a huge loop.
        self._need(8 * count)
        return [(self.bytes_(), self.bytes_()) for _ in range(count)]

    def rest(self) -> memoryview:
        view = self.view[self.pos:]
        self.pos = len(self.view)
        return view

    def end(self) -> None:
        if self.pos != len(self.view):
            raise ProtocolError(f"{len(self.view) - self.pos} bytes after the payload")


RequestFields = Tuple[int, List[bytes], int, int, Headers, Optional[TlsHead], Optional[bytes]]


# The start of HTTP_REQUEST's and WS_CONNECT's payload: the flags, the two ports, the header
# count and the lengths of the eight fields before the headers.
_REQUEST_HEAD = struct.Struct(">BHHI8I")
# The lengths of a head's header names and values, by header count (up to a bound).
_HEADER_LENGTHS: Dict[int, struct.Struct] = {}


def _new_header_lengths(count: int) -> struct.Struct:
    lengths = struct.Struct(f">{2 * count}I")
    if len(_HEADER_LENGTHS) < 128:
        _HEADER_LENGTHS[count] = lengths
    return lengths


def _request_fields(view: memoryview) -> RequestFields:
    """The payload of HTTP_REQUEST and WS_CONNECT: the flags, the ports, then every length
    (method, scheme, http_version, path, query_string, root_path, client host, server host, each
    header's name and value) before the bytes they measure, then the TLS fields and the body's
    file. The lengths are read at once and checked against the payload before any field is cut
    from its one bytes copy; the fields after the headers are read one by one."""
    data = view.tobytes()
    size = len(data)
    start = _REQUEST_HEAD.size
    if size < start:
        raise ProtocolError(f"payload ends {start - size} bytes early")
    (flags, client_port, server_port, count, method_n, scheme_n, version_n, path_n, query_n,
     root_n, client_n, server_n) = _REQUEST_HEAD.unpack_from(data)
    p = start + 8 * count
    if p > size:
        raise ProtocolError(f"payload ends {p - size} bytes early")
    lengths = (_HEADER_LENGTHS.get(count) or _new_header_lengths(count)).unpack_from(data, start)
    end = (p + method_n + scheme_n + version_n + path_n + query_n + root_n + client_n + server_n
           + sum(lengths))
    if end != size and (end > size or not flags & (TLS | BODY_FILE)):
        raise ProtocolError(f"payload ends {end - size} bytes early" if end > size
                            else f"{size - end} bytes after the payload")
    # One field after another, unrolled: a loop over the lengths costs a tenth more.
    e = p + method_n
    method, p = data[p:e], e
    e = p + scheme_n
    scheme, p = data[p:e], e
    e = p + version_n
    version, p = data[p:e], e
    e = p + path_n
    path, p = data[p:e], e
    e = p + query_n
    query, p = data[p:e], e
    e = p + root_n
    root, p = data[p:e], e
    e = p + client_n
    client, p = data[p:e], e
    e = p + server_n
    server, p = data[p:e], e
    headers: Headers = []
    pairs = iter(lengths)
    for name_n, value_n in zip(pairs, pairs):
        e = p + name_n
        q = e + value_n
        headers.append((data[p:e], data[e:q]))
        p = q
    tls = None
    body_file = None
    if flags & (TLS | BODY_FILE):
        c = _Cursor(view[end:])
        if flags & TLS:
            tls_version, cipher_suite = c.u16(), c.u16()
            server_cert, name_text = c.text(), c.text()
            chain = tuple(c.text() for _ in range(c.u32()))
            tls = TlsHead(tls_version, cipher_suite, server_cert, name_text, chain)
        if flags & BODY_FILE:
            body_file = c.bytes_()
        c.end()
    return (flags, [method, scheme, version, path, query, root, client, server], client_port,
            server_port, headers, tls, body_file)


# Methods, schemes and versions are a few short strings, each decoded once (up to a bound).
_DECODED: Dict[bytes, str] = {}


def _decoded(raw: bytes) -> str:
    text = _DECODED.get(raw)
    if text is None:
        text = raw.decode("utf-8")
        if len(_DECODED) < 256:
            _DECODED[raw] = text
    return text


def _request_head(frame_type: int, stream: int, view: memoryview) -> Frame:
    flags, s, client_port, server_port, headers, tls, body_file = _request_fields(view)
    try:
        method, scheme, version = _decoded(s[0]), _decoded(s[1]), _decoded(s[2])
        client_host, server_host = s[6].decode("utf-8"), s[7].decode("utf-8")
    except UnicodeDecodeError as error:
        raise ProtocolError(f"a string is not UTF-8: {error}") from None
    client = (client_host, client_port) if client_host else None
    server = (server_host, server_port) if server_host else None
    if frame_type == HTTP_REQUEST:
        return HttpRequest(stream, bool(flags & MORE), method, scheme, version, s[3], s[4], s[5],
                           client, server, headers, tls, body_file, bool(flags & LENDABLE),
                           bool(flags & HELD))
    return WsConnect(stream, method, scheme, version, s[3], s[4], s[5], client, server, headers, tls,
                     bool(flags & LENDABLE))


def _parse_payload(frame_type: int, stream: int, c: _Cursor) -> Frame:
    # The frames of every body and message first: they come most often.
    if frame_type == WS_MESSAGE:
        flags = c.u8()
        return WsMessage(stream, bool(flags & MORE), bool(flags & TEXT), c.rest())
    if frame_type == HTTP_BODY:
        return HttpBody(stream, c.flags(), c.rest())
    if frame_type == CREDIT:
        return Credit(stream, c.u32())
    if frame_type == HELLO:
        return Hello(stream, c.u8(), c.text())
    if frame_type == READY:
        return Ready(stream, c.text())
    if frame_type == FATAL:
        return Fatal(stream, c.u8(), c.text())
    if frame_type == SHUTDOWN:
        return Shutdown(stream)
    if frame_type == LOG:
        code = c.u8()
        if not 1 <= code <= len(LOG_SOURCES):
            raise ProtocolError(f"unknown log source {code}")
        return Log(stream, LOG_SOURCES[code - 1], c.u8(), c.text(), c.text())
    if frame_type == PING:
        return Ping(stream, c.u32())
    if frame_type == PONG:
        return Pong(stream, c.u32())
    if frame_type == HTTP_CLOSED:
        return HttpClosed(stream)
    if frame_type == HTTP_WITHDRAW:
        return HttpWithdraw(stream)
    if frame_type == HTTP_BORROW:
        return HttpBorrow(stream)
    if frame_type == HTTP_NOT_LENT:
        return HttpNotLent(stream)
    if frame_type == HTTP_RETURNED:
        return HttpReturned(stream, c.u32())
    if frame_type == HTTP_RECEIVE:
        return HttpReceive(stream, c.u32(), c.rest())
    if frame_type == HTTP_RECEIVED:
        return HttpReceived(stream, c.flags(), c.u32())
    if frame_type == HTTP_WITHDRAWN:
        return HttpWithdrawn(stream)
    if frame_type == HTTP_DISCONNECT:
        return HttpDisconnect(stream)
    if frame_type == HTTP_RESPONSE:
        trailers = bool(c.u8() & TRAILERS)
        return HttpResponse(stream, c.u16(), c.headers(), trailers)
    if frame_type == HTTP_RESPONSE_BODY:
        return HttpResponseBody(stream, c.flags(), c.rest())
    if frame_type == HTTP_ERROR:
        return HttpError(stream, c.text())
    if frame_type == HTTP_TRAILERS:
        return HttpTrailers(stream, c.headers())
    if frame_type == HTTP_PATHSEND:
        return HttpPathsend(stream, c.bytes_())
    if frame_type == HTTP_EARLY_HINT:
        return HttpEarlyHint(stream, c.byte_strings())
    if frame_type == WS_ACCEPT:
        return WsAccept(stream, c.text(), c.headers())
    if frame_type == WS_CLOSE:
        return WsClose(stream, c.u16(), c.text())
    raise ProtocolError(f"unknown frame type 0x{frame_type:02x}")


def _parse(view: memoryview) -> Frame:
    """One frame from the bytes after its length field."""
    frame_type = view[0]
    (stream,) = _U32.unpack_from(view, 1)
    on_control_stream = stream == 0
    if (frame_type in _CONTROL_TYPES and not on_control_stream) or (
            frame_type in _STREAM_TYPES and on_control_stream):
        raise ProtocolError(f"frame type 0x{frame_type:02x} on stream {stream}")
    if frame_type == HTTP_REQUEST or frame_type == WS_CONNECT:
        return _request_head(frame_type, stream, view[5:])
    cursor = _Cursor(view[5:])
    frame = _parse_payload(frame_type, stream, cursor)
    cursor.end()
    return frame


def _check_length(length: int) -> None:
    if not 5 <= length <= MAX_LENGTH:
        raise ProtocolError(f"frame length {length} is outside 5..{MAX_LENGTH}")


# An HTTP_BODY frame's length, type, stream and flags: what comes before its body bytes.
_BODY_START = 10


class FrameDecoder:
    """Turns bytes as they arrive into frames. A frame that arrives whole inside one chunk is
    parsed in place, its body a view of that chunk; a frame split across chunks is gathered
    into one buffer of its exact size, which its body then views.

    But an HTTP_BODY frame with MORE split across chunks comes out as one such frame per chunk,
    each with MORE and its part of the body, a view of the chunk: the same body in the same
    order, not gathered. The worker sends frames of up to 256 KiB and a read brings up to 256
    KiB, so most body frames are split; the request body joins the parts anyway when the app
    takes them (wsgi.input's reads, an ASGI receive()), and gathering them first cost a copy,
    and the zeroed buffer to copy into, of every uploaded byte."""

    def __init__(self) -> None:
        self._length_bytes = bytearray()
        self._partial: Optional[bytearray] = None
        self._filled = 0
        # The HTTP_BODY frame with MORE being handed out: its stream, its bytes still to come.
        self._body_stream = 0
        self._body_left = 0

    def feed(self, data: Buffer) -> List[Frame]:
        view = memoryview(data)
        frames: List[Frame] = []
        while view:
            if self._body_left:
                n = min(self._body_left, len(view))
                frames.append(HttpBody(self._body_stream, True, view[:n]))
                self._body_left -= n
                view = view[n:]
            elif self._partial is not None:
                n = min(len(self._partial) - self._filled, len(view))
                self._partial[self._filled:self._filled + n] = view[:n]
                self._filled += n
                view = view[n:]
                if self._filled == len(self._partial):
                    frames.append(_parse(memoryview(self._partial)))
                    self._partial = None
            elif self._length_bytes or len(view) < 4:
                n = 4 - len(self._length_bytes)
                self._length_bytes += view[:n]
                view = view[n:]
                if len(self._length_bytes) == 4:
                    (length,) = _U32.unpack(self._length_bytes)
                    self._length_bytes = bytearray()
                    self._start(length)
            else:
                (length,) = _U32.unpack_from(view)
                _check_length(length)
                if len(view) >= 4 + length:
                    frames.append(_parse(view[4:4 + length]))
                    view = view[4 + length:]
                elif len(view) >= _BODY_START and view[4] == HTTP_BODY and view[9] & MORE:
                    (stream,) = _U32.unpack_from(view, 5)
                    if stream == 0:
                        raise ProtocolError("frame type 0x11 on stream 0")
                    if len(view) > _BODY_START:
                        frames.append(HttpBody(stream, True, view[_BODY_START:]))
                    self._body_stream = stream
                    self._body_left = 4 + length - len(view)
                    view = view[len(view):]
                else:
                    self._start(length)
                    view = view[4:]
        return frames

    def _start(self, length: int) -> None:
        _check_length(length)
        self._partial = bytearray(length)
        self._filled = 0

    @property
    def idle(self) -> bool:
        """True between frames: no partial frame is buffered."""
        return self._partial is None and not self._length_bytes and not self._body_left


def decode(data: Buffer) -> Frame:
    """Exactly one frame, as the whole of data."""
    decoder = FrameDecoder()
    frames = decoder.feed(data)
    if len(frames) != 1 or not decoder.idle:
        raise ProtocolError(f"expected one whole frame, got {len(frames)} and "
                            f"{'nothing' if decoder.idle else 'a partial one'} after")
    return frames[0]
