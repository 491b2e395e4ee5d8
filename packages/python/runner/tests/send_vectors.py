# The vectors of protocol's send/SPEC.md as Python apps: what a WSGI or an ASGI app sends for
# each one. Used by test_send_vectors.py, and served by the TypeScript suite's run of the vectors
# through a real runner and worker (packages/python/test/send-vectors.test.ts), whose requests
# name their vector by path: /http/<index> or /websocket/<index>.
from __future__ import annotations

import atexit
import http
import json
import os
import tempfile
from typing import Any, Dict, List, Optional, Tuple

_RUNNER_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PATH = os.environ.get("BICORN_SEND_VECTORS") or os.path.join(
    _RUNNER_DIR, "..", "..", "protocol", "send", "send-vectors.json")

with open(PATH, encoding="utf-8") as _file:
    VECTORS: Dict[str, Any] = json.load(_file)

# Fields of an ASGI event whose values are byte strings.
_BYTE_FIELDS = frozenset(("headers", "body", "links", "bytes"))
_file_path: Optional[str] = None


def vector_file() -> str:
    """The file `$FILE` names: `file`'s bytes, in a temporary file made once."""
    global _file_path
    if _file_path is None:
        handle, _file_path = tempfile.mkstemp(prefix="bicorn-send-vector-")
        os.write(handle, VECTORS["file"].encode("latin-1"))
        os.close(handle)
        atexit.register(os.unlink, _file_path)
    return _file_path


def convert(value: Any, as_bytes: bool) -> Any:
    """A vector's value as Python: byte fields as bytes (their strings are latin-1), `$text`,
    `$bytes` and `$FILE` resolved."""
    if isinstance(value, str):
        if as_bytes:
            return value.encode("latin-1")
        return vector_file() if value == "$FILE" else value
    if isinstance(value, list):
        return [convert(item, as_bytes) for item in value]
    if isinstance(value, dict):
        if "$text" in value:
            return value["$text"]
        if "$bytes" in value:
            return value["$bytes"].encode("latin-1")
        return {key: convert(item, as_bytes or key in _BYTE_FIELDS)
                for key, item in value.items()}
    return value


def asgi_events(vector: Dict[str, Any]) -> Optional[List[Any]]:
    """The events an ASGI app sends: the vector's, or a start and body events for a
    `response`; None for a WSGI-only vector."""
    response = vector.get("response")
    if response is not None:
        chunks = response.get("body") or [""]
        events: List[Any] = [{"type": "http.response.start", "status": response["status"],
                              "headers": convert(response["headers"], True)}]
        for index, chunk in enumerate(chunks):
            events.append({"type": "http.response.body", "body": chunk.encode("latin-1"),
                           "more_body": index < len(chunks) - 1})
        return events
    if "events" in vector:
        return [convert(event, False) for event in vector["events"]]
    return None


def wsgi_response(vector: Dict[str, Any]) -> Optional[Tuple[Any, Any, List[Any]]]:
    """start_response's status and headers and the body a WSGI app gives; None for an
    events-only vector."""
    response = vector.get("response")
    if response is not None:
        status = response["status"]
        try:
            reason = http.HTTPStatus(status).phrase
        except ValueError:
            reason = "Unknown"
        headers = [(name, value) for name, value in response["headers"]]
        return f"{status} {reason}", headers, [c.encode("latin-1") for c in response.get("body", [])]
    wsgi = vector.get("wsgi")
    if wsgi is None:
        return None
    headers = wsgi["headers"]
    if isinstance(headers, list):
        headers = [tuple(convert(field, False) for field in pair) for pair in headers]
    return wsgi["status"], headers, [convert(chunk, True) for chunk in wsgi["body"]]


def playing(events: List[Any]) -> Any:
    """An ASGI app that takes its first event, sends the events, and returns (or raises what
    send() raised)."""
    async def app(scope: Dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        for event in events:
            await send(event)
    return app


def answering(status: Any, headers: Any, body: List[Any]) -> Any:
    """A WSGI app that starts its response so and returns the body."""
    def app(environ: Dict[str, Any], start_response: Any) -> List[Any]:
        start_response(status, headers)
        return body
    return app


def _vector(path: str) -> Tuple[str, Dict[str, Any]]:
    kind, _, index = path.strip("/").partition("/")
    return kind, VECTORS[kind][int(index)]


async def asgi_app(scope: Dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        return
    _, vector = _vector(scope["path"])
    await playing(asgi_events(vector) or [])(scope, receive, send)


def wsgi_app(environ: Dict[str, Any], start_response: Any) -> Any:
    _, vector = _vector(environ["PATH_INFO"])
    parts = wsgi_response(vector)
    assert parts is not None, "an ASGI-only vector"
    return answering(*parts)(environ, start_response)
