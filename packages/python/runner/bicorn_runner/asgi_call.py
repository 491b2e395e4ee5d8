# One ASGI HTTP call, as a task on the runner's event loop: receive() and send() over a stream's
# frames, and what the worker is told when the app fails or returns early (runner process).
from __future__ import annotations

import asyncio
import sys
from typing import Any, Awaitable, Callable, Dict, List, Optional

from .app_traceback import format_app_exception
from .asgi_events import (AWAITING_START, COMPLETE, FAILED, Body, EventOrderError, Start,
                          advance, parse_send_event)
from .asgi_scope import build_scope
from .connection import ConnectionLost
from .frames import Frame, Headers, HttpResponse, HttpResponseBody
from .streams import MAX_BODY_FRAME, Stream, StreamGone

AsgiApp = Callable[[Dict[str, Any], Any, Any], Awaitable[None]]


class ClientDisconnected(OSError):
    """send() after the client went away (ASGI spec 2.4): the app may let it propagate, and the
    runner does not report it as the app's error."""

    def __init__(self) -> None:
        super().__init__("the client disconnected before the response was complete")


class AsgiCall:
    """Created on the loop's thread. The reader thread wakes it through the stream's waker; one
    asyncio.Event serves every wait (body, credit, disconnect), each re-checking its own
    condition, so that receive() and send() may wait at once from two of the app's tasks."""

    def __init__(self, stream: Stream, loop: asyncio.AbstractEventLoop,
                 state: Dict[str, Any]) -> None:
        self._stream = stream
        self._state = state
        self._changed = asyncio.Event()
        self._phase = AWAITING_START
        self._status = 200
        self._headers: Headers = []
        self._head_sent = False
        # The worker got the final body frame or HTTP_ERROR: nothing more goes on the stream.
        self._ended = False
        self._body_done = False
        self._violation: Optional[EventOrderError] = None
        stream.set_waker(lambda: _call_soon(loop, self._changed.set))

    async def run(self, app: AsgiApp) -> None:
        try:
            await app(build_scope(self._stream.request, self._state), self.receive, self.send)
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
            elif self._phase != COMPLETE and not self._stream.gone:
                self._report("RuntimeError: ASGI app returned without completing the response "
                             "(its last http.response.body event must have more_body False)\n")
        finally:
            self._stream.finish()

    async def receive(self) -> Dict[str, Any]:
        if not self._body_done:
            await self._wait(lambda: self._over() or self._stream.body_ready())
            if not self._over():
                body, complete = self._stream.take_body()
                self._body_done = complete
                return {"type": "http.request", "body": body, "more_body": not complete}
        # The request is read: the next event is the end of the exchange (spec 2.5).
        await self._wait(self._over)
        return {"type": "http.disconnect"}

    async def send(self, message: Any) -> None:
        event = parse_send_event(message)
        if self._stream.gone:
            raise ClientDisconnected()
        try:
            self._phase = advance(self._phase, event)
        except EventOrderError as error:
            self._phase = FAILED
            if self._violation is None:
                self._violation = error
            self._changed.set()
            raise
        if isinstance(event, Start):
            # The head waits for the first body bytes, so that a small response leaves in one
            # write and a failure before them is still a clean 500.
            self._status, self._headers = event.status, event.headers
            return
        try:
            await self._send_body(event)
        except (StreamGone, ConnectionLost):
            raise ClientDisconnected() from None

    async def _send_body(self, event: Body) -> None:
        frames: List[Frame] = []
        if not self._head_sent:
            self._head_sent = True
            frames.append(HttpResponse(self._stream.id, self._status, self._headers))
        view = memoryview(event.body).cast("B")
        if not view:
            if not event.more:
                frames.append(HttpResponseBody(self._stream.id, False, b""))
            # A streamed response's head goes out at once, for apps that send it early.
            if frames:
                self._stream.send_frames(*frames)
        while view:
            n = await self._acquire(min(len(view), MAX_BODY_FRAME))
            frames.append(HttpResponseBody(self._stream.id, event.more or n < len(view),
                                           view[:n]))
            view = view[n:]
            self._stream.send_frames(*frames)
            frames = []
        if not event.more:
            self._ended = True
            self._stream.finish()
            self._changed.set()

    def _over(self) -> bool:
        return self._stream.gone or self._phase in (COMPLETE, FAILED)

    async def _acquire(self, wanted: int) -> int:
        while True:
            self._changed.clear()
            granted = self._stream.try_acquire(wanted)
            if granted:
                return granted
            await self._changed.wait()

    async def _wait(self, ready: Callable[[], bool]) -> None:
        while True:
            # Cleared before the check: a wake that lands after it sets the event again.
            self._changed.clear()
            if ready():
                return
            await self._changed.wait()

    def _report(self, message: str) -> None:
        """HTTP_ERROR while the stream is open (the worker answers 500, or aborts once the head
        went out); after that, the worker's log through stderr is all that is left."""
        self._phase = FAILED
        self._changed.set()
        if self._ended or self._stream.gone:
            sys.stderr.write("Exception in ASGI app after its response ended or its client "
                             "left:\n" + message)
            sys.stderr.flush()
            return
        self._ended = True
        try:
            self._stream.send_error(message)
        except ConnectionLost:
            pass


def _call_soon(loop: asyncio.AbstractEventLoop, callback: Callable[[], Any]) -> None:
    # A frame may still arrive while the runner stops; a closed loop has nothing left to wake.
    if not loop.is_closed():
        try:
            loop.call_soon_threadsafe(callback)
        except RuntimeError:
            pass
