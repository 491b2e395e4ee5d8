"""The Python side of relay.mjs: answers each request id with a 13-byte body, either at once
(echo) or from an ASGI 3 hello app called in a task per request with a minimal scope (asgi),
writing what one loop turn produced in one write, as bicorn's runner does."""
import asyncio
import socket
import sys

import uvloop

HELLO = b"Hello, world!"


async def app(scope, receive, send):
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": HELLO})


class Relay(asyncio.Protocol):
    def __init__(self, asgi):
        self.asgi = asgi
        self.rest = b""
        self.out = []
        self.loop = asyncio.get_running_loop()

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        data = self.rest + data
        end = len(data) - len(data) % 4
        self.rest = data[end:]
        for at in range(0, end, 4):
            ident = data[at:at + 4]
            if self.asgi:
                self.loop.create_task(self.call(ident))
            else:
                self.answer(ident, HELLO)

    async def call(self, ident):
        async def receive():
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message):
            if message["type"] == "http.response.body":
                self.answer(ident, message["body"])

        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
                 "scheme": "http", "path": "/", "raw_path": b"/", "query_string": b"", "root_path": "",
                 "headers": [(b"host", b"localhost")], "client": None, "server": None}
        await app(scope, receive, send)

    def answer(self, ident, body):
        if not self.out:
            self.loop.call_soon(self.flush)
        self.out.append(ident + body)

    def flush(self):
        out, self.out = self.out, []
        self.transport.write(b"".join(out))


async def main(asgi):
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    await loop.connect_accepted_socket(lambda: Relay(asgi), sock=socket.socket(fileno=3))
    await done


uvloop.run(main(sys.argv[1] == "asgi"))
