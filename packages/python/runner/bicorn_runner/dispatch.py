# Routes the worker's frames to streams, starts requests on the pool, tracks shutdown (runner).
from __future__ import annotations

import threading
from concurrent.futures import Executor
from typing import Callable, Dict, Optional

from .connection import Connection
from .frames import (Credit, Frame, HttpBody, HttpDisconnect, HttpRequest, ProtocolError,
                     Shutdown)
from .streams import Stream

RequestHandler = Callable[[Stream], None]


class Dispatcher:
    """on_frame runs on the reader thread; a stream is known from its HTTP_REQUEST until it
    ends. Frames for a stream that has ended are dropped: a CREDIT or a DISCONNECT may cross
    the runner's last frame on the way."""

    def __init__(self, connection: Connection, window: int, executor: Executor) -> None:
        self._conn = connection
        self._window = window
        self._executor = executor
        self._handler: Optional[RequestHandler] = None
        self._streams: Dict[int, Stream] = {}
        self._cond = threading.Condition()
        self._shutting_down = False

    def serve(self, handler: RequestHandler) -> None:
        self._handler = handler

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
        handler = self._handler
        if handler is None:
            raise ProtocolError("HTTP_REQUEST before READY")
        with self._cond:
            if request.stream in self._streams:
                raise ProtocolError(f"HTTP_REQUEST on stream {request.stream}, which is open")
            stream = Stream(request, self._window, self._conn, self._on_end)
            self._streams[request.stream] = stream
        self._executor.submit(handler, stream)

    def _on_end(self, stream: Stream) -> None:
        with self._cond:
            del self._streams[stream.id]
            self._cond.notify_all()
