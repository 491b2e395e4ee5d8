# The ASGI HTTP scope of one request, built from its HTTP_REQUEST frame; pure, runs in the runner.
from __future__ import annotations

from typing import Any, Dict
from urllib.parse import unquote_to_bytes

from .frames import HttpRequest

Scope = Dict[str, Any]

# As the JS gateway advertises: the HTTP scope's fields are those of spec version 2.4.
ASGI = {"version": "3.0", "spec_version": "2.4"}


def build_scope(request: HttpRequest) -> Scope:
    root = request.root_path.decode("utf-8", "replace")
    # Like uvicorn and the JS gateway: path and raw_path carry the root path in front (the
    # proxy stripped it), and the app strips it again when it routes.
    return {
        "type": "http",
        "asgi": dict(ASGI),
        "http_version": request.http_version,
        "method": request.method,
        "scheme": request.scheme,
        "path": root + decode_path(request.path),
        "raw_path": request.root_path + request.path,
        "query_string": request.query_string,
        "root_path": root,
        "headers": list(request.headers),
        "client": request.client,
        "server": request.server,
        "extensions": {},
    }


def decode_path(raw: bytes) -> str:
    """Percent-decodes the path and reads the bytes as UTF-8; malformed input becomes U+FFFD."""
    if b"%" not in raw:
        return raw.decode("utf-8", "replace")
    return unquote_to_bytes(raw).decode("utf-8", "replace")
