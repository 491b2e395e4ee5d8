# Waiting on one stream from the runner's event loop: for frames the reader thread passed on,
# and for send window (runner process).
from __future__ import annotations

import asyncio
from typing import Any, Callable, List

from .frames import Buffer, Frame
from .streams import MAX_BODY_FRAME

# Makes the frame for one piece of a message or body; more: whether another piece follows.
FrameOf = Callable[[memoryview, bool], Frame]


class StreamWaiter:
    """One asyncio.Event, set through the stream's waker when body bytes, messages, credit or a
    disconnect arrive, serves every wait; each re-checks its own condition, so that receive()
    and send() may wait at once from two of the app's tasks. Created on the loop's thread."""

    def __init__(self, stream: Any, loop: asyncio.AbstractEventLoop) -> None:
        self._stream = stream
        self._changed = asyncio.Event()
        stream.set_waker(lambda: _call_soon(loop, self._changed.set))

    def wake(self) -> None:
        """For a change made on the loop itself, such as the response ending."""
        self._changed.set()

    async def until(self, ready: Callable[[], bool]) -> None:
        while True:
            # Cleared before the check: a wake that lands after it sets the event again.
            self._changed.clear()
            if ready():
                return
            await self._changed.wait()

    async def send_in_frames(self, data: Buffer, more: bool, frame_of: FrameOf,
                             first: List[Frame]) -> None:
        """Sends data as frames of at most MAX_BODY_FRAME bytes, each once the send window
        allows; every frame but the last says more follows, the last says `more`. The frames
        in first go out with the first piece, or alone when data is empty. Raises what the
        stream's try_acquire raises once the peer is gone."""
        view = memoryview(data).cast("B")
        frames = list(first)
        if not view:
            frames.append(frame_of(view, more))
            self._stream.send_frames(*frames)
            return
        while view:
            n = await self._acquire(min(len(view), MAX_BODY_FRAME))
            frames.append(frame_of(view[:n], more or n < len(view)))
            view = view[n:]
            self._stream.send_frames(*frames)
            frames = []

    async def _acquire(self, wanted: int) -> int:
        while True:
            self._changed.clear()
            granted: int = self._stream.try_acquire(wanted)
            if granted:
                return granted
            await self._changed.wait()


def _call_soon(loop: asyncio.AbstractEventLoop, callback: Callable[[], Any]) -> None:
    # A frame may still arrive while the runner stops; a closed loop has nothing left to wake.
    if not loop.is_closed():
        try:
            loop.call_soon_threadsafe(callback)
        except RuntimeError:
            pass
