# The client sockets the worker lends on fd 5 (../../protocol/frames/SPEC.md, "Lending the
# client's socket"): each comes as its descriptor (SCM_RIGHTS) with the u32 id of the stream it
# is lent for, read on the ASGI app's event loop or a thread of its own for a WSGI app; and the
# writing of a body to a lent socket, from the loop or from the app's thread (runner process).
from __future__ import annotations

import asyncio
import os
import select
import socket
import struct
import threading
import time
from typing import Callable, Optional, Tuple

LOAN_FD = 5
_STREAM_ID = struct.Struct(">I")

# A body part from this size on is written to the client's socket here, borrowed from the worker
# (HTTP_BORROW), rather than sent through it in frames: past the borrowing's round trip, a byte
# written here costs one copy instead of three (scripts/bench/README.md, floor/direct.mjs).
BORROW_FROM = 256 * 1024
# A borrowed socket goes back once its client has taken less than STALL_BYTES in STALL_S (slower
# than 10 MiB/s), the rest of the part in frames: the worker's spool then holds it for the
# client, as it does for one that falls behind the window (response-spool.ts), and a WSGI thread
# waits on a slow client no longer than there.
STALL_S = 0.1
STALL_BYTES = 1024 * 1024

OnLoan = Callable[[int, socket.socket], None]


class SocketLoans:
    """The channel the worker lends client sockets on: hands each to on_loan with its stream's
    id, which either takes it or closes it."""

    def __init__(self, channel: socket.socket, on_loan: OnLoan) -> None:
        self._channel = channel
        self._on_loan = on_loan

    @classmethod
    def open(cls, on_loan: OnLoan, fd: int = LOAN_FD) -> Optional["SocketLoans"]:
        """The channel on fd 5; None without one (then no socket is ever borrowed)."""
        try:
            channel = socket.socket(fileno=fd)
        except OSError:
            return None
        return cls(channel, on_loan)

    def read_on(self, loop: asyncio.AbstractEventLoop) -> None:
        """Reads the loans on the loop from now on; runs on the loop's thread."""
        def take() -> None:
            while True:
                try:
                    loan = self._receive()
                except (BlockingIOError, InterruptedError):
                    return
                if loan is None:
                    loop.remove_reader(self._channel.fileno())
                    return
                self._on_loan(*loan)

        self._channel.setblocking(False)
        loop.add_reader(self._channel.fileno(), take)

    def read_on_thread(self) -> None:
        """Reads the loans on a daemon thread of their own (a WSGI app's threads block)."""
        def read() -> None:
            while True:
                try:
                    loan = self._receive()
                except InterruptedError:
                    continue
                if loan is None:
                    return
                self._on_loan(*loan)

        self._channel.setblocking(True)
        threading.Thread(target=read, name="bicorn-socket-loans", daemon=True).start()

    def _receive(self) -> Optional[Tuple[int, socket.socket]]:
        """The next loan; None once the worker is gone (or broke the channel)."""
        try:
            # One loan at a time: a read stops at the descriptors of the next one.
            data, fds, _, _ = socket.recv_fds(self._channel, _STREAM_ID.size, 1)
        except (BlockingIOError, InterruptedError):
            raise
        except OSError:
            return None
        if len(data) != _STREAM_ID.size or len(fds) != 1:
            for fd in fds:
                os.close(fd)
            return None
        # No process the app starts may hold a client's connection open.
        os.set_inheritable(fds[0], False)
        client = socket.socket(fileno=fds[0])
        client.setblocking(False)
        return _STREAM_ID.unpack(data)[0], client


class _Pace:
    """A write to a lent socket: the bytes out, and until when the client may take the next
    STALL_BYTES before the socket goes back."""

    def __init__(self, now: float) -> None:
        self.written = 0
        self._paced_from = 0
        self.deadline = now + STALL_S

    def send(self, client: socket.socket, view: memoryview, now: Callable[[], float]) -> bool:
        """Writes what the socket takes now; False once the client has left (the worker hears of
        it on its side of the socket)."""
        try:
            self.written += client.send(view[self.written:])
        except (BlockingIOError, InterruptedError):
            pass
        except OSError:
            return False
        if self.written - self._paced_from >= STALL_BYTES:
            self._paced_from = self.written
            self.deadline = now() + STALL_S
        return True


def write_lent(client: socket.socket, view: memoryview, gone: Callable[[], bool]) -> int:
    """Writes view to a lent socket from the calling thread as the client takes it, until it is
    out, the client falls behind (STALL_BYTES in STALL_S) or leaves; returns the bytes written."""
    poller = select.poll()
    poller.register(client, select.POLLOUT)
    pace = _Pace(time.monotonic())
    while not gone() and pace.send(client, view, time.monotonic) and pace.written < len(view):
        if not poller.poll(max(0.0, pace.deadline - time.monotonic()) * 1000):
            break
    return pace.written


async def write_lent_on(loop: asyncio.AbstractEventLoop, client: socket.socket, view: memoryview,
                        gone: Callable[[], bool]) -> int:
    """write_lent from the event loop, which goes on meanwhile."""
    pace = _Pace(loop.time())
    while not gone() and pace.send(client, view, loop.time) and pace.written < len(view):
        if not await _writable(loop, client, pace.deadline - loop.time()):
            break
    return pace.written


async def _writable(loop: asyncio.AbstractEventLoop, client: socket.socket, timeout: float) -> bool:
    """Whether the socket can take more bytes within timeout seconds."""
    if timeout <= 0:
        return False
    ready: "asyncio.Future[bool]" = loop.create_future()
    fd = client.fileno()
    loop.add_writer(fd, _settle, ready, True)
    timer = loop.call_later(timeout, _settle, ready, False)
    try:
        return await ready
    finally:
        loop.remove_writer(fd)
        timer.cancel()


def _settle(future: "asyncio.Future[bool]", value: bool) -> None:
    if not future.done():
        future.set_result(value)
