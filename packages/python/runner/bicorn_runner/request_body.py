# One stream's request body in the runner: bytes from HTTP_BODY frames, and the credit owed;
# or the file the worker left the whole body in.
from __future__ import annotations

import io
import os
import re
from collections import deque
from typing import Deque, Optional, Protocol, Tuple, Union

from .frames import Buffer, ProtocolError

_NEWLINE = re.compile(b"\n")


def credit_batch(window: int) -> int:
    """How much credit a receiver gathers before it sends it: a quarter of the window."""
    return max(1, window // 4)


class Waitable(Protocol):
    """The stream's lock, as a Condition: waited on and notified under it."""

    def wait(self, timeout: Optional[float] = None) -> bool: ...

    def notify_all(self) -> None: ...


class RequestBody:
    """Body bytes as they arrive, read by the app's thread. The worker may have `window` bytes
    sent and not credited; bytes the app has read are credited back in batches, so that the
    worker can send more without a frame per read."""

    __slots__ = ("_cond", "_window", "_batch", "_chunks", "_offset", "_buffered", "_uncredited",
                 "complete", "_closed", "_discarding")

    def __init__(self, cond: Waitable, window: int, complete: bool) -> None:
        self._cond = cond
        self._window = window
        self._batch = credit_batch(window)
        self._chunks: Deque[memoryview] = deque()
        self._offset = 0
        self._buffered = 0
        self._uncredited = 0
        self.complete = complete
        self._closed = False
        self._discarding = False

    def feed(self, data: Buffer, more: bool) -> int:
        """Takes a body frame's bytes (under the stream's lock); returns the credit to send now."""
        if self.complete:
            raise ProtocolError("HTTP_BODY after the body ended")
        size = len(data)
        if self._buffered + self._uncredited + size > self._window:
            raise ProtocolError(f"{self._buffered + self._uncredited + size} request body bytes "
                                f"sent and not credited, beyond the window of {self._window}")
        self.complete = not more
        if self._closed or self._discarding:
            self._uncredited += size
            return self._take_credit(drained=True)
        if size:
            self._chunks.append(memoryview(data))
            self._buffered += size
        self._cond.notify_all()
        return 0

    def close(self) -> None:
        """No more bytes will be read or received: reads return EOF (under the stream's lock)."""
        self._closed = True
        self._drop_buffered()
        self._cond.notify_all()

    def discard(self) -> int:
        """The app is done with the body: credits what is buffered and what is still to come,
        so that the worker can finish sending it (under the stream's lock)."""
        self._discarding = True
        self._drop_buffered()
        return self._take_credit(drained=True)

    def read_some(self, limit: int, line: bool) -> Tuple[Buffer, int]:
        """Up to limit bytes (to the first newline if line), waiting for at least one unless the
        body has ended; empty at the end. Returns them, as a view of the frame they came in (the
        reader copies them once, into what it returns), with the credit to send now (under the
        stream's lock)."""
        while not self._chunks and not self.complete and not self._closed:
            self._cond.wait()
        if not self._chunks:
            return b"", 0
        chunk = self._chunks[0]
        start = self._offset
        end = min(len(chunk), start + limit)
        if line:
            match = _NEWLINE.search(chunk, start, end)
            if match is not None:
                end = match.end()
        piece = chunk[start:end]
        if end == len(chunk):
            self._chunks.popleft()
            self._offset = 0
        else:
            self._offset = end
        self._buffered -= len(piece)
        self._uncredited += len(piece)
        return piece, self._take_credit(drained=self._buffered == 0)

    def ready(self) -> bool:
        """Whether read_some or take_buffered would return without waiting (under the lock)."""
        return bool(self._chunks) or self.complete or self._closed

    def take_buffered(self) -> Tuple[bytes, int]:
        """All buffered bytes at once, without waiting: b"" when none. Returns them with the
        credit to send now (under the stream's lock)."""
        if not self._chunks:
            return b"", 0
        first = self._chunks.popleft()[self._offset:]
        data = first.tobytes() if not self._chunks else b"".join([first, *self._chunks])
        self._chunks.clear()
        self._offset = 0
        self._buffered = 0
        self._uncredited += len(data)
        return data, self._take_credit(drained=True)

    def _drop_buffered(self) -> None:
        self._uncredited += self._buffered
        self._buffered = 0
        self._chunks.clear()
        self._offset = 0

    def _take_credit(self, drained: bool) -> int:
        # Once the last frame is in, the worker sends nothing more, so credit would be noise.
        if self.complete or not (drained or self._uncredited >= self._batch):
            return 0
        credit = self._uncredited
        self._uncredited = 0
        return credit


class FileBody:
    """A body the worker received whole and left in a file (HTTP_REQUEST's body_file), read by
    the app's thread straight from it: nothing to wait for, no credit to send. Opened when the
    request arrives, before it can start: the worker keeps its own descriptor only until the
    stream ends here. Same methods as RequestBody, called under the stream's lock."""

    __slots__ = ("_file", "_left", "_error", "complete")

    def __init__(self, path: bytes) -> None:
        self.complete = True
        self._file: Optional[io.BufferedReader] = None
        self._left = 0
        self._error: Optional[OSError] = None
        try:
            self._file = open(os.open(path, os.O_RDONLY | os.O_CLOEXEC), "rb")
            self._left = os.fstat(self._file.fileno()).st_size
        except OSError as error:
            # Told to the app when it reads the body, the one request that needs it.
            self._error = error

    def feed(self, data: Buffer, more: bool) -> int:
        raise ProtocolError("HTTP_BODY for a request whose body is in a file")

    def close(self) -> None:
        self.discard()

    def discard(self) -> int:
        self._error = None
        if self._file is not None:
            self._file.close()
            self._file = None
        return 0

    def read_some(self, limit: int, line: bool) -> Tuple[Buffer, int]:
        if self._error is not None:
            raise OSError(f"the request body could not be read from the worker's file: {self._error}")
        if self._file is None:
            return b"", 0
        # Never more than is left: a read allocates what it is asked for before it reads.
        limit = self._left if limit < 0 else min(limit, self._left)
        piece = self._file.readline(limit) if line else self._file.read(limit)
        self._left -= len(piece)
        return piece, 0

    def ready(self) -> bool:
        return True

    def take_buffered(self) -> Tuple[bytes, int]:
        data, _ = self.read_some(-1, False)
        return bytes(data), 0


AnyBody = Union[RequestBody, FileBody]
