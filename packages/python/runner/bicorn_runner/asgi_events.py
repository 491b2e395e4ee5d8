# The events an ASGI app passes to send() for an HTTP response, checked, and the order they must
# come in: the rules that raise in the app (protocol's send/SPEC.md), with the JavaScript
# gateway's words; pure, runs in the runner. Untrusted app output stops here, as in wsgi_headers.
from __future__ import annotations

import os
from typing import Any, List, NamedTuple, Tuple, Union

from .frames import Buffer, Headers
from .wsgi_headers import LengthCheck, check_header, check_header_bytes, seen_plain_headers

START = "http.response.start"
BODY = "http.response.body"
TRAILERS = "http.response.trailers"
PATHSEND = "http.response.pathsend"
EARLY_HINT = "http.response.early_hint"

AWAITING_START = "awaiting start"
# Started, and not one body byte sent yet: the head has not gone out.
AWAITING_BODY = "awaiting body"
STREAMING = "streaming"
AWAITING_TRAILERS = "awaiting trailers"
COMPLETE = "complete"
FAILED = "failed"


class Start(NamedTuple):
    status: int
    headers: Headers
    trailers: bool


class Body(NamedTuple):
    body: Buffer
    more: bool


class Trailers(NamedTuple):
    headers: Headers
    more: bool


class Pathsend(NamedTuple):
    path: bytes


class EarlyHint(NamedTuple):
    links: List[bytes]


ResponseEvent = Union[Start, Body, Trailers, Pathsend, EarlyHint]

_NAMES = {Start: START, Body: BODY, Trailers: TRAILERS, Pathsend: PATHSEND,
          EarlyHint: EARLY_HINT}


class EventOrderError(RuntimeError):
    """send() got an event the response's state does not allow; the message names the rule."""

    def __init__(self, rule: str) -> None:
        super().__init__(f"ASGI event order violated: {rule}")
        self.rule = rule


def parse_send_event(message: Any, trailers_offered: bool) -> ResponseEvent:
    """The event, or TypeError/ValueError naming the bad field. trailers_offered: whether the
    scope lists http.response.trailers (the request carried TE: trailers)."""
    if not isinstance(message, dict) or "type" not in message:
        raise TypeError(f"send: an event must be a dict with a type, got {describe(message)}")
    kind = message["type"]
    if kind == START:
        status, headers = parse_start(message, START)
        trailers = message.get("trailers", False)
        if not isinstance(trailers, bool):
            raise TypeError(f"{START}: trailers must be a boolean, got {describe(trailers)}")
        if trailers and not trailers_offered:
            raise ValueError(f"{START}: trailers is True, but {TRAILERS} is not in "
                             f"scope.extensions (the request did not send TE: trailers)")
        if trailers and any(name == b"content-length" for name, _ in headers):
            # Trailers need a chunked body; node would drop them from one with a length.
            raise ValueError(f"{START}: trailers is True, so the body is chunked; drop the "
                             f"content-length header")
        return Start(status, headers, trailers)
    if kind == BODY:
        return Body(*parse_body(message, BODY))
    if kind == TRAILERS:
        more = message.get("more_trailers", False)
        if not isinstance(more, bool):
            raise TypeError(f"{TRAILERS}: more_trailers must be a boolean, got {describe(more)}")
        return Trailers(parse_headers(message.get("headers", ()), TRAILERS), more)
    if kind == PATHSEND:
        path = message.get("path")
        if not (isinstance(path, str) and os.path.isabs(path) and "\0" not in path):
            raise TypeError(f"{PATHSEND}: path must be an absolute file path string, got "
                            f"{describe(path)}")
        return Pathsend(os.fsencode(path))
    if kind == EARLY_HINT:
        return EarlyHint(_links(message.get("links")))
    raise ValueError(f"send: unknown event type {kind!r}; expected one of "
                     f"{', '.join(map(repr, _offered(trailers_offered)))}")


def advance(phase: str, event: ResponseEvent, trailers: bool) -> str:
    """The phase after event, or EventOrderError naming the rule it breaks. trailers: whether
    the start event announced trailers."""
    name = _NAMES[type(event)]
    if phase in (COMPLETE, FAILED):
        # The same words as the JavaScript gateway's rules, so one log search finds both.
        if phase == COMPLETE:
            raise EventOrderError(f"{name} sent after the final {BODY}")
        raise EventOrderError("event sent after the response had already failed")
    if isinstance(event, Start):
        if phase != AWAITING_START:
            raise EventOrderError(f"{START} sent twice")
        return AWAITING_BODY
    if isinstance(event, EarlyHint):
        # An interim response goes before the final one (send/SPEC.md).
        if phase != AWAITING_START:
            raise EventOrderError(f"{EARLY_HINT} sent after {START}")
        return phase
    if phase == AWAITING_START:
        raise EventOrderError(f"{name} sent before {START}")
    if isinstance(event, Trailers):
        if phase == AWAITING_TRAILERS:
            return AWAITING_TRAILERS if event.more else COMPLETE
        if not trailers:
            raise EventOrderError(f"{TRAILERS} sent, but {START} did not announce trailers")
        raise EventOrderError(f"{TRAILERS} sent before the final {BODY}")
    if phase == AWAITING_TRAILERS:
        raise EventOrderError(f"{name} sent after the final {BODY}")
    if isinstance(event, Pathsend):
        if phase != AWAITING_BODY:
            raise EventOrderError(f"{PATHSEND} sent after {BODY}")
        # A body like any other: the announced trailers follow it.
        return AWAITING_TRAILERS if trailers else COMPLETE
    if event.more:
        return STREAMING
    return AWAITING_TRAILERS if trailers else COMPLETE


def parse_start(message: Any, kind: str) -> Tuple[int, Headers]:
    """The status and headers of an http.response.start (or the WebSocket denial's start)."""
    status = message.get("status")
    # Informational (1xx) responses are not final, and bool is an int to Python.
    if not isinstance(status, int) or isinstance(status, bool) or not 200 <= status <= 599:
        raise TypeError(f"{kind}: status must be an integer from 200 to 599, got "
                        f"{describe(status)}")
    return status, parse_headers(message.get("headers", ()), kind)


def parse_body(message: Any, kind: str) -> Tuple[Buffer, bool]:
    """The body and more_body of an http.response.body (or the WebSocket denial's body)."""
    body = message.get("body", b"")
    if not isinstance(body, (bytes, bytearray, memoryview)):
        raise TypeError(f"{kind}: body must be a byte string, got {describe(body)}")
    more = message.get("more_body", False)
    if not isinstance(more, bool):
        raise TypeError(f"{kind}: more_body must be a boolean, got {describe(more)}")
    return body, more


def parse_headers(headers: Any, kind: str) -> Headers:
    plain = seen_plain_headers(headers)
    if plain is not None:
        return plain
    try:
        items = iter(headers)
    except TypeError:
        raise TypeError(f"{kind}: headers must be an iterable of [name, value] byte-string "
                        f"pairs, got {describe(headers)}") from None
    encoded = []
    lengths = LengthCheck()
    for index, pair in enumerate(items):
        if not (isinstance(pair, (list, tuple)) and len(pair) == 2):
            raise TypeError(f"{kind}: headers[{index}] must be a [name, value] pair, got "
                            f"{describe(pair)}")
        name, value = pair
        for part, field in ((name, "name"), (value, "value")):
            if not isinstance(part, bytes):
                raise TypeError(f"{kind}: headers[{index}] {field} must be a byte string, got "
                                f"{describe(part)}")
        try:
            header = check_header_bytes(name, value)
            lengths.check(*header)
        except ValueError as error:
            raise ValueError(f"{kind}: headers[{index}]: {error}") from None
        encoded.append(header)
    return encoded


def _links(links: Any) -> List[bytes]:
    try:
        # A byte string is iterable too, but as ints, not as links.
        items = iter(links) if not isinstance(links, (bytes, str)) else None
    except TypeError:
        items = None
    if items is None:
        raise TypeError(f"{EARLY_HINT}: links must be an iterable of byte strings, got "
                        f"{describe(links)}")
    checked = []
    for index, link in enumerate(items):
        if not isinstance(link, bytes):
            raise TypeError(f"{EARLY_HINT}: links[{index}] must be a byte string, got "
                            f"{describe(link)}")
        try:
            checked.append(check_header("link", link.decode("latin-1"))[1])
        except ValueError as error:
            raise ValueError(f"{EARLY_HINT}: links[{index}]: {error}") from None
    return checked


def _offered(trailers_offered: bool) -> List[str]:
    return [START, BODY, *([TRAILERS] if trailers_offered else []), PATHSEND, EARLY_HINT]


def describe(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text[:60]}{'…' if len(text) > 60 else ''}"
