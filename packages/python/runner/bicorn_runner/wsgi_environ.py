# The PEP 3333 environ of one request, built from its HTTP_REQUEST frame; runs in the runner.
from __future__ import annotations

from typing import Any, Dict, Optional, Tuple
from urllib.parse import unquote_to_bytes

from .frames import HttpRequest

Environ = Dict[str, Any]

_DEFAULT_PORTS = {"http": "80", "https": "443"}
# RFC 9113 8.2.3: cookie fields split by HTTP/2 are rejoined with "; ", never ",", or cookie
# parsers would read "a=1,b=2" as one cookie.
_JOINERS = {"HTTP_COOKIE": "; "}


def base_environ(errors: Any, file_wrapper: Any, multithread: bool,
                 multiprocess: bool) -> Environ:
    """The keys that are the same for every request of this runner."""
    return {
        "wsgi.version": (1, 0),
        "wsgi.errors": errors,
        "wsgi.multithread": multithread,
        "wsgi.multiprocess": multiprocess,
        "wsgi.run_once": False,
        "wsgi.file_wrapper": file_wrapper,
        "wsgi.input_terminated": True,
        "SERVER_SOFTWARE": "bicorn",
    }


def build_environ(request: HttpRequest, base: Environ, wsgi_input: Any) -> Environ:
    environ = dict(base)
    script_name, path_info = _split_path(request.path, request.root_path)
    environ["REQUEST_METHOD"] = request.method
    environ["SCRIPT_NAME"] = script_name
    environ["PATH_INFO"] = path_info
    environ["QUERY_STRING"] = request.query_string.decode("latin-1")
    environ["SERVER_PROTOCOL"] = "HTTP/" + request.http_version
    environ["wsgi.url_scheme"] = request.scheme
    environ["wsgi.input"] = wsgi_input
    for name, value in request.headers:
        key = _environ_key(name)
        if key is None:
            continue
        text = value.decode("latin-1")
        if key in environ:
            environ[key] = environ[key] + _JOINERS.get(key, ",") + text
        else:
            environ[key] = text
    environ["SERVER_NAME"], environ["SERVER_PORT"] = _server(request, environ.get("HTTP_HOST"))
    if request.client is None:
        environ["REMOTE_ADDR"] = ""
    else:
        environ["REMOTE_ADDR"] = request.client[0]
        environ["REMOTE_PORT"] = str(request.client[1])
    if request.tls is not None:
        # mod_ssl's names, which Django and Flask extensions read.
        environ["HTTPS"] = "on"
        if request.tls.client_cert_chain:
            environ["SSL_CLIENT_CERT"] = request.tls.client_cert_chain[0]
            environ["SSL_CLIENT_S_DN"] = request.tls.client_cert_name
            environ["SSL_CLIENT_VERIFY"] = "SUCCESS"
        else:
            environ["SSL_CLIENT_VERIFY"] = "NONE"
    return environ


def _split_path(raw_path: bytes, raw_root: bytes) -> Tuple[str, str]:
    path = _unquote(raw_path)
    root = _unquote(raw_root).rstrip("/")
    if root and (path == root or path.startswith(root + "/")):
        return root, path[len(root):]
    return root, path


def _unquote(raw: bytes) -> str:
    return (unquote_to_bytes(raw) if b"%" in raw else raw).decode("latin-1")


# Header names repeat across requests: their keys are computed once, up to a bound.
_HEADER_KEYS: Dict[bytes, Optional[str]] = {}


def _environ_key(name: bytes) -> Optional[str]:
    if name in _HEADER_KEYS:
        return _HEADER_KEYS[name]
    key = _new_environ_key(name.decode("latin-1"))
    if len(_HEADER_KEYS) < 1024:
        _HEADER_KEYS[name] = key
    return key


def _new_environ_key(name: str) -> Optional[str]:
    # A name with "_" could pose as another ("x_forwarded_for" as X-Forwarded-For), and a
    # pseudo-header (":authority") is not a header: neither becomes a key.
    if "_" in name or name.startswith(":"):
        return None
    if name == "content-type":
        return "CONTENT_TYPE"
    if name == "content-length":
        return "CONTENT_LENGTH"
    return "HTTP_" + name.upper().replace("-", "_")


def _server(request: HttpRequest, host_header: Optional[str]) -> Tuple[str, str]:
    if request.server is not None:
        return request.server[0], str(request.server[1])
    default_port = _DEFAULT_PORTS.get(request.scheme, "80")
    if not host_header:
        return "localhost", default_port
    if host_header.startswith("["):
        host, _, rest = host_header[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    else:
        host, _, port = host_header.partition(":")
    return host, port or default_port
