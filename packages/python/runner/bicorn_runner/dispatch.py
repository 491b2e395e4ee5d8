# Routes the worker's frames to streams, starts requests and WebSocket connections on the pool or
# the loop, tracks shutdown (runner).
from __future__ import annotations

import socket
import threading
from typing import Any, Callable, Dict, Optional, Tuple, Type, TypeVar, Union

from . import stack_dump
from .connection import Connection
from .frames import (Credit, Frame, HttpBody, HttpBorrow, HttpClosed, HttpDisconnect, HttpError,
                     HttpNotLent, HttpReceive, HttpReceived, HttpRequest, HttpWithdraw,
                     HttpWithdrawn, Ping, Pong, ProtocolError, Shutdown, WsClose, WsConnect,
                     WsMessage)
from .lent_uploads import LentUploads
from .streams import Stream
from .websocket_stream import WebSocketStream

RequestHandler = Callable[[Stream], None]
WebSocketHandler = Callable[[WebSocketStream], None]
# Runs handler(stream) elsewhere, soon: a thread pool's submit, or the event loop's. It is called
# on the reader thread, or the loop once it reads the frames, so it must not block.
Submit = Callable[[Callable[[Any], None], Any], Any]
AnyStream = Union[Stream, WebSocketStream]
_S = TypeVar("_S", Stream, WebSocketStream)

NO_WEBSOCKET = ("RuntimeError: a WSGI app cannot serve WebSocket connections; serve an ASGI app "
                "for them\n")


class Dispatcher:
    """on_frame runs on the reader thread, or the loop once it reads the frames; a stream is
    known from its HTTP_REQUEST or WS_CONNECT until it ends. Frames for a stream that has ended
    are dropped: a CREDIT, a DISCONNECT or a WS_CLOSE may cross the runner's last frame on the
    way."""

    def __init__(self, connection: Connection, window: int) -> None:
        self._conn = connection
        self._window = window
        self._handlers: Optional[Tuple[RequestHandler, Optional[WebSocketHandler], Submit]] = None
        self._streams: Dict[int, AnyStream] = {}
        # Requests submitted and not yet taken by the app: the thread that takes one and
        # HTTP_WITHDRAW each pop it, and only the one that finds it there goes on (dict.pop is
        # atomic under the GIL, and on an event loop nothing runs between).
        self._unstarted: Dict[int, Stream] = {}
        self._cond = threading.Condition()
        self._shutting_down = False
        # The worker lends client sockets (socket_loans.py): streams may borrow them.
        self.lends = False
        # Request bodies received from lent sockets (a WSGI app's); None: every HTTP_RECEIVE
        # is answered at once, and the worker receives the body itself.
        self.uploads: Optional[LentUploads] = None

    def serve(self, handler: RequestHandler, submit: Submit,
              websocket_handler: Optional[WebSocketHandler] = None) -> None:
        """Without a websocket_handler (WSGI), a WS_CONNECT is answered with HTTP_ERROR."""
        self._handlers = (handler, websocket_handler, submit)

    def on_frame(self, frame: Frame) -> None:
        # The frames that come most often first.
        if isinstance(frame, HttpRequest):
            self._start_request(frame)
        elif isinstance(frame, HttpBody):
            stream = self._find(frame, Stream)
            if stream is not None:
                stream.feed(frame.body, frame.more)
        elif isinstance(frame, WsMessage):
            websocket = self._find(frame, WebSocketStream)
            if websocket is not None:
                websocket.feed(frame.body, frame.more, frame.text)
        elif isinstance(frame, Credit):
            any_stream = self._streams.get(frame.stream)
            if any_stream is not None:
                any_stream.credit(frame.amount)
        elif isinstance(frame, WsConnect):
            self._start_websocket(frame)
        elif isinstance(frame, HttpDisconnect):
            stream = self._find(frame, Stream)
            if stream is not None:
                stream.disconnect()
            elif self.uploads is not None:
                self.uploads.cancel(frame.stream)
        elif isinstance(frame, WsClose):
            websocket = self._find(frame, WebSocketStream)
            if websocket is not None:
                websocket.close(frame.code, frame.reason)
        elif isinstance(frame, HttpWithdraw):
            self._withdraw(frame.stream)
        elif isinstance(frame, HttpNotLent):
            any_stream = self._streams.get(frame.stream)
            if any_stream is not None:
                any_stream.not_lent()
            elif self.uploads is not None:
                self.uploads.cancel(frame.stream)
        elif isinstance(frame, HttpReceive):
            self._receive(frame)
        elif isinstance(frame, Ping):
            # Answered where the frames are read: the event loop for an ASGI app, the reader
            # thread (with the GIL) for a WSGI one; a late PONG tells the worker it is stuck.
            self._conn.send(Pong(0, frame.seq))
        elif isinstance(frame, Shutdown):
            with self._cond:
                self._shutting_down = True
                self._cond.notify_all()
        else:
            raise ProtocolError(f"the worker sent {type(frame).__name__}, a frame only the "
                                f"runner sends")

    def wait_for_shutdown(self) -> None:
        """Returns once SHUTDOWN has arrived and every stream in flight has ended. Call on the
        main thread: it waits in short steps, so that a stack dump's handler runs meanwhile."""
        with self._cond:
            while not (self._shutting_down and not self._streams):
                self._cond.wait(stack_dump.MAIN_WAIT_S)

    def on_loan(self, stream_id: int, client: socket.socket) -> None:
        """The worker lent a stream's client socket (fd 5); one no stream asked for, or whose
        stream ended meanwhile, is closed at once."""
        stream = self._streams.get(stream_id)
        if isinstance(stream, (Stream, WebSocketStream)):
            lent = stream.lend(client)
        else:
            lent = self.uploads is not None and self.uploads.lend(stream_id, client)
        if not lent:
            client.close()

    def _receive(self, frame: HttpReceive) -> None:
        """HTTP_RECEIVE: the rest of the body comes from the client's socket, asked for now."""
        if frame.stream in self._streams:
            raise ProtocolError(f"HTTP_RECEIVE on stream {frame.stream}, which is open")
        if self.uploads is None:
            self._conn.send(HttpReceived(frame.stream, False, 0))
            return
        self.uploads.begin(frame.stream, frame.length, frame.body)
        self._conn.send(HttpBorrow(frame.stream))

    def _start_request(self, request: HttpRequest) -> None:
        handler, _, submit = self._ready(request)
        held = None
        if request.held:
            held = None if self.uploads is None else self.uploads.take(request.stream)
            if held is None:
                raise ProtocolError(f"HTTP_REQUEST with HELD on stream {request.stream}, "
                                    f"whose body the runner does not hold")
        stream = Stream(request, self._window, self._conn, self._on_end, self.lends, held)
        self._add(stream)
        if self._conn.on_loop:
            # Read on the loop that runs the app (ASGI): the request starts now, so no
            # HTTP_WITHDRAW can come before it is taken.
            handler(stream)
            return
        self._unstarted[stream.id] = stream
        submit(self._take, (handler, stream))

    def _take(self, work: Tuple[RequestHandler, Stream]) -> None:
        handler, stream = work
        if self._unstarted.pop(stream.id, None) is None:
            return
        # Its client left while it waited: the app would only answer no one.
        if stream.gone:
            stream.finish()
            return
        handler(stream)

    def _withdraw(self, stream_id: int) -> None:
        """HTTP_WITHDRAW: a request no thread has taken ends unseen by the app, and the worker
        hears so; one already taken goes on."""
        stream = self._unstarted.pop(stream_id, None)
        if stream is None:
            return
        self._forget(stream)
        self._conn.send(HttpWithdrawn(stream_id))

    def _start_websocket(self, connect: WsConnect) -> None:
        _, handler, submit = self._ready(connect)
        if handler is None:
            self._conn.send(HttpError(connect.stream, NO_WEBSOCKET))
            return
        stream = WebSocketStream(connect, self._window, self._conn, self._on_end)
        self._add(stream)
        submit(handler, stream)

    def _ready(self, frame: Frame) -> Tuple[RequestHandler, Optional[WebSocketHandler], Submit]:
        if self._handlers is None:
            raise ProtocolError(f"{type(frame).__name__} before READY")
        return self._handlers

    def _add(self, stream: AnyStream) -> None:
        # Without the condition: dict operations are atomic under the GIL, and only the frames'
        # reader adds (_forget says when the condition is needed).
        if stream.id in self._streams:
            raise ProtocolError(f"a new stream {stream.id}, which is open")
        self._streams[stream.id] = stream

    def _find(self, frame: Any, kind: Type[_S]) -> Optional[_S]:
        stream = self._streams.get(frame.stream)
        if stream is None:
            return None
        if not isinstance(stream, kind):
            raise ProtocolError(f"{type(frame).__name__} on stream {frame.stream}, which is "
                                f"not {'an HTTP' if kind is Stream else 'a WebSocket'} stream")
        return stream

    def _on_end(self, stream: AnyStream) -> None:
        self._forget(stream)
        # The worker disconnected it while the app still had it: it learns the app let go.
        if isinstance(stream, Stream) and stream.gone:
            self._conn.send(HttpClosed(stream.id))

    def _forget(self, stream: AnyStream) -> None:
        del self._streams[stream.id]
        # Only wait_for_shutdown waits on the condition, for the last stream after SHUTDOWN, and
        # it checks under the condition before it waits: the notify, which takes the condition,
        # cannot fall between its check and its wait. Waking the main thread at every request's
        # end would cost a thread switch each.
        if self._shutting_down and not self._streams:
            with self._cond:
                self._cond.notify_all()
