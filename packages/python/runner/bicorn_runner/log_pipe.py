# The app's output as LOG frames on the log pipe (fd 4), so that the worker logs one entry per
# write and never has to guess from newlines: sys.stdout, sys.stderr and wsgi.errors become
# streams that send one frame per write (a write that does not end its line waits for the one
# that does, as print() writes its text and then "\n"), a logging record written through a
# StreamHandler carries its level and logger, and a traceback that Python's hooks or the
# traceback module print in many writes is one frame. What bypasses Python's streams (C code,
# child processes, faulthandler) still reaches fds 1 and 2 raw (runner process).
from __future__ import annotations

import functools
import io
import logging
import os
import sys
import threading
import traceback
from typing import Any, Callable, List, Optional, TypeVar

from .frames import Log, encode

LOG_FD = 4
# A frame's payload is at most 1 MiB: a longer write goes out in pieces of at most this many
# characters (4 bytes each at most in UTF-8), cut between characters.
_PIECE_CHARS = 200 * 1024
# A line that never ends (a progress bar drawn with \r) is sent once this much has gathered.
_PENDING_LIMIT = 64 * 1024

F = TypeVar("F", bound=Callable[..., Any])


class LogPipe:
    """The writing end of the log pipe; any thread may send."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._lock = threading.Lock()
        self._owner: Optional[int] = None
        self._deferred: List[bytes] = []

    @classmethod
    def open(cls, fd: int = LOG_FD) -> Optional["LogPipe"]:
        """None when fd is not open (the runner started by hand, as in some tests)."""
        try:
            os.fstat(fd)
        except OSError:
            return None
        return cls(fd)

    def send(self, source: str, text: str, level: int = 0, logger: str = "") -> None:
        level = min(max(level, 0), 255)
        for start in range(0, max(len(text), 1), _PIECE_CHARS):
            self._write(encode(Log(0, source, level, logger, text[start:start + _PIECE_CHARS])))

    def _write(self, data: bytes) -> None:
        if self._owner == threading.get_ident():
            # A signal handler that logs while this thread is inside a write: its frame goes
            # out after the one under way, never in the middle of it.
            self._deferred.append(data)
            return
        with self._lock:
            self._owner = threading.get_ident()
            try:
                self._write_all(data)
                while self._deferred:
                    self._write_all(self._deferred.pop(0))
            finally:
                self._owner = None

    def _write_all(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            try:
                view = view[os.write(self._fd, view):]
            except OSError:
                # The worker is gone: there is no one left to read the log.
                return


class _ThreadState(threading.local):
    def __init__(self) -> None:
        self.pending: List[str] = []
        self.size = 0


class _Context(threading.local):
    """What the current thread is doing: gathering a traceback's writes, or emitting a record."""

    def __init__(self) -> None:
        self.gathering = 0
        self.record: Optional[logging.LogRecord] = None


_context = _Context()
_streams: List["LogStream"] = []


class LogStream(io.TextIOBase):
    """A text stream whose writes become LOG frames; each thread's unfinished line is its own."""

    def __init__(self, pipe: LogPipe, source: str, fd: Optional[int] = None,
                 binary: Any = None) -> None:
        super().__init__()
        self._pipe = pipe
        self._source = source
        self._fd = fd
        self._state = _ThreadState()
        if binary is not None:
            # Bytes written to .buffer go to the raw fd, which the worker reads line by line.
            self.buffer = binary
        _streams.append(self)

    @property
    def name(self) -> str:
        return f"<{self._source}>"

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"

    @property
    def errors(self) -> str:  # type: ignore[override]
        return "backslashreplace"

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        # wsgi.errors has no fd of its own: raw bytes in the log pipe would break its frames.
        if self._fd is None:
            raise io.UnsupportedOperation(f"{self.name} has no file descriptor")
        return self._fd

    def write(self, text: str) -> int:  # type: ignore[override]
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        if not text:
            return 0
        state = self._state
        if _context.gathering or (not text.endswith("\n") and state.size + len(text) < _PENDING_LIMIT):
            state.pending.append(text)
            state.size += len(text)
            return len(text)
        self._send("".join(state.pending) + text if state.pending else text)
        state.pending = []
        state.size = 0
        return len(text)

    def writelines(self, lines: Any) -> None:  # type: ignore[override]
        self.write("".join(lines))

    def flush(self) -> None:
        """Sends what this thread wrote since its last frame, ended or not."""
        state = self._state
        if state.pending:
            text = "".join(state.pending)
            state.pending = []
            state.size = 0
            self._send(text)

    def _send(self, text: str) -> None:
        record = _context.record
        if record is None:
            self._pipe.send(self._source, text)
        else:
            self._pipe.send(self._source, text, max(record.levelno, 1), record.name)


def _gathered(function: F) -> F:
    """Makes every write of `function` to the log streams, in this thread, one frame each."""
    @functools.wraps(function)
    def gathered(*args: Any, **kwargs: Any) -> Any:
        _context.gathering += 1
        try:
            return function(*args, **kwargs)
        finally:
            _context.gathering -= 1
            if not _context.gathering:
                for stream in _streams:
                    stream.flush()
    return gathered  # type: ignore[return-value]


def _with_record(emit: Callable[[logging.StreamHandler, logging.LogRecord], None]
                 ) -> Callable[[logging.StreamHandler, logging.LogRecord], None]:
    """StreamHandler.emit, telling the log streams which record they are writing."""
    @functools.wraps(emit)
    def emit_record(handler: logging.StreamHandler, record: logging.LogRecord) -> None:
        outer, _context.record = _context.record, record
        try:
            emit(handler, record)
        finally:
            _context.record = outer
    return emit_record


_installed: Optional[LogPipe] = None


def install(pipe: LogPipe) -> LogStream:
    """Routes the app's output through the pipe; returns the stream for wsgi.errors. Call on
    the main thread before the app is imported."""
    global _installed
    _installed = pipe
    sys.stdout = LogStream(pipe, "stdout", 1, getattr(sys.__stdout__, "buffer", None))
    sys.stderr = LogStream(pipe, "stderr", 2, getattr(sys.__stderr__, "buffer", None))
    # lastResort, basicConfig and Django's and Flask's console handlers are StreamHandlers.
    logging.StreamHandler.emit = _with_record(logging.StreamHandler.emit)  # type: ignore[method-assign]
    sys.excepthook = _gathered(sys.excepthook)
    threading.excepthook = _gathered(threading.excepthook)
    sys.unraisablehook = _gathered(sys.unraisablehook)
    # print_exc and print_last call print_exception through the module.
    for name in ("print_exception", "print_tb", "print_stack"):
        setattr(traceback, name, _gathered(getattr(traceback, name)))
    return LogStream(pipe, "wsgi.errors")


def runner_says(level: int, text: str) -> None:
    """A notice of the runner's own, logged by the worker as bicorn's, not as the app's output."""
    if _installed is not None:
        _installed.send("runner", text, level)
        return
    sys.stderr.write(f"bicorn runner: {text}\n")
    sys.stderr.flush()
