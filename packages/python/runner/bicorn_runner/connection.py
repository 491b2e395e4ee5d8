# The runner's end of the frame socket (fd 3): one reader thread in, whole frames out under a lock.
from __future__ import annotations

import socket
import threading
from typing import Callable, List, Optional

from .frames import Buffer, Frame, FrameDecoder, encode_parts

RECV_SIZE = 256 * 1024
# Below this, parts are joined into one buffer so that a frame group costs one syscall; above
# it, a body is written from where it lies instead of being copied.
_JOIN_BELOW = 64 * 1024


class ConnectionLost(Exception):
    """The worker's end of the socket is gone."""


class Connection:
    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._write_lock = threading.Lock()

    @classmethod
    def from_fd(cls, fd: int) -> "Connection":
        return cls(socket.socket(fileno=fd))

    def send(self, *frames: Frame) -> None:
        """Writes the frames back to back, so that no other thread's frame lands between them."""
        parts: List[Buffer] = []
        for frame in frames:
            parts.extend(encode_parts(frame))
        size = sum(len(part) for part in parts)
        try:
            with self._write_lock:
                if size < _JOIN_BELOW:
                    self._sock.sendall(b"".join(parts))
                else:
                    for part in parts:
                        self._sock.sendall(part)
        except OSError as error:
            raise ConnectionLost(str(error)) from error

    def start_reader(self, on_frame: Callable[[Frame], None],
                     on_lost: Callable[[Optional[BaseException]], None]) -> threading.Thread:
        """Reads frames on a daemon thread and hands each to on_frame, in order. on_lost gets
        None at end of file, or the error (a ProtocolError, an OSError or one from on_frame)
        that ended reading; it is called once, as the thread's last act."""
        thread = threading.Thread(target=self._read_loop, args=(on_frame, on_lost),
                                  name="bicorn-frame-reader", daemon=True)
        thread.start()
        return thread

    def _read_loop(self, on_frame: Callable[[Frame], None],
                   on_lost: Callable[[Optional[BaseException]], None]) -> None:
        decoder = FrameDecoder()
        try:
            while True:
                data = self._sock.recv(RECV_SIZE)
                if not data:
                    break
                for frame in decoder.feed(data):
                    on_frame(frame)
        # Whatever ends reading ends the runner: on_lost decides how loudly.
        except BaseException as error:
            on_lost(error)
            return
        on_lost(None)

    def close(self) -> None:
        self._sock.close()
