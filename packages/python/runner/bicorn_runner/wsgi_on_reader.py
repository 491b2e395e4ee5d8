# A WSGI app with one thread runs on the thread that reads the frames, between two chunks: no
# request is handed to another thread, which cost a thread switch each. A relief thread reads
# the frames while a call waits for frames (its body, its send window) or runs past
# RELIEF_AFTER_S, so that PINGs, withdrawals and disconnects are still heard then; requests that
# come meanwhile wait for the call, as with one pool thread (runner process).
from __future__ import annotations

import collections
import socket
import threading
import time
from typing import Any, Callable, Deque, Optional, Tuple

from .connection import Connection
from .wsgi_pool import call

RELIEF_AFTER_S = 0.05
# A call's complete answer waits for those of the calls that follow it in the same chunk, to
# leave in one write, until it has waited this long (checked before each call; the relief reader
# sends it when it starts), and only while the calls take less each. An answer still streaming
# is never held (Connection.hold_writes).
HOLD_FOR_S = 0.0005
# ... and only in a chunk of at least this many calls, where requests pile up and the wait is
# small beside each one's queueing. With a few clients at once, every exchange would wait a
# chunk longer and its client send the next request that much later (measured at 8
# connections: 11% fewer requests a second).
HOLD_FROM_CALLS = 16
# Without a call for this many checks in a row, the relief thread sleeps until the next call.
IDLE_CHECKS = 20

Work = Tuple[Callable[[Any], None], Any]


class OnReader:
    """The WSGI pool of one thread, on the reader thread: submit from whichever thread reads the
    frames, each call made on the reader thread in order, one at a time."""

    def __init__(self, connection: Connection) -> None:
        self._conn = connection
        self._waiting: Deque[Work] = collections.deque()
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        # Under _lock: when the call under way began, or None between calls.
        self._call_since: Optional[float] = None
        self._calls = 0
        # The last call measured took less than HOLD_FOR_S (reader thread only).
        self._quick = True
        # The relief thread checks every RELIEF_AFTER_S; false once calls stop, till the next.
        self._watching = False
        # A call waits for frames: the relief thread reads them at once.
        self._reader_wanted = False
        self._relieving = False
        self._stopping = False
        # A byte on _stop_signal ends read_meanwhile when the call it relieved is over.
        self._stop_reading, self._stop_signal = socket.socketpair()
        self._relief = threading.Thread(target=self._relieve, name="bicorn-frame-relief",
                                        daemon=True)
        self._relief.start()
        connection.run_between_chunks(self._run_waiting, self._need_reader)

    def submit(self, handler: Callable[[Any], None], item: Any) -> None:
        """handler(item) runs on the reader thread after the frames of the chunk at hand, or
        after the call under way when the relief thread reads. Never blocks."""
        self._waiting.append((handler, item))

    def shutdown(self) -> None:
        """Stops the relief thread; the calls are over by then (every stream has ended)."""
        with self._lock:
            self._stopping = True
            self._changed.notify_all()
        self._relief.join()
        self._stop_reading.close()
        self._stop_signal.close()

    def _run_waiting(self) -> None:
        conn = self._conn
        held_since: Optional[float] = None
        began: Optional[float] = None
        deep = len(self._waiting) >= HOLD_FROM_CALLS
        try:
            while self._waiting:
                handler, item = self._waiting.popleft()
                now = self._begin()
                if began is not None:
                    # A slow app's answers (Django's, about 2 ms a call) would each wait a whole
                    # call and still leave one per write: only a quick app's wait.
                    self._quick = now - began < HOLD_FOR_S
                began = now
                if held_since is not None and now - held_since >= HOLD_FOR_S:
                    conn.release_writes()
                    held_since = None
                # One write per chunk's worth of responses, not one each: the worker then wakes
                # and reads once for them all.
                follows = deep and self._quick and bool(self._waiting)
                if follows and held_since is None:
                    held_since = now
                conn.hold_writes(follows)
                try:
                    call(handler, item)
                finally:
                    self._end()
        finally:
            conn.release_writes()

    def _begin(self) -> float:
        with self._lock:
            self._call_since = now = time.monotonic()
            if not self._watching:
                self._watching = True
                self._changed.notify_all()
        return now

    def _end(self) -> None:
        with self._lock:
            self._call_since = None
            self._calls += 1
            if not self._relieving:
                return
            # The relief thread reads until told: the reader thread reads again once it stops.
            self._stop_signal.send(b"x")
            while self._relieving:
                self._changed.wait()

    def _need_reader(self) -> None:
        with self._lock:
            if self._call_since is not None and not self._relieving:
                self._reader_wanted = True
                self._changed.notify_all()

    def _relieve(self) -> None:
        seen_calls, idle_checks = -1, 0
        with self._lock:
            while not self._stopping:
                if not self._watching:
                    self._changed.wait()
                    continue
                since = self._call_since
                if since is not None and (self._reader_wanted
                                          or time.monotonic() - since >= RELIEF_AFTER_S):
                    self._read_during_call()
                    continue
                self._reader_wanted = False
                if since is None and self._calls == seen_calls:
                    idle_checks += 1
                    if idle_checks >= IDLE_CHECKS:
                        self._watching = False
                        continue
                else:
                    seen_calls, idle_checks = self._calls, 0
                self._changed.wait(RELIEF_AFTER_S)

    def _read_during_call(self) -> None:
        """Under _lock, released while reading: reads until _end says the call is over."""
        self._reader_wanted = False
        self._relieving = True
        self._lock.release()
        stopped = False
        try:
            stopped = self._conn.read_meanwhile(self._stop_reading)
        finally:
            self._lock.acquire()
            # Reading has ended (the worker is gone, and the runner exits): nothing to relieve.
            if not stopped:
                self._stopping = True
            self._relieving = False
            self._changed.notify_all()
