# The client sockets the worker lends on fd 5 (../../protocol/frames/SPEC.md, "Lending the
# client's socket"): each comes as its descriptor (SCM_RIGHTS) with the u32 id of the stream it
# is lent for, and is read on the ASGI app's event loop (runner process).
from __future__ import annotations

import asyncio
import os
import socket
import struct
from typing import Callable, Optional

LOAN_FD = 5
_STREAM_ID = struct.Struct(">I")

OnLoan = Callable[[int, socket.socket], None]


class SocketLoans:
    def __init__(self, channel: socket.socket, on_loan: OnLoan) -> None:
        self._channel = channel
        self._on_loan = on_loan
        self._loop: Optional[asyncio.AbstractEventLoop] = None

    @classmethod
    def open(cls, on_loan: OnLoan, fd: int = LOAN_FD) -> Optional["SocketLoans"]:
        """The channel on fd 5; None without one (then no socket is ever borrowed)."""
        try:
            channel = socket.socket(fileno=fd)
        except OSError:
            return None
        channel.setblocking(False)
        return cls(channel, on_loan)

    def read_on(self, loop: asyncio.AbstractEventLoop) -> None:
        """Reads the loans on the loop from now on; call on the loop's thread."""
        self._loop = loop
        loop.add_reader(self._channel.fileno(), self._take)

    def _take(self) -> None:
        while True:
            try:
                # One loan at a time: a read stops at the descriptors of the next one.
                data, fds, _, _ = socket.recv_fds(self._channel, _STREAM_ID.size, 1)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                data, fds = b"", []
            if len(data) != _STREAM_ID.size or len(fds) != 1:
                # The worker is gone (or broke the channel): nothing more will be lent.
                for fd in fds:
                    os.close(fd)
                if self._loop is not None:
                    self._loop.remove_reader(self._channel.fileno())
                return
            # No process the app starts may hold a client's connection open.
            os.set_inheritable(fds[0], False)
            client = socket.socket(fileno=fds[0])
            client.setblocking(False)
            self._on_loan(_STREAM_ID.unpack(data)[0], client)
