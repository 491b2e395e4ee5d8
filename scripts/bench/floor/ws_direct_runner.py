"""The Python side of ws_direct.mjs: each client socket lent on fd 3 becomes a uvloop transport
whose protocol reads the client's frames (RFC 6455: masked, a length of 7, 16 or 64 bits),
unmasks them and echoes each data frame back unmasked; a close frame is answered and the
connection closed, a ping answered with a pong. Enough for the bench's echo, not a server: no
fragmentation, UTF-8 or size checks."""
import asyncio
import socket
import struct

import uvloop

_U16 = struct.Struct(">H")
_U64 = struct.Struct(">Q")


def unmask(mask: bytes, payload: bytes) -> bytes:
    n = len(payload)
    key = (mask * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(key, "big")).to_bytes(n, "big")


def frame(opcode: int, payload: bytes) -> bytes:
    n = len(payload)
    if n < 126:
        return bytes((0x80 | opcode, n)) + payload
    if n < 65536:
        return bytes((0x80 | opcode, 126)) + _U16.pack(n) + payload
    return bytes((0x80 | opcode, 127)) + _U64.pack(n) + payload


class Echo(asyncio.Protocol):
    def __init__(self) -> None:
        self.rest = b""

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        data = self.rest + data if self.rest else data
        at = 0
        size = len(data)
        out = []
        while at + 6 <= size:
            opcode = data[at] & 0x0F
            length = data[at + 1] & 0x7F
            head = at + 2
            if length == 126:
                length = _U16.unpack_from(data, head)[0]
                head += 2
            elif length == 127:
                length = _U64.unpack_from(data, head)[0]
                head += 8
            end = head + 4 + length
            if end > size:
                break
            payload = unmask(data[head:head + 4], data[head + 4:end])
            at = end
            if opcode == 8:
                self.transport.write(b"".join(out) + frame(8, payload[:2]))
                self.transport.close()
                return
            out.append(frame(10 if opcode == 9 else opcode, payload))
        self.rest = data[at:]
        if out:
            self.transport.write(out[0] if len(out) == 1 else b"".join(out))


async def main() -> None:
    loop = asyncio.get_running_loop()
    lent = socket.socket(fileno=3)
    lent.setblocking(False)
    stopped = loop.create_future()
    running = set()

    def take() -> None:
        while True:
            try:
                _, fds, _, _ = socket.recv_fds(lent, 1, 1)
            except BlockingIOError:
                return
            if not fds:
                loop.remove_reader(lent.fileno())
                stopped.set_result(None)
                return
            client = socket.socket(fileno=fds[0])
            client.setblocking(False)
            task = loop.create_task(loop.connect_accepted_socket(Echo, sock=client))
            running.add(task)
            task.add_done_callback(running.discard)

    loop.add_reader(lent.fileno(), take)
    await stopped


uvloop.run(main())
