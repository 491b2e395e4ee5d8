"""The Python side of direct.mjs: each client socket lent on fd 4 (its descriptor, with the
request's id as a u32) gets 10 MiB of response body written to it, in the bench app's 1 MiB
chunks, from a task of a uvloop event loop; then the socket is closed here and the id goes back
on fd 3."""
import asyncio
import socket

import uvloop

BODY = [b"x" * (1024 * 1024) for _ in range(10)]


async def main() -> None:
    loop = asyncio.get_running_loop()
    done = socket.socket(fileno=3)
    done.setblocking(False)
    lent = socket.socket(fileno=4)
    lent.setblocking(False)
    stopped = loop.create_future()
    # The loop holds tasks weakly.
    running = set()

    async def respond(client: socket.socket, ident: bytes) -> None:
        with client:
            try:
                for chunk in BODY:
                    await loop.sock_sendall(client, chunk)
            except ConnectionError:
                pass  # The client left (wrk ends its run mid-response): the server cleans up.
        await loop.sock_sendall(done, ident)

    def take() -> None:
        while True:
            try:
                ident, fds, _, _ = socket.recv_fds(lent, 4, 1)
            except BlockingIOError:
                return
            if not ident:
                stopped.set_result(None)
                loop.remove_reader(lent.fileno())
                return
            client = socket.socket(fileno=fds[0])
            client.setblocking(False)
            task = loop.create_task(respond(client, ident))
            running.add(task)
            task.add_done_callback(running.discard)

    loop.add_reader(lent.fileno(), take)
    await stopped


if __name__ == "__main__":
    uvloop.install()
    asyncio.run(main())
