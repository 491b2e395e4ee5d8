# Routes the worker's frames to streams, starts requests on the pool or the loop, tracks shutdown
# (runner).
from __future__ import annotations

import threading
from typing import Any, Callable, Dict, Optional, Tuple

from .connection import Connection
from .frames import (Credit, Frame, HttpBody, HttpDisconnect, HttpRequest, ProtocolError,
                     Shutdown)
from .streams import Stream

RequestHandler = Callable[[Stream], None]
# Runs handler(stream) elsewhere, soon: a thread pool's submit, or an event loop's
# call_soon_threadsafe. It is called on the reader thread, so it must not block.
Submit = Callable[[RequestHandler, Stream], Any]


class Dispatcher:
    """on_frame runs on the reader thread; a stream is known from its HTTP_REQUEST until it
    ends. Frames for a stream that has ended are dropped: a CREDIT or a DISCONNECT may cross
    the runner's last frame on the way."""

    def __init__(self, connection: Connection, window: int) -> None:
        self._conn = connection
        self._window = window
        self._handler: Optional[Tuple[RequestHandler, Submit]] = None
        self._streams: Dict[int, Stream] = {}
        self._cond = threading.Condition()
        self._shutting_down = False

    def serve(self, handler: RequestHandler, submit: Submit) -> None:
        self._handler = (handler, submit)

    def on_frame(self, frame: Frame) -> None:
        if isinstance(frame, HttpRequest):
            self._start(frame)
        elif isinstance(frame, HttpBody):
            stream = self._streams.get(frame.stream)
            if stream is not None:
                stream.feed(frame.body, frame.more)
        elif isinstance(frame, Credit):
            stream = self._streams.get(frame.stream)
            if stream is not None:
                stream.credit(frame.amount)
        elif isinstance(frame, HttpDisconnect):
            stream = self._streams.get(frame.stream)
            if stream is not None:
                stream.disconnect()
        elif isinstance(frame, Shutdown):
            with self._cond:
                self._shutting_down = True
                self._cond.notify_all()
        else:
            raise ProtocolError(f"the worker sent {type(frame).__name__}, a frame only the "
                                f"runner sends")

    def wait_for_shutdown(self) -> None:
        """Returns once SHUTDOWN has arrived and every stream in flight has ended."""
        with self._cond:
            while not (self._shutting_down and not self._streams):
                self._cond.wait()

    def _start(self, request: HttpRequest) -> None:
        if self._handler is None:
            raise ProtocolError("HTTP_REQUEST before READY")
        handler, submit = self._handler
        with self._cond:
            if request.stream in self._streams:
                raise ProtocolError(f"HTTP_REQUEST on stream {request.stream}, which is open")
            stream = Stream(request, self._window, self._conn, self._on_end)
            self._streams[request.stream] = stream
        submit(handler, stream)

    def _on_end(self, stream: Stream) -> None:
        with self._cond:
            del self._streams[stream.id]
            self._cond.notify_all()
