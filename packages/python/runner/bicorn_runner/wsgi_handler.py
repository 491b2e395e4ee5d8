# One WSGI call, on a thread of the runner's pool or on its frame reader: environ in, response
# out, close() always called.
from __future__ import annotations

import sys
from typing import Any, Callable

from .app_traceback import format_app_exception
from .connection import ConnectionLost
from .streams import Stream, StreamGone
from .wsgi_environ import Environ, build_environ
from .wsgi_input import WsgiInput
from .wsgi_response import Response, send_result

WsgiApp = Callable[..., Any]


def handle(app: WsgiApp, base: Environ, stream: Stream) -> None:
    response = Response(stream)
    result = None
    try:
        result = app(build_environ(stream.request, base, WsgiInput(stream)),
                     response.start_response)
        send_result(result, response)
    except (StreamGone, ConnectionLost):
        pass
    # SystemExit or KeyboardInterrupt raised by the app fail its request too: the thread must
    # not die with the stream open.
    except BaseException as error:
        _report(stream, error)
    finally:
        _close(result)
        stream.finish()


def _report(stream: Stream, error: BaseException) -> None:
    try:
        stream.send_error(format_app_exception(error))
    except ConnectionLost:
        pass


def _close(result: Any) -> None:
    close = getattr(result, "close", None)
    if close is None:
        return
    try:
        close()
    except BaseException as error:
        # The response is complete or already failed: the worker's log is all that is left.
        sys.stderr.write("Error closing the WSGI response iterable:\n"
                         + format_app_exception(error))
        sys.stderr.flush()
