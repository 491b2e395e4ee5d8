# Request bodies a WSGI app's runner receives from the client's socket itself, lent by the worker
# (../../protocol/frames/SPEC.md, "Receiving a body from the client's socket"): each into memory,
# on one thread of their own that waits on every such socket at once, so that a slow client holds
# no thread of the app; then held until its request comes (HTTP_REQUEST with HELD). Runs in the
# runner of a WSGI app.
from __future__ import annotations

import selectors
import socket
import threading
import time
from typing import Callable, Dict, List, Optional, Tuple

from .connection import ConnectionLost
from .frames import Buffer, Frame, HttpReceived

# How often the worker hears what came, at the most: its request timeout counts these bytes.
REPORT_S = 0.1
# The most a read takes at once. Reads give new bytes objects, as large as what came: no buffer to
# zero first, nor to fault in, as one of the body's size would be.
READ_MAX = 1024 * 1024

Send = Callable[[Frame], None]


class _Upload:
    """One body on its way: its bytes so far, the socket once lent, what the worker has heard."""

    __slots__ = ("stream", "length", "chunks", "received", "client", "reported")

    def __init__(self, stream: int, length: int, start: Buffer) -> None:
        self.stream = stream
        self.length = length
        self.chunks: List[Buffer] = [start] if len(start) else []
        self.received = len(start)
        self.client: Optional[socket.socket] = None
        # Bytes from the socket the worker has been told of.
        self.reported = len(start)


class LentUploads:
    """begin, cancel and take run on the thread that reads the frames, lend on the one that reads
    the loans; the receiving thread starts with the first body. Every upload ends with one
    HTTP_RECEIVED without MORE, but one dropped before it was lent (HTTP_NOT_LENT)."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self._lock = threading.Lock()
        # Bodies asked for and not yet whole (in the receiving thread's hands once lent), and
        # whole bodies waiting for their request: by stream.
        self._receiving: Dict[int, _Upload] = {}
        self._held: Dict[int, List[Buffer]] = {}
        # Work for the receiving thread, which alone touches its selector: sockets to wait on,
        # uploads to end early. A byte on its wake pair interrupts its wait.
        self._to_add: List[_Upload] = []
        self._to_end: List[_Upload] = []
        self._wake_pair: Optional[Tuple[socket.socket, socket.socket]] = None

    def begin(self, stream: int, length: int, start: Buffer) -> None:
        """HTTP_RECEIVE: the body's first bytes came with it; the caller asks for the socket."""
        with self._lock:
            self._receiving[stream] = _Upload(stream, length, start)

    def lend(self, stream: int, client: socket.socket) -> bool:
        """The socket to receive the rest from; False when no body waits for it (the caller
        closes it)."""
        with self._lock:
            upload = self._receiving.get(stream)
            if upload is None or upload.client is not None:
                return False
            upload.client = client
            self._to_add.append(upload)
            self._start_thread()
        self._wake()
        return True

    def cancel(self, stream: int) -> bool:
        """HTTP_DISCONNECT or HTTP_NOT_LENT: the body is not wanted any more. A body being
        received ends with HTTP_RECEIVED (once lent); False when the stream is not one of
        these."""
        with self._lock:
            if self._held.pop(stream, None) is not None:
                return True
            upload = self._receiving.pop(stream, None)
            if upload is None:
                return False
            if upload.client is None:
                return True
            self._to_end.append(upload)
        self._wake()
        return True

    def take(self, stream: int) -> Optional[List[Buffer]]:
        """The whole body of the stream whose HTTP_REQUEST says HELD, in the pieces it came in;
        None when none is held."""
        with self._lock:
            return self._held.pop(stream, None)

    def _start_thread(self) -> None:
        """Under the lock."""
        if self._wake_pair is None:
            self._wake_pair = socket.socketpair()
            self._wake_pair[1].setblocking(False)
            threading.Thread(target=self._run, args=(self._wake_pair[0],), name="bicorn-uploads",
                             daemon=True).start()

    def _wake(self) -> None:
        assert self._wake_pair is not None
        try:
            self._wake_pair[1].send(b"\0")
        except (BlockingIOError, InterruptedError):
            pass  # A wake is pending already.

    def _run(self, wake: socket.socket) -> None:
        try:
            self._serve(wake)
        except ConnectionLost:
            return  # The worker is gone, and this process exits with it.

    def _serve(self, wake: socket.socket) -> None:
        selector = selectors.DefaultSelector()
        selector.register(wake, selectors.EVENT_READ)
        next_report = time.monotonic() + REPORT_S
        while True:
            # With no socket to wait on but the wake pair, nothing is due until it wakes.
            receiving = len(selector.get_map()) > 1
            timeout = max(0.0, next_report - time.monotonic()) if receiving else None
            for key, _ in selector.select(timeout):
                if key.fileobj is wake:
                    self._take_work(selector, wake)
                else:
                    self._receive(selector, key.data)
            if time.monotonic() >= next_report:
                next_report = time.monotonic() + REPORT_S
                self._report(selector)

    def _take_work(self, selector: selectors.BaseSelector, wake: socket.socket) -> None:
        try:
            wake.recv(4096)
        except (BlockingIOError, InterruptedError):
            pass
        with self._lock:
            to_add, self._to_add = self._to_add, []
            to_end, self._to_end = self._to_end, []
        for upload in to_add:
            assert upload.client is not None
            selector.register(upload.client, selectors.EVENT_READ, upload)
        for upload in to_end:
            self._end(selector, upload)

    def _receive(self, selector: selectors.BaseSelector, upload: _Upload) -> None:
        assert upload.client is not None
        try:
            data = upload.client.recv(min(READ_MAX, upload.length - upload.received))
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            # The client left (or broke the connection) before its whole body.
            self._drop(selector, upload)
            return
        upload.chunks.append(data)
        upload.received += len(data)
        if upload.received == upload.length:
            with self._lock:
                # HTTP_DISCONNECT may have come meanwhile: then the body is not wanted.
                wanted = self._receiving.pop(upload.stream, None) is upload
                if wanted:
                    self._held[upload.stream] = upload.chunks
            self._end(selector, upload)

    def _drop(self, selector: selectors.BaseSelector, upload: _Upload) -> None:
        with self._lock:
            if self._receiving.get(upload.stream) is upload:
                del self._receiving[upload.stream]
        self._end(selector, upload)

    def _end(self, selector: selectors.BaseSelector, upload: _Upload) -> None:
        """Closes the upload's socket and tells the worker, once."""
        client = upload.client
        if client is None or client.fileno() < 0:
            return
        selector.unregister(client)
        client.close()
        self._send(HttpReceived(upload.stream, False, upload.received - upload.reported))
        upload.reported = upload.received

    def _report(self, selector: selectors.BaseSelector) -> None:
        for key in list(selector.get_map().values()):
            upload = key.data
            if upload is not None and upload.received > upload.reported:
                self._send(HttpReceived(upload.stream, True, upload.received - upload.reported))
                upload.reported = upload.received
