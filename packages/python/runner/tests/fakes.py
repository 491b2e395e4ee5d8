# Test doubles for the runner's unit tests: a connection that records frames, and request builders.
from __future__ import annotations

import asyncio
import concurrent.futures
import io
import threading
import unittest
from typing import Any, Callable, List, Optional

from bicorn_runner.asgi_server import AsgiServer
from bicorn_runner.frames import (Frame, FrameDecoder, Headers, HttpError, HttpRequest,
                                  HttpResponse, HttpResponseBody, WsConnect, WsMessage,
                                  encode_message, encode_response)
from bicorn_runner.streams import Stream
from bicorn_runner.websocket_stream import WebSocketStream
from bicorn_runner.wsgi_environ import base_environ
from bicorn_runner.wsgi_file_wrapper import FileWrapper
from bicorn_runner.wsgi_handler import handle

TIMEOUT = 10


class FakeConnection:
    """Records what the runner sends; a body is copied as it is sent, as a socket would."""

    # Frames are read on a thread, as for a WSGI app: requests go through submit.
    on_loop = False
    before_wait = None

    def __init__(self) -> None:
        self.frames: List[Frame] = []
        # Per send: whether its frames could be held for the next call's (Connection.send).
        self.may_wait: List[bool] = []
        self._cond = threading.Condition()

    def send(self, *frames: Frame, may_wait: bool = False) -> None:
        with self._cond:
            self.may_wait.append(may_wait)
            for frame in frames:
                if isinstance(frame, (HttpResponseBody, WsMessage)):
                    frame = frame._replace(body=bytes(frame.body))
                self.frames.append(frame)
            self._cond.notify_all()

    def send_response(self, stream: int, status: int, headers: Headers, body: bytes) -> None:
        # The frames as the worker would read them from what Connection.send_response writes.
        self.send(*FrameDecoder().feed(b"".join(encode_response(stream, status, headers, body))),
                  may_wait=True)

    def send_message(self, stream: int, text: bool, data: bytes) -> None:
        # The frame as the worker would read it from what Connection.send_message writes.
        self.send(*FrameDecoder().feed(b"".join(encode_message(stream, text, data))))

    def wait_for(self, what: str, predicate: Callable[[List[Frame]], bool]) -> None:
        with self._cond:
            if not self._cond.wait_for(lambda: predicate(self.frames), TIMEOUT):
                raise AssertionError(f"timed out waiting for {what}; frames: {self.frames!r}")

    def of_type(self, frame_type: type) -> List[Any]:
        with self._cond:
            return [frame for frame in self.frames if isinstance(frame, frame_type)]


def request(stream: int = 1, method: str = "GET", path: bytes = b"/", query: bytes = b"",
            root_path: bytes = b"", headers: Optional[list] = None, more: bool = False,
            scheme: str = "http", client: Any = ("10.0.0.7", 51000),
            server: Any = ("127.0.0.1", 8000), http_version: str = "1.1") -> HttpRequest:
    return HttpRequest(stream, more, method, scheme, http_version, path, query, root_path,
                       client, server, headers if headers is not None else [])


def base(threads: int = 1) -> dict:
    return base_environ(io.StringIO(), FileWrapper, multithread=threads > 1, multiprocess=False)


class Recorded:
    """What the runner sent on one stream, read back."""

    conn: FakeConnection

    def head(self) -> HttpResponse:
        (head,) = self.conn.of_type(HttpResponse)
        return head

    def body(self) -> bytes:
        return b"".join(bytes(f.body) for f in self.conn.of_type(HttpResponseBody))

    def completed(self) -> bool:
        bodies = self.conn.of_type(HttpResponseBody)
        return bool(bodies) and not bodies[-1].more and all(f.more for f in bodies[:-1])

    def error(self) -> Optional[str]:
        errors = self.conn.of_type(HttpError)
        return errors[0].message if errors else None


class Exchange(Recorded):
    """One stream served by the real handler on a thread, against a FakeConnection."""

    def __init__(self, app: Any, req: Optional[HttpRequest] = None, window: int = 1 << 20,
                 start: bool = True):
        self.conn = FakeConnection()
        self.ended = threading.Event()
        connection: Any = self.conn
        self.stream = Stream(req or request(), window, connection, lambda _: self.ended.set())
        self.thread = threading.Thread(target=handle, args=(app, base(), self.stream),
                                       daemon=True)
        if start:
            self.thread.start()

    def join(self) -> "Exchange":
        self.thread.join(TIMEOUT)
        if self.thread.is_alive():
            raise AssertionError(f"the app thread did not finish; frames: {self.conn.frames!r}")
        return self


def serve(app: Any, req: Optional[HttpRequest] = None, body: Optional[List[bytes]] = None,
          window: int = 1 << 20) -> Exchange:
    """Serves one request whose body arrives in the given pieces, and waits for the app."""
    exchange = Exchange(app, req, window)
    if body is not None:
        for index, piece in enumerate(body):
            exchange.stream.feed(piece, more=index < len(body) - 1)
    return exchange.join()


class AsgiExchange(Recorded):
    """One stream served by the real ASGI server's loop thread, against a FakeConnection."""

    def __init__(self, test: unittest.TestCase, app: Any, req: Optional[HttpRequest] = None,
                 window: int = 1 << 20) -> None:
        self.conn = FakeConnection()
        self.ended = threading.Event()
        connection: Any = self.conn
        self.stream = Stream(req or request(), window, connection, lambda _: self.ended.set())
        self.server = AsgiServer(app)
        self.server.start()
        # A test that failed may leave the app waiting: it is not waited for.
        test.addCleanup(self.server.destroy)
        self.server.submit(self.server.handle, self.stream)

    def join(self) -> "AsgiExchange":
        """Waits for the app's task to finish."""
        future = asyncio.run_coroutine_threadsafe(self.server.drain(), self.server.loop)
        try:
            future.result(TIMEOUT)
        except concurrent.futures.TimeoutError:
            raise AssertionError(f"the app's task did not finish; frames: "
                                 f"{self.conn.frames!r}") from None
        return self


def serve_asgi(test: unittest.TestCase, app: Any, req: Optional[HttpRequest] = None,
               body: Optional[List[bytes]] = None, window: int = 1 << 20) -> AsgiExchange:
    """Serves one request whose body arrives in the given pieces, and waits for the app."""
    exchange = AsgiExchange(test, app, req, window)
    if body is not None:
        for index, piece in enumerate(body):
            exchange.stream.feed(piece, more=index < len(body) - 1)
    return exchange.join()


def ws_connect(stream: int = 9, path: bytes = b"/ws", headers: Optional[list] = None) -> WsConnect:
    return WsConnect(stream, "GET", "ws", "1.1", path, b"", b"", ("10.0.0.7", 51000),
                     ("127.0.0.1", 8000), headers if headers is not None else [])


class WebSocketExchange:
    """One WebSocket stream served by the real ASGI server's loop thread, against a
    FakeConnection; the test plays the worker through self.stream."""

    def __init__(self, test: unittest.TestCase, app: Any, connect: Optional[WsConnect] = None,
                 window: int = 1 << 20, lending: Any = None) -> None:
        self.conn = FakeConnection()
        self.ended = threading.Event()
        connection: Any = self.conn
        self.stream = WebSocketStream(connect or ws_connect(), window, connection,
                                      lambda _: self.ended.set())
        self.server = AsgiServer(app)
        # The WebSocketSettings of a runner the worker lends sockets to.
        self.server.websocket_lending = lending
        self.server.start()
        test.addCleanup(self.server.destroy)
        self.server.submit(self.server.handle_websocket, self.stream)

    def join(self) -> "WebSocketExchange":
        """Waits for the app's task to finish."""
        future = asyncio.run_coroutine_threadsafe(self.server.drain(), self.server.loop)
        try:
            future.result(TIMEOUT)
        except concurrent.futures.TimeoutError:
            raise AssertionError(f"the app's task did not finish; frames: "
                                 f"{self.conn.frames!r}") from None
        return self

    def error(self) -> Optional[str]:
        errors = self.conn.of_type(HttpError)
        return errors[0].message if errors else None
