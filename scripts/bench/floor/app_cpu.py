"""A WSGI app (APP_CPU_TARGET, "module:attribute") wrapped so that the CPU time it spends can be
read back: each call's thread CPU time, from the call through reading and closing its body, is
added up, and GET /__app_cpu answers "<calls> <seconds>". What a server spends on a request is
then its process tree's CPU time less the app's. The counters are per process: serve it with one
worker. For floor/app_share.mjs."""
import importlib
import os
import threading
import time

_module, _, _attribute = os.environ["APP_CPU_TARGET"].partition(":")
_app = getattr(importlib.import_module(_module), _attribute or "application")
_lock = threading.Lock()
_calls = 0
_seconds = 0.0


def application(environ, start_response):
    global _calls, _seconds
    if environ.get("PATH_INFO") == "/__app_cpu":
        with _lock:
            body = f"{_calls} {_seconds:.6f}".encode()
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
        return [body]
    began = time.thread_time()
    result = _app(environ, start_response)
    try:
        # Read here, so that the app's own iteration counts as its time and not the server's.
        body = b"".join(result)
    finally:
        if hasattr(result, "close"):
            result.close()
    spent = time.thread_time() - began
    with _lock:
        _calls += 1
        _seconds += spent
    return [body]
