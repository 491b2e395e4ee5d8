# A WebSocket the runner runs on the client's socket, lent by the worker once the handshake is
# done (../../../protocol/frames/SPEC.md, "A WebSocket on the client's socket"): the app's
# receive() and send() meet the client's frames here, with no frame of the worker's between.
# What the worker's gateway does for a relayed WebSocket is done here alike: the checks of the
# client's frames, pings both ways, the closing handshake, and a window of waiting messages each
# way. On the ASGI app's event loop only; runner process.
from __future__ import annotations

import asyncio
import logging
import socket
from collections import deque
from typing import Any, Callable, Deque, Dict, NamedTuple, Optional, Tuple, cast

from .log_pipe import runner_says
from .websocket_wire import (BINARY, CLOSE, PING, PONG, TEXT, Control, FrameReader, Message,
                             WireError, close_frame, close_of, frame)

# What the app is told when the connection ended with no close frame (RFC 6455 7.1.5).
NO_CLOSE_FRAME = 1006
# How long a close frame sent waits for the client's before the connection is cut.
CLOSE_TIMEOUT_S = 10.0


class WebSocketSettings(NamedTuple):
    max_size: int
    # Seconds; 0: none.
    ping_interval: float
    ping_timeout: float
    # Bytes of messages waiting for the app (or for the client) before reading (or send()) waits.
    window: int


class LentWebSocket(asyncio.Protocol):
    """Made by start(); on_over(code, reason, written) is called once, when the connection is
    closed, with what the app is (or would be) told and the bytes written to the client."""

    def __init__(self, loop: asyncio.AbstractEventLoop, settings: WebSocketSettings,
                 on_over: Callable[[int, str, int], None]) -> None:
        self._loop = loop
        self._settings = settings
        self._on_over = on_over
        self._reader = FrameReader(settings.max_size)
        self._transport: Optional[asyncio.Transport] = None
        self._messages: Deque[Message] = deque()
        self._waiting_bytes = 0
        self._reading_paused = False
        self._writing_paused = False
        # receive() waiting for a message or the end; a send() waiting for the client to read.
        self._receiver: Optional["asyncio.Future[None]"] = None
        self._drain: Optional["asyncio.Future[None]"] = None
        self._close_sent = False
        # The close code and reason the app is told, once known; then no message comes.
        self._told: Optional[Tuple[int, str]] = None
        self._over = False
        # The bytes written to the socket, for the worker's access line.
        self.written = 0
        self._ping_timer: Optional[asyncio.TimerHandle] = None
        self._pong_timer: Optional[asyncio.TimerHandle] = None
        self._close_timer: Optional[asyncio.TimerHandle] = None

    @classmethod
    async def start(cls, loop: asyncio.AbstractEventLoop, client: socket.socket,
                    settings: WebSocketSettings,
                    on_over: Callable[[int, str, int], None]) -> "LentWebSocket":
        connection = cls(loop, settings, on_over)
        await loop.connect_accepted_socket(lambda: connection, sock=client)
        return connection

    # The app's side.

    async def receive(self) -> Dict[str, Any]:
        while not self._messages:
            if self._told is not None:
                code, reason = self._told
                return {"type": "websocket.disconnect", "code": code, "reason": reason}
            self._receiver = self._loop.create_future()
            await self._receiver
        data = self._messages.popleft().data
        self._waiting_bytes -= len(data)
        if self._reading_paused and self._waiting_bytes <= self._settings.window:
            self._reading_paused = False
            if self._transport is not None and not self._over:
                self._transport.resume_reading()
        if type(data) is str:
            return {"type": "websocket.receive", "text": data}
        return {"type": "websocket.receive", "bytes": data}

    @property
    def open(self) -> bool:
        """Whether a message may still be sent: the connection is up and no close was sent."""
        return not self._over and not self._close_sent

    def send(self, data: bytes, text: bool) -> Optional["asyncio.Future[None]"]:
        """Writes a message; a future to await while more than the window waits for the client.
        Call only while open."""
        assert self._transport is not None
        wire = frame(TEXT if text else BINARY, data)
        self.written += len(wire)
        self._transport.write(wire)
        if not self._writing_paused:
            return None
        if self._drain is None:
            self._drain = self._loop.create_future()
        return self._drain

    def close(self, code: int, reason: str = "") -> None:
        """Starts the closing handshake (an app's close, its return or failure, the worker's
        drain); nothing once a close was sent or the connection is over."""
        if not self.open:
            return
        self._send_close(code, reason)
        self._close_timer = self._loop.call_later(CLOSE_TIMEOUT_S, self._abort)

    # asyncio.Protocol.

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio's classes, only like them.
        transport = cast(asyncio.Transport, transport)
        self._transport = transport
        transport.set_write_buffer_limits(high=self._settings.window)
        self._schedule_ping()

    def data_received(self, data: bytes) -> None:
        if self._told is not None:
            return  # After the client's close (or a breach) nothing it sends counts.
        try:
            events = self._reader.feed(data)
        except WireError as error:
            self._fail(error)
            return
        for event in events:
            if type(event) is Message:
                self._messages.append(event)
                self._waiting_bytes += len(event.data)
            elif not self._on_control(event):
                break
        self._wake_receiver()
        if self._waiting_bytes > self._settings.window and not self._reading_paused \
                and self._transport is not None and not self._over:
            self._reading_paused = True
            self._transport.pause_reading()
            runner_says(logging.DEBUG, f"WebSocket receive window full ({self._settings.window} "
                                       f"bytes): reading paused until the app takes its messages")

    def pause_writing(self) -> None:
        self._writing_paused = True

    def resume_writing(self) -> None:
        self._writing_paused = False
        self._settle_drain()

    def connection_lost(self, exc: Optional[BaseException]) -> None:
        self._over = True
        if self._told is None:
            self._told = (NO_CLOSE_FRAME, "")
        for timer in (self._ping_timer, self._pong_timer, self._close_timer):
            if timer is not None:
                timer.cancel()
        self._wake_receiver()
        self._settle_drain()
        self._on_over(*self._told, self.written)

    # Frames.

    def _on_control(self, event: Control) -> bool:
        """Answers a control frame; False once the client's close ended the reading."""
        if event.opcode == PING:
            if not self._close_sent:
                self._write(frame(PONG, event.payload))
        elif event.opcode == PONG:
            if self._pong_timer is not None:
                self._pong_timer.cancel()
                self._pong_timer = None
        elif event.opcode == CLOSE:
            try:
                code, reason = close_of(event.payload)
            except WireError as error:
                self._fail(error)
                return False
            self._told = (code, reason)
            if not self._close_sent:
                # The client began the closing handshake: its close goes back (RFC 6455 5.5.1),
                # code and reason, as ws answers it.
                self._send_close(code, reason)
            assert self._transport is not None
            self._transport.close()
            return False
        return True

    def _fail(self, error: WireError) -> None:
        """The client broke the protocol: the close says why, and the connection ends."""
        self._told = (error.code, "")
        if not self._close_sent:
            self._send_close(error.code, error.reason)
        assert self._transport is not None
        self._transport.close()
        self._wake_receiver()

    def _send_close(self, code: int, reason: str) -> None:
        self._close_sent = True
        self._write(close_frame(code, reason))
        # A send() waiting for the client would wait for a connection that takes no message.
        self._settle_drain()

    def _write(self, data: bytes) -> None:
        if self._transport is not None and not self._over:
            self.written += len(data)
            self._transport.write(data)

    # Pings: one at a time, a pong due within ping_timeout (ws's rule, as the worker's gateway).

    def _schedule_ping(self) -> None:
        if self._settings.ping_interval > 0:
            self._ping_timer = self._loop.call_later(self._settings.ping_interval, self._ping)

    def _ping(self) -> None:
        if not self.open:
            return
        if self._pong_timer is None:
            self._write(frame(PING, b""))
            if self._settings.ping_timeout > 0:
                self._pong_timer = self._loop.call_later(self._settings.ping_timeout,
                                                         self._abort)
        self._schedule_ping()

    def _abort(self) -> None:
        """No pong, or no close frame back, in time: the connection is cut (the app is told 1006
        unless a close came)."""
        if self._transport is not None and not self._over:
            self._transport.abort()

    def _wake_receiver(self) -> None:
        receiver, self._receiver = self._receiver, None
        if receiver is not None and not receiver.done():
            receiver.set_result(None)

    def _settle_drain(self) -> None:
        drain, self._drain = self._drain, None
        if drain is not None and not drain.done():
            drain.set_result(None)
