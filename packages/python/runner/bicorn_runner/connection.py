# The runner's end of the frame socket (fd 3). Frames come in on a reader thread; for an ASGI app
# the event loop takes over reading once the app is loaded, and frames written on the loop wait
# for the end of its turn, so that one write carries them all (runner process).
from __future__ import annotations

import asyncio
import select
import socket
import threading
from typing import Callable, List, Optional

from .frames import Buffer, Frame, FrameDecoder, encode_parts

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
        # Set once the event loop reads and writes, through its transport: frames written on
        # the loop are gathered in _pending until the end of its turn.
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._loop_thread: Optional[int] = None
        self._transport: Optional[asyncio.Transport] = None
        self._pending: List[bytes] = []
        self._on_lost: Optional[OnLost] = None

    @property
    def on_loop(self) -> bool:
        """The event loop reads and writes the frames: streams are touched by its thread only."""
        return self._loop is not None

    @classmethod
    def from_fd(cls, fd: int) -> "Connection":
        return cls(socket.socket(fileno=fd))

    def send(self, *frames: Frame) -> None:
        """Writes the frames back to back, so that no other thread's frame lands between them."""
        parts: List[Buffer] = []
        for frame in frames:
            parts.extend(encode_parts(frame))
        size = sum(len(part) for part in parts)
        if self._loop is not None:
            self._send_from_loop(parts, size)
            return
        self._write(parts, size)

    def start_reader(self, on_frame: OnFrame, on_lost: OnLost) -> None:
        """Reads frames on a daemon thread and hands each to on_frame, in order. on_lost gets
        None at end of file, or the error (a ProtocolError, an OSError or one from on_frame)
        that ended reading; it is called once, as the reader's last act."""
        self._on_lost = on_lost
        self._reader = threading.Thread(target=self._read_loop, args=(on_frame, on_lost),
                                        name="bicorn-frame-reader", daemon=True)
        self._reader.start()

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
            transport, _ = await loop.connect_accepted_socket(
                lambda: _FrameProtocol(self, on_frame), sock=self._sock)
            self._transport = transport
            self._loop_thread = threading.get_ident()
            self._loop = loop

        asyncio.run_coroutine_threadsafe(take_over(), loop).result()

    def close(self) -> None:
        self._sock.close()

    def _read_loop(self, on_frame: OnFrame, on_lost: OnLost) -> None:
        try:
            while not self._handoff.is_set():
                # A wait with a timeout, so that the loop can take over between two chunks.
                readable, _, _ = select.select([self._sock], [], [], _HANDOFF_CHECK_S)
                if not readable:
                    continue
                data = self._sock.recv(RECV_SIZE)
                if not data:
                    on_lost(None)
                    return
                for frame in self._decoder.feed(data):
                    on_frame(frame)
        # Whatever ends reading ends the runner: on_lost decides how loudly.
        except BaseException as error:
            on_lost(error)

    def _send_from_loop(self, parts: List[Buffer], size: int) -> None:
        loop = self._loop
        assert loop is not None
        if threading.get_ident() != self._loop_thread:
            # Another thread (the main one, at start or stop): in order, behind the loop's.
            loop.call_soon_threadsafe(self._send_from_loop, parts, size)
            return
        transport = self._transport
        if transport is None or transport.is_closing():
            raise ConnectionLost("the worker's end of the frame socket is closed")
        if not self._pending:
            loop.call_soon(self._flush)
        # Copied now: the app may reuse a bytearray it sent once send() has returned.
        self._pending.append(b"".join(parts) if size < _JOIN_BELOW or len(parts) > 1 else bytes(parts[0]))

    def _flush(self) -> None:
        transport = self._transport
        if not self._pending or transport is None:
            return
        data = b"".join(self._pending) if len(self._pending) > 1 else self._pending[0]
        self._pending.clear()
        if not transport.is_closing():
            transport.write(data)

    def _write(self, parts: List[Buffer], size: int) -> None:
        try:
            with self._write_lock:
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
        self._connection._lost(exc)
