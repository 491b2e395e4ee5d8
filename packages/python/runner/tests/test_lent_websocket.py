# Tests of a WebSocket the runner runs on a lent socket (lent_websocket.py), over a socket pair
# whose other end plays the client with raw frames: messages both ways, pings, the closing
# handshake from either side, breaches, keepalive, and sends that wait for a client that does
# not read.
from __future__ import annotations

import asyncio
import socket
import struct
import unittest
from typing import Any, Awaitable, Callable, List, Tuple

from bicorn_runner.frames import HttpBorrow, HttpReturned, WsAccept, WsClose
from bicorn_runner.lent_websocket import LentWebSocket, WebSocketSettings
from bicorn_runner.websocket_wire import BINARY, CLOSE, PING, PONG, TEXT

from .fakes import WebSocketExchange, ws_connect
from .test_websocket_wire import client_frame

SETTINGS = WebSocketSettings(max_size=1 << 20, ping_interval=0, ping_timeout=0, window=1 << 16)


class Client:
    """The client's end: writes masked frames, reads the server's unmasked ones."""

    def __init__(self, sock: socket.socket, loop: asyncio.AbstractEventLoop) -> None:
        self.sock = sock
        self.loop = loop
        self.rest = b""

    async def send(self, data: bytes) -> None:
        await self.loop.sock_sendall(self.sock, data)

    async def frame(self) -> Tuple[int, bytes]:
        """The next frame as (opcode, payload); (-1, b'') at the end of the stream."""
        while True:
            if len(self.rest) >= 2:
                n = self.rest[1] & 0x7F
                at = 2
                if n == 126:
                    n, at = struct.unpack_from(">H", self.rest, 2)[0], 4
                elif n == 127:
                    n, at = struct.unpack_from(">Q", self.rest, 2)[0], 10
                if len(self.rest) >= at + n:
                    opcode, payload = self.rest[0] & 0x0F, self.rest[at:at + n]
                    self.rest = self.rest[at + n:]
                    return opcode, payload
            data = await asyncio.wait_for(self.loop.sock_recv(self.sock, 1 << 20), 5)
            if not data:
                return -1, b""
            self.rest += data


def run(test: Callable[[LentWebSocket, Client, List[Tuple[int, str]]], Awaitable[None]],
        settings: WebSocketSettings = SETTINGS) -> List[Tuple[int, str]]:
    """Runs test with a connection on one end of a socket pair and the client on the other;
    returns what on_over was called with."""
    overs: List[Tuple[int, str]] = []

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server, client = socket.socketpair()
        client.setblocking(False)
        try:
            lent = await LentWebSocket.start(loop, server, settings,
                                             lambda code, reason, _: overs.append((code, reason)))
            await asyncio.wait_for(test(lent, Client(client, loop), overs), 10)
        finally:
            client.close()

    asyncio.run(main())
    return overs


async def until(check: Callable[[], Any]) -> None:
    while not check():
        await asyncio.sleep(0.01)


class LentWebSocketTest(unittest.TestCase):
    def test_receives_and_sends_messages_and_answers_pings(self) -> None:
        async def test(lent: LentWebSocket, client: Client, overs: list) -> None:
            await client.send(client_frame(TEXT, "héllo".encode()) + client_frame(BINARY, b"\0\1"))
            self.assertEqual(await lent.receive(), {"type": "websocket.receive", "text": "héllo"})
            self.assertEqual(await lent.receive(), {"type": "websocket.receive", "bytes": b"\0\1"})
            self.assertIsNone(lent.send("ok ✓".encode(), True))
            self.assertEqual(await client.frame(), (TEXT, "ok ✓".encode()))
            lent.send(b"\xff", False)
            self.assertEqual(await client.frame(), (BINARY, b"\xff"))
            await client.send(client_frame(PING, b"are you there"))
            self.assertEqual(await client.frame(), (PONG, b"are you there"))
            self.assertEqual(overs, [])
            # Every byte written counts, frame heads included: 2 + 6, 2 + 1, 2 + 13.
            self.assertEqual(lent.written, 26)
        run(test)

    def test_answers_the_clients_close_and_tells_the_app_its_code_after_the_messages_before_it(self) -> None:
        async def test(lent: LentWebSocket, client: Client, overs: list) -> None:
            close = struct.pack(">H", 4001) + b"bye"
            await client.send(client_frame(TEXT, b"last") + client_frame(CLOSE, close))
            self.assertEqual(await client.frame(), (CLOSE, close))
            self.assertEqual(await client.frame(), (-1, b""))
            self.assertEqual((await lent.receive())["text"], "last")
            self.assertEqual(await lent.receive(),
                             {"type": "websocket.disconnect", "code": 4001, "reason": "bye"})
            await until(lambda: overs)
            self.assertFalse(lent.open)
        self.assertEqual(run(test), [(4001, "bye")])

    def test_closes_for_the_app_and_ends_the_connection_on_the_clients_answer(self) -> None:
        async def test(lent: LentWebSocket, client: Client, overs: list) -> None:
            lent.close(4000, "done")
            self.assertFalse(lent.open)
            self.assertEqual(await client.frame(), (CLOSE, struct.pack(">H", 4000) + b"done"))
            await client.send(client_frame(CLOSE, struct.pack(">H", 4000)))
            self.assertEqual(await client.frame(), (-1, b""))
            self.assertEqual((await lent.receive())["code"], 4000)
        self.assertEqual(run(test), [(4000, "")])

    def test_closes_with_the_breachs_code_and_tells_the_app(self) -> None:
        async def test(lent: LentWebSocket, client: Client, overs: list) -> None:
            await client.send(client_frame(TEXT, b"\xc3\x28"))
            opcode, payload = await client.frame()
            self.assertEqual((opcode, payload[:2]), (CLOSE, struct.pack(">H", 1007)))
            self.assertEqual((await lent.receive())["code"], 1007)
        self.assertEqual(run(test), [(1007, "")])

    def test_closes_with_1009_for_a_message_over_the_limit(self) -> None:
        async def test(lent: LentWebSocket, client: Client, overs: list) -> None:
            await client.send(client_frame(BINARY, b"x" * 101))
            opcode, payload = await client.frame()
            self.assertEqual((opcode, payload[:2]), (CLOSE, struct.pack(">H", 1009)))
        self.assertEqual(run(test, SETTINGS._replace(max_size=100)), [(1009, "")])

    def test_tells_the_app_1006_when_the_client_vanishes(self) -> None:
        async def test(lent: LentWebSocket, client: Client, overs: list) -> None:
            client.sock.close()
            self.assertEqual((await lent.receive())["code"], 1006)
            # The connection is over: nothing is open to send on.
            self.assertFalse(lent.open)
        self.assertEqual(run(test), [(1006, "")])

    def test_pings_and_drops_a_client_that_does_not_answer(self) -> None:
        async def test(lent: LentWebSocket, client: Client, overs: list) -> None:
            self.assertEqual(await client.frame(), (PING, b""))
            await client.send(client_frame(PONG, b""))
            self.assertEqual(await client.frame(), (PING, b""))
            # No pong this time: the connection is cut.
            self.assertEqual(await client.frame(), (-1, b""))
            self.assertEqual((await lent.receive())["code"], 1006)
        settings = SETTINGS._replace(ping_interval=0.05, ping_timeout=0.1)
        self.assertEqual(run(test, settings), [(1006, "")])

    def test_makes_a_send_wait_while_the_window_waits_for_a_client_that_does_not_read(self) -> None:
        async def test(lent: LentWebSocket, client: Client, overs: list) -> None:
            waiting = None
            sent = 0
            while waiting is None:
                waiting = lent.send(b"x" * 4096, False)
                sent += 1
            self.assertFalse(waiting.done())
            received = 0
            while received < sent:
                opcode, _ = await client.frame()
                self.assertEqual(opcode, BINARY)
                received += 1
                if waiting.done():
                    break
            await asyncio.wait_for(waiting, 5)
        run(test, SETTINGS._replace(window=8192))


class LoanTest(unittest.TestCase):
    """WebSocketCall asking for the socket with its accept, against a stand-in worker."""

    def test_runs_on_the_socket_lent_and_takes_a_close_that_overtook_the_loan(self) -> None:
        seen = []

        async def app(scope, receive, send):
            await receive()
            await send({"type": "websocket.accept"})
            seen.append(await receive())

        exchange = WebSocketExchange(self, app, ws_connect()._replace(lendable=True),
                                     lending=SETTINGS)
        exchange.conn.wait_for("the accept", lambda frames: any(
            isinstance(f, WsAccept) for f in frames))
        frames = exchange.conn.frames
        self.assertEqual([type(f) for f in frames], [HttpBorrow, WsAccept])
        server, client = socket.socketpair()
        with client:
            loop = exchange.server.loop
            # The worker drains before the runner has read the loan: the close waits for it.
            loop.call_soon_threadsafe(exchange.stream.close, 1001, "server shutting down")
            loop.call_soon_threadsafe(exchange.stream.lend, server)
            client.settimeout(5)
            close = client.recv(64)
            self.assertEqual(close[:4], bytes((0x88, 22)) + struct.pack(">H", 1001))
            client.sendall(client_frame(CLOSE, struct.pack(">H", 1001)))
            exchange.join()
        self.assertEqual(seen, [{"type": "websocket.disconnect", "code": 1001, "reason": ""}])
        exchange.conn.wait_for("the end", lambda frames: any(
            isinstance(f, WsClose) for f in frames))
        self.assertEqual(exchange.conn.of_type(WsClose), [WsClose(9, 1001, "")])
        # The close frame written (its head, the code and the reason) goes before, for the
        # worker's access line.
        self.assertEqual(exchange.conn.of_type(HttpReturned), [HttpReturned(9, 24)])


if __name__ == "__main__":
    unittest.main()
