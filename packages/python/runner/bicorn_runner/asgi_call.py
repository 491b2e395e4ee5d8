# One ASGI HTTP call, as a task on the runner's event loop: receive() and send() over a stream's
# frames, and what the worker is told when the app fails or returns early (runner process).
from __future__ import annotations

import asyncio
import socket
from typing import Any, Awaitable, Callable, Dict, List, Optional

from .app_traceback import format_app_exception
from .asgi_events import (AWAITING_BODY, AWAITING_START, AWAITING_TRAILERS, BODY, COMPLETE,
                          FAILED, START, STREAMING, Body, EarlyHint, EventOrderError, Pathsend,
                          Start, Trailers, advance, parse_headers, parse_send_event)
from .asgi_scope import TRAILERS, build_scope
from .asgi_waiter import StreamWaiter
from .connection import ConnectionLost
from .frames import (Buffer, Frame, Headers, HttpEarlyHint, HttpError, HttpPathsend, HttpResponse,
                     HttpResponseBody, HttpTrailers)
from .socket_loans import BORROW_FROM, STALL_S, write_lent_on
from .streams import Stream, StreamGone
from .wsgi_headers import declared_length

AsgiApp = Callable[[Dict[str, Any], Any, Any], Awaitable[None]]


class ClientDisconnected(OSError):
    """send() after the client went away (ASGI spec 2.4): the app may let it propagate, and the
    runner does not report it as the app's error."""

    def __init__(self) -> None:
        super().__init__("the client disconnected before the response was complete")


class AsgiCall:
    """Created on the loop's thread; frames (on the reader thread, or the loop once it reads
    them) wake it through its StreamWaiter."""

    def __init__(self, stream: Stream, loop: asyncio.AbstractEventLoop,
                 state: Dict[str, Any]) -> None:
        self._stream = stream
        self._loop = loop
        # Whether large body events borrow the client's socket: the worker may lend it, and
        # nothing showed since that it would not (a refusal, a slow client).
        self._borrows = stream.may_borrow
        # Body bytes sent so far, which a lent socket's writes keep within the Content-Length.
        self._body_sent = 0
        # The client's socket while it is lent here, kept from one body event to the next when
        # the app sends them back to back; what was written to it, since when it is here, and
        # whether a write to it is under way.
        self._loan: Optional[socket.socket] = None
        self._loan_written = 0
        self._loan_since = 0.0
        self._writing = False
        self._scope = build_scope(stream.request, state)
        self._waiter = StreamWaiter(stream, loop)
        self._phase = AWAITING_START
        self._status = 200
        self._headers: Headers = []
        self._head_sent = False
        self._trailers_announced = False
        self._trailers: Headers = []
        # The worker got the response's last frame or HTTP_ERROR: nothing more goes on the stream.
        self._ended = False
        self._body_done = False
        self._violation: Optional[EventOrderError] = None

    async def run(self, app: AsgiApp) -> None:
        try:
            await app(self._scope, self.receive, self.send)
        except (ClientDisconnected, StreamGone, ConnectionLost) as error:
            # The client left; the same error raised by the app on its own is still its failure.
            if not self._stream.gone:
                self._report(format_app_exception(error))
        # Whatever the app raises fails its request alone: SystemExit must not stop the loop.
        except BaseException as error:
            self._report(format_app_exception(error))
        else:
            if self._violation is not None:
                # The app caught the error send() raised, and returned.
                self._report(format_app_exception(self._violation))
            elif self._phase == AWAITING_TRAILERS and not self._stream.gone:
                self._report(f"RuntimeError: ASGI app returned before the final {TRAILERS} "
                             f"its http.response.start announced\n")
            elif self._phase != COMPLETE and not self._stream.gone:
                self._report("RuntimeError: ASGI app returned before the final "
                             "http.response.body (one with more_body False)\n")
        finally:
            self._give_back_quietly()
            self._stream.finish()

    async def receive(self) -> Dict[str, Any]:
        if not self._body_done:
            await self._waiter.until(lambda: self._over() or self._stream.body_ready())
            if not self._over():
                body, complete = self._stream.take_body()
                self._body_done = complete
                return {"type": "http.request", "body": body, "more_body": not complete}
        # The request is read: the next event is the end of the exchange (spec 2.5).
        await self._waiter.until(self._over)
        return {"type": "http.disconnect"}

    async def send(self, message: Any) -> None:
        # The two events of nearly every response, a start without trailers and then its body,
        # when they are plainly right: the rules of parse_send_event and advance, checked
        # without making an event. Anything else takes the general way, which names the error.
        if type(message) is dict and not self._stream.gone:
            kind = message.get("type")
            if kind == BODY and (self._phase == AWAITING_BODY or self._phase == STREAMING) \
                    and not self._trailers_announced:
                body = message.get("body", b"")
                more = message.get("more_body", False)
                if type(body) is bytes and (more is False or more is True):
                    self._phase = STREAMING if more else COMPLETE
                    try:
                        # A whole response in one event after its start: both frames at once.
                        if not more and not self._head_sent and self._stream.try_send_response(
                                self._status, self._headers, body):
                            self._head_sent = True
                            self._complete()
                        else:
                            await self._send_body(body, more)
                    except (StreamGone, ConnectionLost):
                        raise ClientDisconnected() from None
                    return
            elif kind == START and self._phase == AWAITING_START:
                status = message.get("status")
                if type(status) is int and 200 <= status <= 599 \
                        and message.get("trailers", False) is False:
                    self._headers = parse_headers(message.get("headers", ()), START)
                    self._status = status
                    self._phase = AWAITING_BODY
                    return
        event = parse_send_event(message, TRAILERS in self._scope["extensions"])
        if self._stream.gone:
            raise ClientDisconnected()
        try:
            self._phase = advance(self._phase, event, self._trailers_announced)
        except EventOrderError as error:
            self._phase = FAILED
            if self._violation is None:
                self._violation = error
            self._waiter.wake()
            raise
        if isinstance(event, Start):
            # The head waits for the first body bytes, so that a small response leaves in one
            # write and a failure before them is still a clean 500.
            self._status, self._headers = event.status, event.headers
            self._trailers_announced = event.trailers
            return
        try:
            if type(event) is Body:
                await self._send_body(event.body, event.more)
            else:
                await self._send_event(event)
        except (StreamGone, ConnectionLost):
            raise ClientDisconnected() from None

    async def _send_event(self, event: Any) -> None:
        """Every event after the start but a body, which send() takes straight to _send_body."""
        if isinstance(event, EarlyHint):
            # Whether the client can take a 103 is the worker's to judge (send/SPEC.md).
            self._stream.send_frames(HttpEarlyHint(self._stream.id, event.links))
        elif isinstance(event, Trailers):
            self._trailers.extend(event.headers)
            if not event.more:
                self._stream.send_frames(HttpTrailers(self._stream.id, self._trailers))
                self._complete()
        elif isinstance(event, Pathsend):
            self._stream.send_frames(*self._head(), HttpPathsend(self._stream.id, event.path))
            # The trailers the start announced end the response, after the file.
            if not self._trailers_announced:
                self._complete()

    async def _send_body(self, body: Buffer, more: bool) -> None:
        size = len(body)
        if self._borrows and size >= BORROW_FROM and not self._trailers_announced:
            body = await self._write_borrowed(body)
        self._body_sent += size
        if self._loan is not None and (len(body) or not more):
            # Frames follow: the worker must have its socket back before them.
            self._give_back()
        head = self._head()
        if not len(body) and more:
            # A streamed response's head goes out at once, for apps that send it early.
            if head:
                self._stream.send_frames(*head)
            return
        # With trailers to come, the body's last frame still says more follows.
        await self._waiter.send_in_frames(body, more or self._trailers_announced,
                                          self._body_frame, head)
        if not more and not self._trailers_announced:
            self._complete()

    async def _write_borrowed(self, body: Buffer) -> Buffer:
        """Writes what it can of body to the client's socket, borrowed from the worker, and
        returns the rest, for frames: all of it when the worker keeps the socket, what a slow
        client did not take in time, and what goes past the Content-Length (the worker cuts the
        response for it, and no byte past the length may reach the client's next response).
        Only a body the head frames with a Content-Length is written here, so that its end on
        the wire is known."""
        stream = self._stream
        room = declared_length(self._headers) - self._body_sent
        if room < BORROW_FROM:
            self._borrows = False
            return body
        loan = self._loan
        if loan is None:
            stream.ask_loan(*self._head())
            await self._waiter.until(lambda: stream.gone or stream.loan_answered)
            loan = stream.take_loan()
            if loan is None:
                # The worker keeps the socket while bytes wait in its spool for a slow client.
                self._borrows = False
                if stream.gone:
                    raise StreamGone()
                return body
            self._loan, self._loan_written, self._loan_since = loan, 0, self._loop.time()
        view = memoryview(body).cast("B")
        self._writing = True
        try:
            written = await write_lent_on(self._loop, loan, view[:room], lambda: stream.gone)
        finally:
            self._writing = False
        self._loan_written += written
        if written < len(view):
            self._borrows = False
            self._give_back()
        elif self._loop.time() - self._loan_since >= STALL_S:
            # The worker counts the bytes only once the socket is back: its request timeout
            # hears of them at least this often.
            self._give_back()
        else:
            # Kept for the app's next event, if it comes within this turn of the loop.
            self._loop.call_soon(self._give_back_if_idle, loan)
        return view[written:]

    def _give_back(self) -> None:
        """Closes the lent socket here and tells the worker how many bytes went to it
        (HTTP_RETURNED); raises StreamGone when the client has left meanwhile."""
        loan, self._loan = self._loan, None
        if loan is not None:
            loan.close()
            self._stream.return_loan(self._loan_written)

    def _give_back_quietly(self) -> None:
        """_give_back where nobody hears of a client gone: the socket is closed here all the same."""
        try:
            self._give_back()
        except (StreamGone, ConnectionLost):
            pass

    def _give_back_if_idle(self, loan: socket.socket) -> None:
        """The turn of the loop after an event is over: the app did not send the next one at
        once, so the socket goes back, unless it has done so meanwhile."""
        if self._loan is loan and not self._writing:
            self._give_back_quietly()

    def _body_frame(self, piece: memoryview, more: bool) -> Frame:
        return HttpResponseBody(self._stream.id, more, piece)

    def _head(self) -> List[Frame]:
        if self._head_sent:
            return []
        self._head_sent = True
        return [HttpResponse(self._stream.id, self._status, self._headers,
                             self._trailers_announced)]

    def _complete(self) -> None:
        self._ended = True
        self._stream.finish()
        self._waiter.wake()

    def _over(self) -> bool:
        return self._stream.gone or self._phase in (COMPLETE, FAILED)

    def _report(self, message: str) -> None:
        """HTTP_ERROR: while the stream is open the worker answers 500, or aborts once the head
        went out; after the response ended or the client left, it only logs the error."""
        self._give_back_quietly()
        self._phase = FAILED
        self._waiter.wake()
        if self._ended or self._stream.gone:
            send_late_error(self._stream, message)
            return
        self._ended = True
        try:
            self._stream.send_error(message)
        except ConnectionLost:
            pass


def send_late_error(stream: Any, message: str) -> None:
    """HTTP_ERROR on a stream that has ended for the worker, which then only logs it: the app
    failed after its response or connection was over, and that still is the app's error."""
    try:
        stream.send_frames(HttpError(stream.id, message))
    except ConnectionLost:
        pass
