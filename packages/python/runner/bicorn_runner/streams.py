# One HTTP stream in the runner: its request body, its response send window, disconnect, its end.
from __future__ import annotations

import socket
import threading
from typing import Any, Callable, List, Optional, Tuple

from .connection import Connection
from .frames import (Buffer, Credit, Frame, Headers, HttpBorrow, HttpError, HttpRequest,
                     HttpResponse, HttpResponseBody, HttpReturned)
from .request_body import AnyBody, FileBody, RequestBody
from .socket_loans import write_lent

MAX_BODY_FRAME = 256 * 1024


class LoopOnly:
    """Stands for a stream's Condition (or Lock) once the event loop reads the frames: the
    loop's thread alone touches the stream then, so it has nothing to lock and no one to wake.
    (The Dispatcher keeps a real Condition: the main thread waits on it for shutdown.)"""

    def __enter__(self) -> bool:
        return True

    def __exit__(self, *exc: object) -> None:
        return None

    def notify_all(self) -> None:
        pass

    def wait(self, timeout: Optional[float] = None) -> bool:
        raise RuntimeError("a stream served on the event loop never blocks")


LOOP_ONLY = LoopOnly()


class StreamLock:
    """A stream's lock, with the Condition to wait on it made only when a side first waits: most
    requests never wait (their body came with them, their response fits the window), and a
    Condition per request was a tenth of what starting a stream cost. When the app runs on the
    thread that reads the frames, before_wait has another thread read them meanwhile, before
    the app's side waits for them. Used as a Condition: waits and notifies under the lock."""

    __slots__ = ("_lock", "_condition", "_before_wait")

    def __init__(self, before_wait: Optional[Callable[[], None]] = None) -> None:
        self._lock = threading.Lock()
        self._condition: Optional[threading.Condition] = None
        self._before_wait = before_wait

    def __enter__(self) -> bool:
        return self._lock.acquire()

    def __exit__(self, *exc: object) -> None:
        self._lock.release()

    def notify_all(self) -> None:
        # Made under the lock, so with none made nobody is waiting.
        if self._condition is not None:
            self._condition.notify_all()

    def wait(self, timeout: Optional[float] = None) -> bool:
        if self._before_wait is not None:
            self._before_wait()
        if self._condition is None:
            self._condition = threading.Condition(self._lock)
        return self._condition.wait(timeout)


def condition_for(connection: Any, make: Optional[Callable[[], Any]] = None) -> Any:
    """A StreamLock (or make(), a plain Lock for a stream that never waits) for a stream shared
    by threads, or LOOP_ONLY."""
    if connection.on_loop:
        return LOOP_ONLY
    if make is not None:
        return make()
    return StreamLock(connection.before_wait)


class StreamGone(Exception):
    """The worker disconnected the stream: the response is not wanted any more."""


# A stream's loan of its client's socket (HTTP_BORROW): asked for, and not answered yet; or
# answered with HTTP_NOT_LENT.
_ASKED = object()
_REFUSED = object()


class Stream:
    """Shared by the reader thread, or the loop once it reads the frames (frames in), and the
    app's side: a pool thread (or the reader thread itself, between chunks) for WSGI, which
    blocks in read_some and send_body, or the event loop for ASGI, which must not block: it
    polls (body_ready, take_body, try_acquire) and waits for the waker it set. The stream ends
    when the response has ended and the request body has been received whole or the client has
    gone; on_end is then called once."""

    __slots__ = ("id", "request", "may_borrow", "_conn", "_on_end", "_cond", "_body",
                 "_send_window", "_gone", "_responded", "_ended", "_wake", "_loan")

    def __init__(self, request: HttpRequest, window: int, connection: Connection,
                 on_end: Callable[["Stream"], None], lends: bool = False,
                 held: Optional[List[Buffer]] = None) -> None:
        self.id = request.stream
        self.request = request
        # The worker may lend the client's socket for large body parts (socket_loans.py).
        self.may_borrow = lends and request.lendable
        self._conn = connection
        self._on_end = on_end
        self._cond = condition_for(connection)
        self._body: AnyBody
        if request.body_file is not None:
            self._body = FileBody(request.body_file)
        elif held is not None:
            # A body received whole from the client's socket (lent_uploads.py).
            body = RequestBody(self._cond, sum(len(piece) for piece in held), complete=False)
            for index, piece in enumerate(held):
                body.feed(piece, more=index + 1 < len(held))
            self._body = body
        else:
            self._body = RequestBody(self._cond, window, complete=not request.more)
        self._send_window = window
        self._gone = False
        self._responded = False
        self._ended = False
        self._wake: Optional[Callable[[], None]] = None
        self._loan: Any = None

    @property
    def gone(self) -> bool:
        return self._gone

    def ask_loan(self, *head: Frame) -> None:
        """Sends HTTP_BORROW (after head, the response's, if it has not gone yet); its answer,
        the socket or HTTP_NOT_LENT, is then awaited."""
        with self._cond:
            self._loan = _ASKED
        self._conn.send(*head, HttpBorrow(self.id))

    @property
    def loan_answered(self) -> bool:
        return self._loan is not _ASKED

    def lend(self, client: socket.socket) -> bool:
        """The worker lent the client's socket; False when it was not asked for (any more), and
        the caller closes it."""
        with self._cond:
            if self._loan is not _ASKED or self._gone:
                return False
            self._loan = client
            self._cond.notify_all()
        self._notify()
        return True

    def not_lent(self) -> None:
        """HTTP_NOT_LENT: the worker keeps the socket."""
        with self._cond:
            if self._loan is not _ASKED:
                return
            self._loan = _REFUSED
            self._cond.notify_all()
        self._notify()

    def take_loan(self) -> Optional[socket.socket]:
        """The socket lent, once loan_answered; None when it was not (refused, or the stream is
        gone)."""
        with self._cond:
            loan, self._loan = self._loan, None
        return loan if isinstance(loan, socket.socket) else None

    def return_loan(self, written: int) -> None:
        """HTTP_RETURNED, once the lent socket is closed here; raises StreamGone instead when the
        client left meanwhile (the worker has ended the stream)."""
        if self._gone:
            raise StreamGone()
        self._conn.send(HttpReturned(self.id, written))

    def write_borrowed(self, data: memoryview, head: Optional[HttpResponse]) -> int:
        """From an app's thread: borrows the client's socket and writes what the client takes
        in time of data to it (write_lent), after head if the response's has not gone yet;
        returns the bytes written, 0 when the worker keeps the socket."""
        self.ask_loan(*([] if head is None else [head]))
        with self._cond:
            while self._loan is _ASKED and not self._gone:
                self._cond.wait()
        client = self.take_loan()
        if client is None:
            if self._gone:
                raise StreamGone()
            return 0
        with client:
            written = write_lent(client, data, lambda: self._gone)
        self.return_loan(written)
        return written

    def feed(self, data: Buffer, more: bool) -> None:
        with self._cond:
            credit = self._body.feed(data, more)
            ended = self._check_end()
        self._after(credit, ended)
        self._notify()

    def credit(self, amount: int) -> None:
        with self._cond:
            self._send_window += amount
            self._cond.notify_all()
        self._notify()

    def disconnect(self) -> None:
        with self._cond:
            self._gone = True
            self._body.close()
            ended = self._check_end()
        self._after(0, ended)
        self._notify()

    def set_waker(self, wake: Callable[[], None]) -> None:
        """wake() is called, on the reader thread or the loop once it reads the frames, after
        body bytes, credit or a disconnect arrive: for a side that polls with body_ready and
        try_acquire instead of blocking."""
        with self._cond:
            self._wake = wake

    def body_ready(self) -> bool:
        with self._cond:
            return self._body.ready()

    def take_body(self) -> Tuple[bytes, bool]:
        """The buffered body bytes, without waiting, and whether they are the last."""
        with self._cond:
            data, credit = self._body.take_buffered()
            complete = self._body.complete
        self._after(credit, False)
        return data, complete

    def try_acquire(self, wanted: int) -> int:
        """Up to wanted bytes of the send window, without waiting: 0 when it is empty."""
        with self._cond:
            self._check_gone()
            granted = min(wanted, self._send_window)
            self._send_window -= granted
            return granted

    def send_frames(self, *frames: Frame) -> None:
        self._conn.send(*frames)

    def try_send_response(self, status: int, headers: Headers, body: bytes) -> bool:
        """Sends a whole response at once, its head and its body as the last frame, when the
        send window has room for the body and it fits in one frame; else sends nothing and
        returns False. Raises StreamGone when the client has gone."""
        size = len(body)
        with self._cond:
            self._check_gone()
            if size > self._send_window or size > MAX_BODY_FRAME:
                return False
            self._send_window -= size
        self._conn.send_response(self.id, status, headers, body)
        return True

    def read_some(self, limit: int, line: bool = False) -> Buffer:
        with self._cond:
            piece, credit = self._body.read_some(limit, line)
        self._after(credit, False)
        return piece

    def send_body(self, data: Buffer, more: bool, ends: bool,
                  head: Optional[HttpResponse] = None) -> None:
        """Sends body bytes in frames of at most MAX_BODY_FRAME, each once the send window
        allows, after head if given; raises StreamGone when the client has gone. ends: the
        data completes the body for the client (it is the last, or reaches the Content-Length)."""
        view = memoryview(data).cast("B")
        frames: List[Frame] = [head] if head is not None else []
        if not view:
            self._check_gone()
            self._conn.send(*frames, HttpResponseBody(self.id, more, b""), may_wait=ends)
            return
        while view:
            n = self._acquire(min(len(view), MAX_BODY_FRAME))
            last_piece = n == len(view)
            frames.append(HttpResponseBody(self.id, more or not last_piece, view[:n]))
            view = view[n:]
            # What completes a response may wait for the next call's answer
            # (Connection.hold_writes); the parts of one still streaming leave at once.
            self._conn.send(*frames, may_wait=ends and last_piece)
            frames = []

    def send_error(self, message: str) -> None:
        if not self._gone:
            self._conn.send(HttpError(self.id, message))

    def finish(self) -> None:
        """The app's part is over, whatever happened: credit what it left unread. Called again
        when the app returns after its last frame: nothing is left to do then."""
        with self._cond:
            if self._responded:
                return
            self._responded = True
            credit = self._body.discard()
            ended = self._check_end()
        self._after(credit, ended)

    def _acquire(self, wanted: int) -> int:
        with self._cond:
            while self._send_window <= 0 and not self._gone:
                self._cond.wait()
            self._check_gone()
            granted = min(wanted, self._send_window)
            self._send_window -= granted
            return granted

    def _check_gone(self) -> None:
        if self._gone:
            raise StreamGone()

    def _check_end(self) -> bool:
        if self._ended or not self._responded or not (self._body.complete or self._gone):
            return False
        self._ended = True
        return True

    def _notify(self) -> None:
        with self._cond:
            wake = self._wake
        if wake is not None:
            wake()

    def _after(self, credit: int, ended: bool) -> None:
        """What follows a state change, outside the lock: frames are written without holding it."""
        if credit and not self._gone:
            self._conn.send(Credit(self.id, credit))
        if ended:
            self._on_end(self)
