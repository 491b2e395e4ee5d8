# The ASGI HTTP and WebSocket scopes, built from HTTP_REQUEST and WS_CONNECT frames; pure, runs
# in the runner.
from __future__ import annotations

from typing import Any, Dict, List, Union
from urllib.parse import unquote_to_bytes

from .frames import Headers, HttpRequest, TlsHead, WsConnect

Scope = Dict[str, Any]

HTTP_ASGI = {"version": "3.0", "spec_version": "2.5"}
WEBSOCKET_ASGI = {"version": "3.0", "spec_version": "2.4"}

TRAILERS = "http.response.trailers"
PATHSEND = "http.response.pathsend"
EARLY_HINT = "http.response.early_hint"
WEBSOCKET_DENIAL = "websocket.http.response"


def build_scope(request: HttpRequest, state: Dict[str, Any]) -> Scope:
    extensions: Dict[str, Any] = {PATHSEND: {}}
    # HTTP/1.0 has neither 1xx responses nor chunked bodies (so no trailers), as the JS
    # gateway says too; and trailers go only to a client that said it takes them.
    if request.http_version != "1.0":
        extensions[EARLY_HINT] = {}
        if accepts_trailers(request.headers):
            extensions[TRAILERS] = {}
    scope = _common(request, state, HTTP_ASGI, extensions)
    scope["type"] = "http"
    scope["method"] = request.method
    return scope


def build_websocket_scope(connect: WsConnect, state: Dict[str, Any]) -> Scope:
    scope = _common(connect, state, WEBSOCKET_ASGI, {WEBSOCKET_DENIAL: {}})
    scope["type"] = "websocket"
    scope["subprotocols"] = subprotocols(connect.headers)
    return scope


def _common(head: Union[HttpRequest, WsConnect], state: Dict[str, Any], asgi: Dict[str, str],
            extensions: Dict[str, Any]) -> Scope:
    root = head.root_path.decode("utf-8", "replace")
    # Like uvicorn and the JS gateway: path and raw_path carry the root path in front (the
    # proxy stripped it), and the app strips it again when it routes.
    return {
        "asgi": dict(asgi),
        "http_version": head.http_version,
        "scheme": head.scheme,
        "path": root + decode_path(head.path),
        "raw_path": head.root_path + head.path,
        "query_string": head.query_string,
        "root_path": root,
        # The decoder made this list for this request alone: the app may keep or change it.
        "headers": head.headers,
        "client": head.client,
        "server": head.server,
        # A shallow copy, so that what a request adds stays with it (ASGI lifespan state).
        "state": dict(state),
        "extensions": extensions if head.tls is None else {**extensions, "tls": tls_extension(head.tls)},
    }


def tls_extension(tls: TlsHead) -> Dict[str, Any]:
    """ASGI's tls extension (asgiref specs/tls.rst 0.2); a certificate that did not verify
    never reaches the app, so client_cert_error is always None."""
    return {
        "server_cert": tls.server_cert or None,
        "client_cert_chain": list(tls.client_cert_chain),
        "client_cert_name": tls.client_cert_name or None,
        "client_cert_error": None,
        "tls_version": tls.version or None,
        "cipher_suite": tls.cipher_suite or None,
    }


def decode_path(raw: bytes) -> str:
    """Percent-decodes the path and reads the bytes as UTF-8; malformed input becomes U+FFFD."""
    if b"%" not in raw:
        return raw.decode("utf-8", "replace")
    return unquote_to_bytes(raw).decode("utf-8", "replace")


def accepts_trailers(headers: Headers) -> bool:
    """Whether a TE header lists "trailers" (RFC 9110 10.1.4), whatever its other codings."""
    for name, value in headers:
        if name == b"te" and any(item.split(b";")[0].strip().lower() == b"trailers"
                                 for item in value.split(b",")):
            return True
    return False


def subprotocols(headers: Headers) -> List[str]:
    """The subprotocols the client offers, in its order, from every Sec-WebSocket-Protocol."""
    return [item.strip().decode("latin-1")
            for name, value in headers if name == b"sec-websocket-protocol"
            for item in value.split(b",") if item.strip()]
