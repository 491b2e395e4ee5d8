# One ASGI WebSocket connection, as a task on the runner's event loop: receive() and send() over
# a stream's WebSocket frames, and what the worker is told when the app fails (runner process).
from __future__ import annotations

import asyncio
from typing import Any, Dict, List, Optional

from .app_traceback import format_app_exception
from .asgi_call import AsgiApp, ClientDisconnected, send_late_error
from .asgi_events import EventOrderError
from .asgi_scope import build_websocket_scope
from .asgi_waiter import StreamWaiter
from .asgi_websocket_events import (CONNECTING, DENYING, FAILED, OPEN, Accept, Close,
                                    DenialBody, DenialStart, Send, WebSocketEvent, advance,
                                    parse_websocket_event)
from .connection import ConnectionLost
from .frames import Buffer, Frame, HttpResponse, HttpResponseBody, WsAccept, WsClose, WsMessage
from .lent_websocket import LentWebSocket, WebSocketSettings
from .streams import StreamGone
from .websocket_stream import WebSocketStream

# What the app is told when the connection never opened (closed before accept, or denied) and
# the worker has not said more: no close frame was exchanged (RFC 6455 7.1.5).
NO_CLOSE_FRAME = 1006


class WebSocketCall:
    """Created on the loop's thread; frames (on the reader thread, or the loop once it reads
    them) wake it through its StreamWaiter."""

    def __init__(self, stream: WebSocketStream, loop: asyncio.AbstractEventLoop,
                 state: Dict[str, Any], lending: Optional[WebSocketSettings] = None) -> None:
        self._stream = stream
        self._loop = loop
        # How to run the connection on the client's socket, when the worker offers it.
        self._lending = lending if stream.connect.lendable else None
        self._lent: Optional[LentWebSocket] = None
        self._scope = build_websocket_scope(stream.connect, state)
        self._waiter = StreamWaiter(stream, loop)
        # One event goes out at a time: the frames of a message waiting for window must not
        # interleave with another task's message or close.
        self._sending = asyncio.Lock()
        self._phase = CONNECTING
        self._connect_received = False
        self._accepted = False
        self._denial_head: Optional[HttpResponse] = None
        # The runner sent its last frame (WS_CLOSE, the denial's last body, or HTTP_ERROR).
        self._ended = False
        self._violation: Optional[EventOrderError] = None

    async def run(self, app: AsgiApp) -> None:
        try:
            await app(self._scope, self.receive, self.send)
        except (ClientDisconnected, StreamGone, ConnectionLost) as error:
            # The client left; the same error raised by the app on its own is still its failure.
            if not self._stream.gone:
                self._report(format_app_exception(error))
        # Whatever the app raises fails its connection alone: SystemExit must not stop the loop.
        except BaseException as error:
            self._report(format_app_exception(error))
        else:
            await self._after_return()
        finally:
            self._stream.finish()

    async def receive(self) -> Dict[str, Any]:
        if not self._connect_received:
            self._connect_received = True
            return {"type": "websocket.connect"}
        if self._lent is not None:
            return await self._lent.receive()
        message = None

        def ready() -> bool:
            nonlocal message
            if self._lent is not None:
                return True
            message = self._stream.take_message()
            return message is not None or self._disconnected()

        await self._waiter.until(ready)
        if self._lent is not None and message is None:
            # The socket was lent while this receive() waited for the relay.
            return await self._lent.receive()
        if message is not None:
            text, data = message
            if text:
                return {"type": "websocket.receive", "text": data.decode("utf-8", "replace")}
            return {"type": "websocket.receive", "bytes": data}
        code, reason = self._stream.closed() or (NO_CLOSE_FRAME, "")
        return {"type": "websocket.disconnect", "code": code, "reason": reason}

    async def send(self, message: Any) -> None:
        event = parse_websocket_event(message, self._scope["subprotocols"])
        lent = self._lent
        if lent is not None and type(event) is Send and self._phase == OPEN \
                and not self._sending.locked():
            # Each message is one write to the socket: nothing interleaves with it.
            await self._send_lent(lent, event)
            return
        # A message while open, with no other send under way and room in the window, as nearly
        # every one is: it goes at once, with nothing to wait for and nothing to interleave with.
        if type(event) is Send and self._phase == OPEN and not self._sending.locked() \
                and type(event.data) is bytes:
            try:
                if self._stream.try_send_message(event.data, event.text):
                    return
            except (StreamGone, ConnectionLost):
                raise ClientDisconnected() from None
        async with self._sending:
            if self._stream.gone:
                raise ClientDisconnected()
            try:
                self._phase = advance(self._phase, event)
            except EventOrderError as error:
                self._phase = FAILED
                if self._violation is None:
                    self._violation = error
                self._waiter.wake()
                raise
            try:
                await self._send_event(event)
            except (StreamGone, ConnectionLost):
                raise ClientDisconnected() from None

    async def _send_event(self, event: WebSocketEvent) -> None:
        stream_id = self._stream.id
        if self._lent is not None:
            # Once open on the lent socket, only messages and the close are left to send.
            if isinstance(event, Send):
                await self._send_lent(self._lent, event)
            elif isinstance(event, Close):
                self._close(event.code, event.reason)
            return
        if isinstance(event, Send):
            await self._waiter.send_in_frames(
                event.data, False, lambda piece, more: WsMessage(stream_id, more, event.text,
                                                                 piece), [])
        elif isinstance(event, Accept):
            self._accepted = True
            accept = WsAccept(stream_id, event.subprotocol or "", event.headers)
            if self._lending is None:
                self._stream.send_frames(accept)
            else:
                await self._take_socket(accept, self._lending)
        elif isinstance(event, Close):
            self._close(event.code, event.reason)
        elif isinstance(event, DenialStart):
            # As for HTTP, the head waits for the first body bytes, so that a failure before
            # them is still a clean 500.
            self._denial_head = HttpResponse(stream_id, event.status, event.headers)
        elif isinstance(event, DenialBody):
            await self._send_denial_body(event.body, event.more)

    async def _take_socket(self, accept: WsAccept, settings: WebSocketSettings) -> None:
        """Asks for the client's socket with the accept, and runs the connection on it when the
        worker lends it; else the worker relays it, as for an accept without the asking."""
        stream = self._stream
        stream.accept_on_loan(accept)
        await self._waiter.until(lambda: stream.loan_answered)
        client = stream.take_loan()
        if client is None:
            return
        try:
            lent = await LentWebSocket.start(self._loop, client, settings, stream.lent_over)
        except OSError:
            client.close()
            stream.lent_over(NO_CLOSE_FRAME, "", 0)
            raise ClientDisconnected() from None
        self._lent = lent
        stream.run_lent(lent)

    async def _send_lent(self, lent: LentWebSocket, event: Send) -> None:
        if not lent.open:
            raise ClientDisconnected()
        waiting = lent.send(event.data, event.text)
        if waiting is not None:
            await waiting

    async def _send_denial_body(self, body: Buffer, more: bool) -> None:
        head: List[Frame] = []
        if self._denial_head is not None:
            head, self._denial_head = [self._denial_head], None
        if not len(body) and more:
            if head:
                self._stream.send_frames(*head)
            return
        stream_id = self._stream.id
        await self._waiter.send_in_frames(
            body, more, lambda piece, more_: HttpResponseBody(stream_id, more_, piece), head)
        if not more:
            self._ended = True
            self._waiter.wake()

    async def _after_return(self) -> None:
        if self._violation is not None:
            # The app caught the error send() raised, and returned.
            self._report(format_app_exception(self._violation))
        elif self._stream.gone:
            return
        elif self._phase == OPEN:
            # Returning is the end of the conversation: close it normally.
            async with self._sending:
                if not self._stream.gone:
                    self._close(1000, "")
        elif self._phase == CONNECTING:
            self._report("RuntimeError: ASGI app returned without accepting, closing or "
                         "denying the WebSocket connection\n")
        elif self._phase == DENYING:
            self._report("RuntimeError: ASGI app returned before the final "
                         "websocket.http.response.body (one with more_body False)\n")

    def _close(self, code: int, reason: str) -> None:
        """The app's close: the lent connection's closing handshake, or WS_CLOSE to the worker."""
        if self._lent is None:
            self._end(WsClose(self._stream.id, code, reason))
            return
        self._ended = True
        self._lent.close(code, reason)

    def _end(self, last: Frame) -> None:
        self._ended = True
        self._stream.send_frames(last)
        self._waiter.wake()

    def _disconnected(self) -> bool:
        """Whether receive() has nothing more to wait for: the worker reported the close, or
        the connection never opened and the runner has sent its last frame (a close before
        the accept, a denial, a failure), so no close will come from the client."""
        return self._stream.gone or (self._ended and not self._accepted)

    def _report(self, message: str) -> None:
        """HTTP_ERROR: while the stream is open the worker answers 500 before the accept, and
        closes with 1011 after it; once the connection is over, it only logs the error."""
        self._phase = FAILED
        self._waiter.wake()
        if self._ended or self._stream.gone:
            send_late_error(self._stream, message)
            return
        self._ended = True
        try:
            self._stream.send_error(message)
        except ConnectionLost:
            pass
        if self._lent is not None:
            # The worker only logs the error: the server failed, says the close (RFC 6455 7.4.1).
            self._lent.close(1011, "")

