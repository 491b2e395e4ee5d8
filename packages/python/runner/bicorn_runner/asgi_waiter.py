# Waiting on one stream from the runner's event loop: for frames the reader thread passed on, or
# the loop once it reads them, and for send window (runner process).
from __future__ import annotations

import asyncio
import threading
from typing import Any, Callable, List, Optional

from .frames import Buffer, Frame
from .streams import MAX_BODY_FRAME

# Makes the frame for one piece of a message or body; more: whether another piece follows.
FrameOf = Callable[[Buffer, bool], Frame]


class _Changed:
    """asyncio.Event's set, clear and wait, for the loop's own thread: Event.wait() looks up the
    running loop, which on Python 3.11 makes a getpid() system call per wait (one per WebSocket
    message); this one was made knowing its loop."""

    __slots__ = ("_loop", "_is_set", "_waiters")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._is_set = False
        self._waiters: List["asyncio.Future[None]"] = []

    def set(self) -> None:
        self._is_set = True
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def clear(self) -> None:
        self._is_set = False

    async def wait(self) -> None:
        if self._is_set:
            return
        waiter = self._loop.create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        finally:
            # A wait cancelled (an app's timeout on receive) leaves nothing behind.
            if waiter in self._waiters:
                self._waiters.remove(waiter)


class StreamWaiter:
    """One event, set through the stream's waker when body bytes, messages, credit or a
    disconnect arrive, serves every wait; each re-checks its own condition, so that receive()
    and send() may wait at once from two of the app's tasks. Created on the loop's thread."""

    def __init__(self, stream: Any, loop: asyncio.AbstractEventLoop) -> None:
        self._stream = stream
        self._loop = loop
        self._loop_thread = 0
        # Made at the first wait, when the stream gets its waker: most requests never wait (no
        # body, room in the window), and until a wait nothing needs waking.
        self._changed: Optional[_Changed] = None

    def _wake_from_frames(self) -> None:
        changed = self._changed
        if changed is None:
            return
        # Frames arrive on the loop itself once it reads them; before that, on the reader.
        if threading.get_ident() == self._loop_thread:
            changed.set()
        else:
            _call_soon(self._loop, changed.set)

    def wake(self) -> None:
        """For a change made on the loop itself, such as the response ending."""
        if self._changed is not None:
            self._changed.set()

    async def until(self, ready: Callable[[], bool]) -> None:
        if ready():
            return
        changed = self._changed
        if changed is None:
            changed = self._event()
            # What the reader thread passed on before the stream had a waker woke nothing.
            if ready():
                return
        while True:
            # Every set() runs on the loop's thread, so none can come between the check above
            # and this clear: a change after the check wakes the wait.
            changed.clear()
            await changed.wait()
            if ready():
                return

    def _event(self) -> _Changed:
        if self._changed is None:
            self._loop_thread = threading.get_ident()
            self._changed = _Changed(self._loop)
            self._stream.set_waker(self._wake_from_frames)
        return self._changed

    async def send_in_frames(self, data: Buffer, more: bool, frame_of: FrameOf,
                             first: List[Frame]) -> None:
        """Sends data as frames of at most MAX_BODY_FRAME bytes, each once the send window
        allows; every frame but the last says more follows, the last says `more`. The frames
        in first go out with the first piece, or alone when data is empty. Raises what the
        stream's try_acquire raises once the peer is gone."""
        # bytes are sent as they are: nothing to copy, and len() counts their bytes.
        whole = data if type(data) is bytes else memoryview(data).cast("B")
        size = len(whole)
        if not size:
            self._stream.send_frames(*first, frame_of(whole, more))
            return
        # The common case, the whole body in one frame with room in the window, takes no wait.
        granted = self._stream.try_acquire(min(size, MAX_BODY_FRAME))
        if granted == size:
            self._stream.send_frames(*first, frame_of(whole, more))
            return
        view = memoryview(whole)
        frames = list(first)
        while view:
            n = granted or await self._acquire(min(len(view), MAX_BODY_FRAME))
            granted = 0
            frames.append(frame_of(view[:n], more or n < len(view)))
            view = view[n:]
            self._stream.send_frames(*frames)
            frames = []

    async def _acquire(self, wanted: int) -> int:
        changed = self._event()
        while True:
            changed.clear()
            granted: int = self._stream.try_acquire(wanted)
            if granted:
                return granted
            await changed.wait()


def _call_soon(loop: asyncio.AbstractEventLoop, callback: Callable[[], Any]) -> None:
    # A frame may still arrive while the runner stops; a closed loop has nothing left to wake.
    if not loop.is_closed():
        try:
            loop.call_soon_threadsafe(callback)
        except RuntimeError:
            pass
