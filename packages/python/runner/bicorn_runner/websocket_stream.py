# One WebSocket stream in the runner: the messages from the client, the send window, the close
# the worker reports, its end.
from __future__ import annotations

import socket
import threading
from collections import deque
from typing import Any, Callable, Deque, List, NamedTuple, Optional, Tuple

from .connection import Connection, ConnectionLost
from .frames import (Buffer, Credit, Frame, HttpBorrow, HttpError, HttpReturned, ProtocolError,
                     WsAccept, WsClose, WsConnect)
from .lent_websocket import LentWebSocket
from .request_body import credit_batch
from .streams import MAX_BODY_FRAME, StreamGone, condition_for

# The loan asked for (HTTP_BORROW) and not answered yet; refused (HTTP_NOT_LENT).
_ASKED = object()
_REFUSED = object()
_MAX_U32 = 0xFFFF_FFFF


class Message(NamedTuple):
    text: bool
    data: bytes
    # Its bytes not credited yet, credited when the app takes it.
    owed: int


class WebSocketStream:
    """Shared by the reader thread, or the loop once it reads the frames (frames in), and the
    event loop (the app's task), which must not block: it polls (take_message, closed,
    try_acquire) and waits for the waker it set. The stream ends when the app's task is over
    (finish); on_end is then called once."""

    def __init__(self, connect: WsConnect, window: int, connection: Connection,
                 on_end: Callable[["WebSocketStream"], None]) -> None:
        self.id = connect.stream
        self.connect = connect
        self._conn = connection
        self._on_end = on_end
        # Nothing waits on it (the app's task polls): a plain Lock, not a Condition.
        self._lock = condition_for(connection, threading.Lock)
        self._window = window
        # A message's credit waits until a quarter of the window is owed: a frame back for
        # every small message would double the frames of a chat.
        self._batch = credit_batch(window)
        self._held_back = 0
        self._send_window = window
        self._pieces: List[bytes] = []
        self._piece_text = False
        self._messages: Deque[Message] = deque()
        # Bytes sent by the worker and not credited: the queued messages' and the pieces'.
        self._owed = 0
        self._pieces_owed = 0
        self._closed: Optional[Tuple[int, str]] = None
        self._ended = False
        self._wake: Optional[Callable[[], None]] = None
        # The client's socket, asked for with the accept: None, _ASKED, the socket, _REFUSED.
        self._loan: Any = None
        # A WS_CLOSE that came while the loan was asked, or lent and the connection not yet
        # running: whether it closes the relay or asks the lent connection to close depends on
        # the answer, which it may have overtaken.
        self._close_held: Optional[Tuple[int, str]] = None
        # The connection the runner runs on the lent socket (SPEC.md, "A WebSocket on the
        # client's socket"): the worker's WS_CLOSE then asks it to close.
        self._lent: Optional[LentWebSocket] = None

    @property
    def gone(self) -> bool:
        """The worker closed the connection: nothing more may be sent."""
        return self._closed is not None

    def feed(self, data: Buffer, more: bool, text: bool) -> None:
        """A WS_MESSAGE frame. A message's bytes are credited when the app takes it. Those of a
        message not complete yet are held until it is whole anyway, and one larger than the
        window needs their credit: they are credited as they come while no complete message
        waits for the app, else once it has taken those, so that the messages waiting for a
        slow app stay within the window (SPEC.md)."""
        size = len(data)
        with self._lock:
            owed = self._owed + self._held_back + size
            if owed > self._window:
                raise ProtocolError(f"{owed} WebSocket bytes sent and not credited, "
                                    f"beyond the window of {self._window}")
            credit = 0
            if not more and not self._pieces:
                # A whole message in one frame, as nearly every one is.
                self._messages.append(Message(text, bytes(data), size))
                self._owed += size
            else:
                if not self._pieces:
                    self._piece_text = text
                self._pieces.append(bytes(data))
                if more and not self._messages:
                    credit = size + self._held_back
                    self._held_back = 0
                elif more:
                    self._pieces_owed += size
                    self._owed += size
                else:
                    owed = self._pieces_owed + size
                    self._messages.append(Message(self._piece_text, b"".join(self._pieces),
                                                  owed))
                    self._owed += size
                    self._pieces = []
                    self._pieces_owed = 0
        if credit:
            self._send_credit(credit)
        self._notify()

    def close(self, code: int, reason: str) -> None:
        """WS_CLOSE from the worker: the connection is closed; a message left unfinished is
        dropped, the ones complete are still the app's to receive. On a lent connection it asks
        for the close instead."""
        if self._lent is not None:
            self._lent.close(code, reason)
            return
        if self._loan is _ASKED or isinstance(self._loan, socket.socket):
            self._close_held = (code, reason)
            return
        with self._lock:
            self._closed = (code, reason)
            self._pieces = []
            self._owed -= self._pieces_owed
            self._pieces_owed = 0
            self._send_window = 0
        self._notify()

    def credit(self, amount: int) -> None:
        with self._lock:
            self._send_window += amount
        self._notify()

    def set_waker(self, wake: Callable[[], None]) -> None:
        """wake() is called, on the reader thread or the loop once it reads the frames, after a
        message, credit or the close."""
        with self._lock:
            self._wake = wake

    def take_message(self) -> Optional[Tuple[bool, bytes]]:
        """The oldest complete message as (text, data), without waiting; None when none."""
        with self._lock:
            if not self._messages:
                return None
            message = self._messages.popleft()
            self._owed -= message.owed
            credit = self._held_back + message.owed
            self._held_back = 0
            if not self._messages and self._pieces_owed:
                # Nothing waits before the message under way any more: its pieces are credited
                # now, as they would have been as they came, and what was held back with them.
                credit += self._pieces_owed
                self._owed -= self._pieces_owed
                self._pieces_owed = 0
            elif credit < self._batch:
                self._held_back, credit = credit, 0
        if credit:
            self._send_credit(credit)
        return message.text, message.data

    def closed(self) -> Optional[Tuple[int, str]]:
        """The close code and reason the worker reported, once it has."""
        with self._lock:
            return self._closed

    def try_acquire(self, wanted: int) -> int:
        """Up to wanted bytes of the send window, without waiting: 0 when it is empty; raises
        StreamGone once the worker closed the connection."""
        with self._lock:
            if self._closed is not None:
                raise StreamGone()
            granted = min(wanted, self._send_window)
            self._send_window -= granted
            return granted

    def try_send_message(self, data: bytes, text: bool) -> bool:
        """Sends a whole message in one frame when the send window has room for it; else sends
        nothing and returns False. Raises StreamGone once the worker closed the connection."""
        size = len(data)
        with self._lock:
            if self._closed is not None:
                raise StreamGone()
            if size > self._send_window or size > MAX_BODY_FRAME:
                return False
            self._send_window -= size
        self._conn.send_message(self.id, text, data)
        return True

    def accept_on_loan(self, accept: WsAccept) -> None:
        """Sends HTTP_BORROW with the accept: the worker answers with the socket, once the
        handshake is done, or HTTP_NOT_LENT (loan_answered then)."""
        self._loan = _ASKED
        self._conn.send(HttpBorrow(self.id), accept)

    @property
    def loan_answered(self) -> bool:
        return self._loan is not _ASKED

    def lend(self, client: socket.socket) -> bool:
        """The worker lent the client's socket; False when it was not asked for."""
        if self._loan is not _ASKED:
            return False
        self._loan = client
        self._notify()
        return True

    def not_lent(self) -> None:
        """HTTP_NOT_LENT: the worker relays the connection; a WS_CLOSE held meanwhile is the
        relay's."""
        if self._loan is not _ASKED:
            return
        self._loan = _REFUSED
        held, self._close_held = self._close_held, None
        if held is not None:
            self.close(*held)
        self._notify()

    def take_loan(self) -> Optional[socket.socket]:
        """The socket lent, once loan_answered (a WS_CLOSE is still held until run_lent); None
        when it was refused."""
        loan = self._loan
        if isinstance(loan, socket.socket):
            return loan
        self._loan = None
        return None

    def run_lent(self, lent: LentWebSocket) -> None:
        """The connection runs on the lent socket from now on; a WS_CLOSE held asks it to close."""
        self._loan = None
        self._lent = lent
        held, self._close_held = self._close_held, None
        if held is not None:
            lent.close(*held)
        self._notify()

    def lent_over(self, code: int, reason: str, written: int) -> None:
        """The lent connection is closed here: HTTP_RETURNED tells the worker the bytes written
        to the client (its access line's), and WS_CLOSE that it is over, for the worker to close
        its descriptor; the stream takes no more frames."""
        self._loan = self._close_held = None
        with self._lock:
            self._closed = (code, reason)
            app_done = self._ended
        # HTTP_RETURNED counts in u32: a long connection's bytes go in several.
        returned = []
        while written > 0:
            returned.append(HttpReturned(self.id, min(written, _MAX_U32)))
            written -= returned[-1].amount
        try:
            self._conn.send(*returned, WsClose(self.id, code, reason))
        except ConnectionLost:
            pass  # The worker is gone, and the runner goes with it.
        self._notify()
        if app_done:
            self._on_end(self)

    def send_frames(self, *frames: Frame) -> None:
        self._conn.send(*frames)

    def send_error(self, message: str) -> None:
        if not self.gone:
            self._conn.send(HttpError(self.id, message))

    def finish(self) -> None:
        """The app's task is over: the stream ends for the runner, or once its lent connection
        is closed (lent_over), which may outlast the app's task by its closing handshake."""
        with self._lock:
            if self._ended:
                return
            self._ended = True
            if self._lent is not None and self._closed is None:
                return
        self._on_end(self)

    def _send_credit(self, amount: int) -> None:
        # After the worker's WS_CLOSE the stream has ended on its side: credit would be noise.
        if not self.gone:
            self._conn.send(Credit(self.id, amount))

    def _notify(self) -> None:
        with self._lock:
            wake = self._wake
        if wake is not None:
            wake()
