# The events an ASGI app passes to send(), checked, and the order they must come in; pure, runs
# in the runner. Untrusted app output stops here, as in wsgi_headers.
from __future__ import annotations

from typing import Any, NamedTuple, Union

from .frames import Buffer, Headers
from .wsgi_headers import check_header

START = "http.response.start"
BODY = "http.response.body"

AWAITING_START = "awaiting start"
AWAITING_BODY = "awaiting body"
COMPLETE = "complete"
FAILED = "failed"


class Start(NamedTuple):
    status: int
    headers: Headers


class Body(NamedTuple):
    body: Buffer
    more: bool


ResponseEvent = Union[Start, Body]


class EventOrderError(RuntimeError):
    """send() got an event the response's state does not allow; the message names the rule."""

    def __init__(self, rule: str) -> None:
        super().__init__(f"ASGI event order violated: {rule}")
        self.rule = rule


def parse_send_event(message: Any) -> ResponseEvent:
    if not isinstance(message, dict) or "type" not in message:
        raise TypeError(f"send: an event must be a dict with a 'type', got {_describe(message)}")
    kind = message["type"]
    if kind == START:
        status = message.get("status")
        # Informational (1xx) responses are not final, and bool is an int to Python.
        if not isinstance(status, int) or isinstance(status, bool) or not 200 <= status <= 599:
            raise TypeError(f"{START}: 'status' must be an int from 200 to 599, got "
                            f"{_describe(status)}")
        if message.get("trailers", False) is not False:
            raise ValueError(f"{START}: 'trailers' must be False or absent (this server has no "
                             f"http.response.trailers extension)")
        return Start(status, _headers(message.get("headers", ())))
    if kind == BODY:
        body = message.get("body", b"")
        if not isinstance(body, (bytes, bytearray, memoryview)):
            raise TypeError(f"{BODY}: 'body' must be bytes, got {_describe(body)}")
        more = message.get("more_body", False)
        if not isinstance(more, bool):
            raise TypeError(f"{BODY}: 'more_body' must be a bool, got {_describe(more)}")
        return Body(body, more)
    raise ValueError(f"send: unknown event type {kind!r}; expected {START!r} or {BODY!r}")


def advance(phase: str, event: ResponseEvent) -> str:
    """The phase after event, or EventOrderError naming the rule it breaks."""
    is_start = isinstance(event, Start)
    if phase == AWAITING_START:
        if is_start:
            return AWAITING_BODY
        raise EventOrderError(f"{BODY} sent before {START}")
    if phase == AWAITING_BODY:
        if is_start:
            raise EventOrderError(f"{START} sent twice")
        return AWAITING_BODY if event.more else COMPLETE
    if phase == COMPLETE:
        raise EventOrderError(f"{START if is_start else BODY} sent after the final {BODY}")
    raise EventOrderError("event sent after the response had already failed")


def _headers(headers: Any) -> Headers:
    try:
        items = iter(headers)
    except TypeError:
        raise TypeError(f"{START}: 'headers' must be an iterable of [name, value] byte-string "
                        f"pairs, got {_describe(headers)}") from None
    encoded = []
    for index, pair in enumerate(items):
        if not (isinstance(pair, (list, tuple)) and len(pair) == 2):
            raise TypeError(f"{START}: headers[{index}] must be a [name, value] pair, got "
                            f"{_describe(pair)}")
        name, value = pair
        if not isinstance(name, bytes) or not isinstance(value, bytes):
            raise TypeError(f"{START}: headers[{index}]: name and value must be bytes, got "
                            f"{type(name).__name__} and {type(value).__name__}")
        try:
            encoded.append(check_header(name.decode("latin-1"), value.decode("latin-1")))
        except ValueError as error:
            raise ValueError(f"{START}: headers[{index}]: {error}") from None
    return encoded


def _describe(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text[:60]}{'…' if len(text) > 60 else ''}"
