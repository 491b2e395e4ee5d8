# The events an ASGI app passes to send() on a WebSocket, checked, and the order they must come
# in: the rules that raise in the app (protocol's send/SPEC.md), with the JavaScript gateway's
# words; the accept's hop-by-hop headers are the worker's to drop. Pure; runs in the runner.
from __future__ import annotations

from typing import Any, NamedTuple, Optional, Sequence, Union

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


def parse_websocket_event(message: Any, offered: Sequence[str]) -> WebSocketEvent:
    """The event, or TypeError/ValueError naming the bad field. offered: the subprotocols the
    client offered (the scope's)."""
    if not isinstance(message, dict) or "type" not in message:
        raise TypeError(f"send: an event must be a dict with a type, got {describe(message)}")
    kind = message["type"]
    if kind == SEND:
        return _send(message)
    if kind == ACCEPT:
        return _accept(message, offered)
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
    if phase in (CLOSED, DENIED):
        raise EventOrderError(f"{name} sent after the WebSocket was closed or denied")
    if phase == FAILED:
        raise EventOrderError(f"{name} sent after the connection had already failed")
    if phase == DENYING:
        if isinstance(event, DenialBody):
            return DENYING if event.more else DENIED
        if isinstance(event, DenialStart):
            raise EventOrderError(f"{DENIAL_START} sent twice")
        raise EventOrderError(f"{name} sent during a websocket.http.response")
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
        raise ValueError(f"{SEND}: exactly one of bytes and text must be set (not None), got "
                         f"{'both' if data is not None else 'neither'}")
    if text is not None:
        if not isinstance(text, str):
            raise TypeError(f"{SEND}: text must be a string, got {describe(text)}")
        try:
            return Send(text.encode("utf-8"), True)
        except UnicodeEncodeError as error:
            raise ValueError(f"{SEND}: text cannot be encoded as UTF-8: {error}") from None
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"{SEND}: bytes must be a byte string, got {describe(data)}")
    return Send(data, False)


def _accept(message: Any, offered: Sequence[str]) -> Accept:
    subprotocol = message.get("subprotocol")
    if subprotocol is not None:
        if not isinstance(subprotocol, str):
            raise TypeError(f"{ACCEPT}: subprotocol must be a string or None, got "
                            f"{describe(subprotocol)}")
        if subprotocol not in offered:
            listed = ", ".join(map(repr, offered)) or "none"
            raise ValueError(f"{ACCEPT}: subprotocol {subprotocol!r} is not one the client "
                             f"offered (it offered {listed})")
    headers = parse_headers(message.get("headers", ()), ACCEPT)
    for index, (name, _) in enumerate(headers):
        where = f"{ACCEPT}: headers[{index}]"
        # The server writes the handshake's own headers; the subprotocol has its own key.
        if name.startswith(b"sec-websocket-"):
            hint = ("; pass the subprotocol field instead"
                    if name == b"sec-websocket-protocol" else "")
            raise ValueError(f"{where} {name.decode()} is set by the server for the "
                             f"handshake{hint}")
        # RFC 9110 8.6: a server must not send one in a 1xx response.
        if name == b"content-length":
            raise ValueError(f"{where} content-length: a 101 response has no body")
    return Accept(subprotocol, headers)


def _close(message: Any) -> Close:
    code = message.get("code")
    if code is None:
        code = 1000
    if not isinstance(code, int) or isinstance(code, bool) or not _sendable_code(code):
        raise ValueError(f"{CLOSE}: code must be a close code an endpoint may send (1000 to "
                         f"1003, 1007 to 1014, or 3000 to 4999), got {describe(code)}")
    reason = message.get("reason")
    if reason is None:
        reason = ""
    if not isinstance(reason, str):
        raise TypeError(f"{CLOSE}: reason must be a string, got {describe(reason)}")
    encoded = reason.encode("utf-8", "replace")
    if len(encoded) > MAX_REASON:
        raise ValueError(f"{CLOSE}: reason must be at most {MAX_REASON} bytes of UTF-8 (a close "
                         f"frame holds 125), got {len(encoded)}")
    return Close(code, reason)


def _sendable_code(code: int) -> bool:
    # RFC 6455 7.4: 1004 is reserved, and 1005, 1006 and 1015 only report what happened.
    return 1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999
