# The events an ASGI app passes to send() on a WebSocket, checked, and the order they must come
# in; pure, runs in the runner.
from __future__ import annotations

import re
from typing import Any, NamedTuple, Optional, Union

from .asgi_events import EventOrderError, describe, parse_body, parse_headers, parse_start
from .frames import Buffer, Headers

ACCEPT = "websocket.accept"
SEND = "websocket.send"
CLOSE = "websocket.close"
DENIAL_START = "websocket.http.response.start"
DENIAL_BODY = "websocket.http.response.body"

CONNECTING = "connecting"
OPEN = "open"
# The app sent websocket.http.response.start; its body is to come.
DENYING = "denying"
DENIED = "denied"
CLOSED = "closed"
FAILED = "failed"

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")
# A close frame's payload is at most 125 bytes, 2 of them the code.
MAX_REASON = 123


class Accept(NamedTuple):
    subprotocol: Optional[str]
    headers: Headers


class Send(NamedTuple):
    data: Buffer
    text: bool


class Close(NamedTuple):
    code: int
    reason: str


class DenialStart(NamedTuple):
    status: int
    headers: Headers


class DenialBody(NamedTuple):
    body: Buffer
    more: bool


WebSocketEvent = Union[Accept, Send, Close, DenialStart, DenialBody]

_NAMES = {Accept: ACCEPT, Send: SEND, Close: CLOSE, DenialStart: DENIAL_START,
          DenialBody: DENIAL_BODY}


def parse_websocket_event(message: Any) -> WebSocketEvent:
    if not isinstance(message, dict) or "type" not in message:
        raise TypeError(f"send: an event must be a dict with a 'type', got {describe(message)}")
    kind = message["type"]
    if kind == SEND:
        return _send(message)
    if kind == ACCEPT:
        return _accept(message)
    if kind == CLOSE:
        return _close(message)
    if kind == DENIAL_START:
        return DenialStart(*parse_start(message, DENIAL_START))
    if kind == DENIAL_BODY:
        return DenialBody(*parse_body(message, DENIAL_BODY))
    raise ValueError(f"send: unknown event type {kind!r} on a WebSocket; expected one of "
                     f"{', '.join(map(repr, _NAMES.values()))}")


def advance(phase: str, event: WebSocketEvent) -> str:
    """The phase after event, or EventOrderError naming the rule it breaks."""
    name = _NAMES[type(event)]
    if phase == CLOSED:
        raise EventOrderError(f"{name} sent after {CLOSE}")
    if phase == DENIED:
        raise EventOrderError(f"{name} sent after the denial response was complete")
    if phase == FAILED:
        raise EventOrderError(f"{name} sent after the connection had already failed")
    if phase == DENYING:
        if isinstance(event, DenialBody):
            return DENYING if event.more else DENIED
        if isinstance(event, DenialStart):
            raise EventOrderError(f"{DENIAL_START} sent twice")
        raise EventOrderError(f"{name} sent during the denial response (after {DENIAL_START})")
    if isinstance(event, Close):
        return CLOSED
    if phase == CONNECTING:
        if isinstance(event, Accept):
            return OPEN
        if isinstance(event, DenialStart):
            return DENYING
        if isinstance(event, DenialBody):
            raise EventOrderError(f"{DENIAL_BODY} sent before {DENIAL_START}")
        raise EventOrderError(f"{SEND} sent before {ACCEPT}")
    # OPEN
    if isinstance(event, Send):
        return OPEN
    if isinstance(event, Accept):
        raise EventOrderError(f"{ACCEPT} sent twice")
    raise EventOrderError(f"{name} sent after {ACCEPT}")


def _send(message: Any) -> Send:
    data, text = message.get("bytes"), message.get("text")
    if (data is None) == (text is None):
        raise ValueError(f"{SEND}: exactly one of 'bytes' and 'text' must be given (not None), "
                         f"got {'both' if data is not None else 'neither'}")
    if text is not None:
        if not isinstance(text, str):
            raise TypeError(f"{SEND}: 'text' must be a str, got {describe(text)}")
        try:
            return Send(text.encode("utf-8"), True)
        except UnicodeEncodeError as error:
            raise ValueError(f"{SEND}: 'text' cannot be encoded as UTF-8: {error}") from None
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"{SEND}: 'bytes' must be a byte string, got {describe(data)}")
    return Send(data, False)


def _accept(message: Any) -> Accept:
    subprotocol = message.get("subprotocol")
    if subprotocol is not None and not (isinstance(subprotocol, str)
                                        and _TOKEN.match(subprotocol)):
        raise ValueError(f"{ACCEPT}: 'subprotocol' must be None or a token (one of the "
                         f"scope's subprotocols), got {describe(subprotocol)}")
    headers = parse_headers(message.get("headers", ()), ACCEPT)
    for index, (name, _) in enumerate(headers):
        # The server writes the handshake's own headers; the subprotocol has its own key.
        if name.startswith(b"sec-websocket-"):
            raise ValueError(f"{ACCEPT}: headers[{index}]: {name.decode()!r} is the server's "
                             f"to set during the handshake; give the subprotocol as "
                             f"'subprotocol'")
    return Accept(subprotocol, headers)


def _close(message: Any) -> Close:
    code = message.get("code", 1000)
    if not isinstance(code, int) or isinstance(code, bool) or not _sendable_code(code):
        raise ValueError(f"{CLOSE}: 'code' must be an int a close frame may carry (1000 to 1003, "
                         f"1007 to 1014, or 3000 to 4999), got {describe(code)}")
    reason = message.get("reason") or ""
    if not isinstance(reason, str):
        raise TypeError(f"{CLOSE}: 'reason' must be a str, got {describe(reason)}")
    encoded = reason.encode("utf-8", "replace")
    if len(encoded) > MAX_REASON:
        raise ValueError(f"{CLOSE}: 'reason' is {len(encoded)} bytes in UTF-8; a close frame "
                         f"holds at most {MAX_REASON}")
    return Close(code, reason)


def _sendable_code(code: int) -> bool:
    # RFC 6455 7.4: 1004 is reserved, and 1005, 1006 and 1015 only report what happened.
    return 1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999
