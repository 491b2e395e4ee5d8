# One WSGI call's response: start_response, write() and the body, as frames (runner process).
from __future__ import annotations

from typing import Any, Callable, Optional

from .frames import Headers, HttpResponse
from .socket_loans import BORROW_FROM
from .streams import Stream, StreamGone
from .wsgi_file_wrapper import FileWrapper
from .wsgi_headers import declared_length, encode_headers, parse_status

BLOCK_SIZE = 256 * 1024
# A list response of bytes up to this size is sent as one body.
JOIN_LIST_UP_TO = 64 * 1024


class Response:
    """Headers wait for the first non-empty body bytes, or for the end, so that exc_info can
    still replace them until then and a small response leaves in one write."""

    def __init__(self, stream: Stream) -> None:
        self._stream = stream
        self._status: Optional[int] = None
        self._headers: Headers = []
        self.head_sent = False
        # Body bytes the Content-Length still allows (-1: none declared), once a part went out.
        self._left: Optional[int] = None
        # Whether large parts borrow the client's socket: the worker may lend it, and nothing
        # showed since that it would not (no Content-Length, a refusal, a slow client).
        self._borrows = stream.may_borrow
        # Body bytes sent so far, which a lent socket's writes keep within the Content-Length.
        self._sent = 0

    def start_response(self, status: Any, headers: Any,
                       exc_info: Any = None) -> Callable[[Any], None]:
        if exc_info is not None:
            try:
                if self.head_sent:
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None
        elif self._status is not None:
            raise RuntimeError("start_response was called a second time without exc_info")
        code = parse_status(status)
        self._headers = encode_headers(headers)
        self._status = code
        return self.write

    def write(self, data: Any) -> None:
        self.send(data, more=True)

    def send(self, data: Any, more: bool) -> None:
        if self._status is None:
            raise RuntimeError("the app sent body bytes before calling start_response")
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"a WSGI response body chunk must be bytes, got "
                            f"{type(data).__name__}")
        if self._stream.gone:
            raise StreamGone()
        if not data and more:
            return
        # A whole response in one part, as most are: both frames at once, when the window has room.
        if not more and not self.head_sent and type(data) is bytes and \
                self._stream.try_send_response(self._status, self._headers, data):
            self.head_sent = True
            return
        head = None
        if not self.head_sent:
            head = HttpResponse(self._stream.id, self._status, self._headers)
            self.head_sent = True
        ends = not more or self._reaches_length(len(data))
        size = len(data)
        if self._borrows and size >= BORROW_FROM:
            room = declared_length(self._headers) - self._sent
            if room >= BORROW_FROM:
                data = self._write_borrowed(data, head, room)
                head = None
            else:
                self._borrows = False
        self._sent += size
        if not data and more:
            return
        self._stream.send_body(data, more, ends, head)

    def _write_borrowed(self, data: Any, head: Optional[HttpResponse], room: int) -> Any:
        """Writes what it can of data, up to room (what the Content-Length still allows: the
        worker cuts a response for more, and no byte past it may reach the client's next
        response), to the client's socket borrowed from the worker, after head; returns the
        rest, for frames (Stream.write_borrowed)."""
        view = memoryview(data).cast("B")
        written = self._stream.write_borrowed(view[:room], head)
        if written < len(view):
            self._borrows = False
        return view[written:]

    def _reaches_length(self, size: int) -> bool:
        """Whether a part of size bytes brings the body to its Content-Length: the response is
        whole for the client then (the worker ends it there when it is the first part), before
        the iterator's end is known."""
        if self._left is None:
            self._left = declared_length(self._headers)
        if self._left < 0:
            return False
        self._left -= size
        return self._left == 0

    def finish(self) -> None:
        if self._status is None:
            raise RuntimeError("the app returned without calling start_response")
        self.send(b"", more=False)


# Iterators over a list or a tuple: their __length_hint__ is the number of items left.
_SEQUENCE_ITERATORS = (type(iter([])), type(iter(())))


def send_result(result: Any, response: Response) -> None:
    """Sends the app's iterable to its end. A list's last item goes out as the final frame, so
    the common one-item response costs two frames in one write (a small list of bytes is
    joined into one item first); so does the last item of an iterable that hands out a list's
    or tuple's items (Django's HttpResponse), whose iterator says how many are left. Any other
    iterable's end is known only once it has ended."""
    if isinstance(result, FileWrapper) and hasattr(result.filelike, "readinto"):
        _send_file(result.filelike, response)
    elif isinstance(result, (list, tuple)) and result:
        if len(result) > 1 and _small_bytes(result):
            # One body, so that the response ends in the send that starts it: an end may wait
            # for the next call's answer (Connection.hold_writes), a part does not.
            response.send(b"".join(result), more=False)
            return
        last = len(result) - 1
        for index, chunk in enumerate(result):
            response.send(chunk, more=index < last)
    else:
        chunks = iter(result)
        counted = type(chunks) in _SEQUENCE_ITERATORS
        for chunk in chunks:
            if counted and not chunks.__length_hint__():
                response.send(chunk, more=False)
                return
            response.send(chunk, more=True)
        response.finish()


def _small_bytes(items: Any) -> bool:
    """Every item is bytes, and all together are small enough to copy into one."""
    size = 0
    for item in items:
        if type(item) is not bytes:
            return False
        size += len(item)
    return size <= JOIN_LIST_UP_TO


def _send_file(filelike: Any, response: Response) -> None:
    # One buffer for the whole file: send() has written a block before it returns.
    buffer = bytearray(BLOCK_SIZE)
    view = memoryview(buffer)
    while True:
        n = filelike.readinto(buffer)
        if not n:
            break
        response.send(view[:n], more=True)
    response.finish()
