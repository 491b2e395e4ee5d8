"""The Python side of ws_relay.mjs: echoes each record (u32 id, u32 length, the message) as it
comes, writing what one loop turn produced in one write, as bicorn's runner does."""
import asyncio
import socket
import struct

import uvloop

_HEAD = struct.Struct("<II")


class Echo(asyncio.Protocol):
    def __init__(self) -> None:
        self.rest = b""
        self.out = []
        self.loop = asyncio.get_running_loop()

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        data = self.rest + data
        at = 0
        while at + 8 <= len(data):
            _, length = _HEAD.unpack_from(data, at)
            end = at + 8 + length
            if end > len(data):
                break
            if not self.out:
                self.loop.call_soon(self.flush)
            self.out.append(data[at:end])
            at = end
        self.rest = data[at:]

    def flush(self) -> None:
        out, self.out = self.out, []
        self.transport.write(b"".join(out))

    def connection_lost(self, exc) -> None:
        self.loop.stop()


async def main() -> None:
    loop = asyncio.get_running_loop()
    await loop.connect_accepted_socket(Echo, sock=socket.socket(fileno=3))
    await loop.create_future()


uvloop.run(main())
