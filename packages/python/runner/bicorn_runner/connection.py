# The runner's end of the frame socket (fd 3). Frames come in on a reader thread; for an ASGI app
# the event loop takes over reading once the app is loaded, and frames written on the loop wait
# for the end of its turn, so that one write carries them all. A WSGI app with one thread may run
# on the reader thread itself, between chunks, while another thread reads; the complete answers
# of such calls made in a row may be held to leave in one write too (runner process).
from __future__ import annotations

import asyncio
import select
import socket
import threading
from typing import Callable, List, Optional

from .frames import (Buffer, Frame, FrameDecoder, Headers, encode_message, encode_parts,
                     encode_response)

RECV_SIZE = 256 * 1024
# Below this, parts are joined into one buffer so that a frame group costs one syscall; above
# it, a body is written from where it lies instead of being copied.
_JOIN_BELOW = 64 * 1024
# How often the reader thread looks up from its wait, to see whether the loop took over.
_HANDOFF_CHECK_S = 0.05

OnFrame = Callable[[Frame], None]
OnLost = Callable[[Optional[BaseException]], None]


class ConnectionLost(Exception):
    """The worker's end of the socket is gone."""


class Connection:
    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._write_lock = threading.Lock()
        self._decoder = FrameDecoder()
        self._reader: Optional[threading.Thread] = None
        self._handoff = threading.Event()
        # Set by keep_reading (WSGI): no loop will take over, so recv blocks without select.
        self._reads_to_the_end = False
        self._on_frame: Optional[OnFrame] = None
        # Set by run_between_chunks: the reader thread calls it after each chunk's frames, and
        # read_meanwhile reads into the buffer, one thread at a time.
        self._between_chunks: Optional[Callable[[], None]] = None
        self._relief_buffer: Optional[memoryview] = None
        # While holding (set by the thread that makes the calls), the small last frames of a
        # response wait in _held, under _write_lock, for the next write that is not held: the
        # responses of calls made one after another leave in one.
        self._holding = False
        self._held = bytearray()
        # Set by run_between_chunks: a stream's side that is about to wait for frames calls it.
        self.before_wait: Optional[Callable[[], None]] = None
        # Set once the event loop reads and writes, through its transport: frames written on
        # the loop are gathered in _pending until the end of its turn.
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._loop_thread: Optional[int] = None
        self._transport: Optional[asyncio.Transport] = None
        self._pending: List[Buffer] = []
        self._on_lost: Optional[OnLost] = None
        # Resolved by the transport's connection_lost: close_on_loop waits for it.
        self._closed: Optional["asyncio.Future[None]"] = None

    @property
    def on_loop(self) -> bool:
        """The event loop reads and writes the frames: streams are touched by its thread only."""
        return self._loop is not None

    @classmethod
    def from_fd(cls, fd: int) -> "Connection":
        return cls(socket.socket(fileno=fd))

    def send(self, *frames: Frame, may_wait: bool = False) -> None:
        """Writes the frames back to back, so that no other thread's frame lands between them.
        may_wait: they end a response, which may be held (hold_writes) for the next call's."""
        parts: List[Buffer] = []
        for frame in frames:
            parts.extend(encode_parts(frame))
        if self._loop is not None:
            self._send_from_loop(parts)
            return
        self._write(parts, sum(len(part) for part in parts), may_wait)

    def send_response(self, stream: int, status: int, headers: Headers, body: bytes) -> None:
        """send() of an HTTP_RESPONSE without trailers and its one HTTP_RESPONSE_BODY, the last,
        encoded without making either frame (frames.encode_response)."""
        parts = encode_response(stream, status, headers, body)
        if self._loop is not None:
            self._queue_on_loop(parts)
            return
        self._write(parts, sum(len(part) for part in parts), True)

    def send_message(self, stream: int, text: bool, data: bytes) -> None:
        """send() of a WS_MESSAGE without MORE, encoded without making the frame."""
        parts = encode_message(stream, text, data)
        if self._loop is not None:
            self._queue_on_loop(parts)
            return
        self._write(parts, sum(len(part) for part in parts), False)

    def start_reader(self, on_frame: OnFrame, on_lost: OnLost) -> None:
        """Reads frames on a daemon thread and hands each to on_frame, in order. on_lost gets
        None at end of file, or the error (a ProtocolError, an OSError or one from on_frame)
        that ended reading; it is called once, as the reader's last act."""
        self._on_lost = on_lost
        self._on_frame = on_frame
        self._reader = threading.Thread(target=self._read_loop, args=(on_frame,),
                                        name="bicorn-frame-reader", daemon=True)
        self._reader.start()

    def keep_reading(self) -> None:
        """No event loop will take over (a WSGI app): from now on the reader thread waits in a
        plain blocking recv, without looking up for a hand-off between chunks."""
        assert self._loop is None, "the event loop reads the frames already"
        self._reads_to_the_end = True

    def run_between_chunks(self, run: Callable[[], None], before_wait: Callable[[], None]) -> None:
        """After keep_reading: the reader thread calls run() after handing on each chunk's
        frames, and streams made from now on call before_wait() before they wait for frames
        (request body, send window), which the reader thread cannot read while inside run():
        read_meanwhile, on another thread, does."""
        assert self._reads_to_the_end, "keep_reading first: a loop would take over the frames"
        self.before_wait = before_wait
        self._between_chunks = run

    def read_meanwhile(self, stop: socket.socket) -> bool:
        """Sends what is held, then reads frames on the calling thread, while the reader thread
        is inside the run() of run_between_chunks, until stop is readable (its one byte is taken
        here): True then; False once reading has ended (on_lost was called)."""
        on_frame = self._on_frame
        assert on_frame is not None and self._between_chunks is not None
        # Made at the first relief: calls that are short and wait for no frame never need it.
        if self._relief_buffer is None:
            self._relief_buffer = memoryview(bytearray(RECV_SIZE))
        buffer = self._relief_buffer
        try:
            # The call may run long: what it held back for the calls after it leaves now.
            self.release_writes()
            while True:
                readable, _, _ = select.select([self._sock, stop], [], [])
                if stop in readable:
                    stop.recv(1)
                    return True
                if not self._read_chunk(buffer, on_frame):
                    return False
        except BaseException as error:
            self._lost(error)
            return False

    def fit_send_buffer(self, window: int) -> None:
        """Raises the socket's send buffer to a stream window (as far as net.core.wmem_max
        allows), so that a body sent within its credit seldom waits for room: each wait costs
        the runner a wake-up, and the worker more reads, each of less."""
        try:
            if self._sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF) < window:
                self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, window)
        except OSError:
            pass

    def hold_writes(self, hold: bool) -> None:
        """With hold True, frame groups sent with may_wait under _JOIN_BELOW wait, up to that
        many bytes in all, for a write that is not held or for release_writes(); any other
        write, or any write once hold is False, takes what waits along. Not on the loop, whose
        writes wait for the end of its turn."""
        self._holding = hold

    def release_writes(self) -> None:
        """Writes what waits, and holds no more."""
        with self._write_lock:
            self._holding = False
            if not self._held:
                return
        self._write([], 0, False)

    def read_on_loop(self, loop: asyncio.AbstractEventLoop, on_frame: OnFrame) -> None:
        """From now on the loop reads the frames, and gathers the frames written on it into
        one write per turn: no frame crosses between threads on the request path. Call from
        another thread than the loop's; returns once the loop has taken over."""
        self._handoff.set()
        if self._reader is not None:
            self._reader.join()

        async def take_over() -> None:
            # The loop's own transport (uvloop's is C): reads as data comes, writes without
            # blocking the loop, buffering what the worker cannot take yet.
            self._closed = loop.create_future()
            transport, _ = await loop.connect_accepted_socket(
                lambda: _FrameProtocol(self, on_frame), sock=self._sock)
            self._transport = transport
            self._loop_thread = threading.get_ident()
            self._loop = loop

        asyncio.run_coroutine_threadsafe(take_over(), loop).result()

    async def close_on_loop(self) -> None:
        """Writes what the loop still holds for the worker, closes the transport and returns once
        it is closed, its buffer written: the process may exit then without losing a frame.
        Run on the loop, as the runner's last act there; nothing is sent after it."""
        transport, closed = self._transport, self._closed
        if transport is None or closed is None:
            return
        # The runner closes the socket itself: that is no loss for on_lost to act on.
        self._on_lost = None
        if not transport.is_closing():
            self._flush()
            transport.close()
        await closed

    def close(self) -> None:
        self._sock.close()

    def _read_loop(self, on_frame: OnFrame) -> None:
        # Read into one buffer, and each chunk copied out at its size: recv(RECV_SIZE) makes a
        # bytes object of RECV_SIZE each time, over malloc's mmap threshold, so every chunk, a
        # small request too, cost an mmap, an mremap and a munmap (and a page fault).
        buffer = memoryview(bytearray(RECV_SIZE))
        try:
            while True:
                if not self._reads_to_the_end:
                    if self._handoff.is_set():
                        return
                    # A wait with a timeout, so that the loop can take over between two chunks.
                    readable, _, _ = select.select([self._sock], [], [], _HANDOFF_CHECK_S)
                    if not readable:
                        continue
                if not self._read_chunk(buffer, on_frame):
                    return
                between_chunks = self._between_chunks
                if between_chunks is not None:
                    between_chunks()
        # Whatever ends reading ends the runner: on_lost decides how loudly.
        except BaseException as error:
            self._lost(error)

    def _read_chunk(self, buffer: memoryview, on_frame: OnFrame) -> bool:
        """One recv, its frames handed to on_frame in order; False at end of file."""
        n = self._sock.recv_into(buffer)
        if not n:
            self._lost(None)
            return False
        # A copy: frames keep views of what they were parsed from.
        for frame in self._decoder.feed(bytes(buffer[:n])):
            on_frame(frame)
        return True

    def _send_from_loop(self, parts: List[Buffer]) -> None:
        # Kept until the end of the turn: the app may reuse a bytearray it sent once send() has
        # returned, so what can change is copied now; bytes, and views of bytes, are not.
        self._queue_on_loop([part if type(part) is bytes or (type(part) is memoryview
                                                             and type(part.obj) is bytes)
                             else bytes(part) for part in parts])

    def _queue_on_loop(self, parts: List[Buffer]) -> None:
        """Queues parts that cannot change for the loop's write at the end of its turn."""
        loop = self._loop
        assert loop is not None
        if threading.get_ident() != self._loop_thread:
            # Another thread (the main one, at start or stop): in order, behind the loop's.
            loop.call_soon_threadsafe(self._queue_on_loop, parts)
            return
        transport = self._transport
        if transport is None or transport.is_closing():
            raise ConnectionLost("the worker's end of the frame socket is closed")
        if not self._pending:
            loop.call_soon(self._flush)
        self._pending.extend(parts)

    def _flush(self) -> None:
        transport = self._transport
        assert transport is not None, "frames are queued only once the transport is set"
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        if not transport.is_closing():
            # One gathered write: uvloop's writev, asyncio's sendmsg from Python 3.12 (before
            # that, asyncio joins the parts once).
            transport.writelines(pending)

    def _write(self, parts: List[Buffer], size: int, may_wait: bool) -> None:
        try:
            with self._write_lock:
                held = self._held
                hold = may_wait and self._holding
                if size < _JOIN_BELOW and (hold or held):
                    for part in parts:
                        held += part
                    if hold and len(held) < _JOIN_BELOW:
                        return
                    self._sock.sendall(held)
                    del held[:]
                    return
                # A large write: what waits goes first.
                if held:
                    self._sock.sendall(held)
                    del held[:]
                if size < _JOIN_BELOW:
                    self._sock.sendall(b"".join(parts))
                else:
                    for part in parts:
                        self._sock.sendall(part)
        except OSError as error:
            raise ConnectionLost(str(error)) from error

    def _lost(self, error: Optional[BaseException]) -> None:
        if self._on_lost is not None:
            on_lost, self._on_lost = self._on_lost, None
            on_lost(error)


class _FrameProtocol(asyncio.Protocol):
    """The frame socket on the loop: bytes in become frames for on_frame, in order."""

    def __init__(self, connection: Connection, on_frame: OnFrame) -> None:
        self._connection = connection
        self._on_frame = on_frame

    def data_received(self, data: bytes) -> None:
        try:
            for frame in self._connection._decoder.feed(data):
                self._on_frame(frame)
        # Whatever ends reading ends the runner, as on the reader thread.
        except BaseException as error:
            self._connection._lost(error)

    def eof_received(self) -> bool:
        self._connection._lost(None)
        return False

    def connection_lost(self, exc: Optional[Exception]) -> None:
        closed = self._connection._closed
        if closed is not None and not closed.done():
            closed.set_result(None)
        self._connection._lost(exc)
