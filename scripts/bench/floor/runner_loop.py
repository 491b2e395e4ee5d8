"""The runner's ASGI request path alone, in one process: its real Connection, Dispatcher and
AsgiServer on a socket pair, with the main thread playing the worker (batches of 64 request
frames written, their answers read). Prints the CPU the event loop's thread spent per request;
--profile adds a cProfile of that thread. --websocket: 64 WebSocket connections to the echo
instead, each batch one text message on each, and the CPU per round trip. Run with the bench's
Python (uvloop, as in bicorn):
    .venv/bin/python scripts/bench/floor/runner_loop.py [--profile] [--websocket] [--batches N]"""
import argparse
import cProfile
import os
import pstats
import socket
import struct
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.normpath(os.path.join(HERE, "../../../packages/python/runner")),
                os.path.normpath(os.path.join(HERE, "../apps"))]

from asgi_hello import app  # noqa: E402
from bicorn_runner.asgi_server import AsgiServer  # noqa: E402
from bicorn_runner.connection import Connection  # noqa: E402
from bicorn_runner.dispatch import Dispatcher  # noqa: E402
from bicorn_runner.frames import (WS_ACCEPT, WS_MESSAGE, HttpRequest, WsConnect,  # noqa: E402
                                  WsMessage, encode)

BATCH = 64
FRAME_LENGTH = struct.Struct(">I")


def requests(first: int) -> bytes:
    """A batch of GET / requests as the worker frames them for wrk (one Host header)."""
    return b"".join(encode(HttpRequest(first + i, False, "GET", "http", "1.1", b"/", b"", b"",
                                       ("127.0.0.1", 40000 + i), ("127.0.0.1", 8000),
                                       [(b"host", b"127.0.0.1:8000")])) for i in range(BATCH))


def websocket_connects() -> bytes:
    """BATCH WebSocket connections to the echo at /ws, streams 1 to BATCH."""
    return b"".join(encode(WsConnect(1 + i, "GET", "http", "1.1", b"/ws", b"", b"",
                                     ("127.0.0.1", 40000 + i), ("127.0.0.1", 8000),
                                     [(b"host", b"127.0.0.1:8000")])) for i in range(BATCH))


def websocket_messages() -> bytes:
    """One text message on each of those connections."""
    return b"".join(encode(WsMessage(1 + i, False, True, b"Hello, world!")) for i in range(BATCH))


def read_frames(worker: socket.socket, pending: bytearray, frame_type: int, count: int) -> None:
    """Reads frames until count of frame_type have come (the runner's credits among them)."""
    while count > 0:
        while len(pending) >= 4:
            size = 4 + FRAME_LENGTH.unpack_from(pending)[0]
            if len(pending) < size:
                break
            if pending[4] == frame_type:
                count -= 1
            del pending[:size]
        if count > 0:
            pending += worker.recv(1 << 20)


def on_loop(server: AsgiServer, call):
    done = threading.Event()
    result = []
    server.loop.call_soon_threadsafe(lambda: (result.append(call()), done.set()))
    done.wait()
    return result[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--websocket", action="store_true")
    # A round trip costs less than a request: more of them for as many clock ticks.
    parser.add_argument("--batches", type=int, help="default 600, or 1500 with --websocket")
    options = parser.parse_args()
    ours, worker = socket.socketpair()
    connection = Connection(ours)
    dispatcher = Dispatcher(connection, 1024 * 1024)
    server = AsgiServer(app, "auto", {})
    server.start()
    dispatcher.serve(server.handle, server.submit, server.handle_websocket)
    connection.read_on_loop(server.loop, dispatcher.on_frame)
    pending = bytearray()
    if options.websocket:
        worker.sendall(websocket_connects())
        read_frames(worker, pending, WS_ACCEPT, BATCH)
        batches = [websocket_messages()] * (options.batches or 1500)
        unit = "round trip"

        def answers() -> None:
            read_frames(worker, pending, WS_MESSAGE, BATCH)
        # Warm-up: the first messages of each connection cost more.
        for batch in batches[:50]:
            worker.sendall(batch)
            answers()
    else:
        # One batch first, to learn the size of the answers (and warm up).
        worker.sendall(requests(1))
        while pending.count(b"Hello, world!") < BATCH:
            pending += worker.recv(1 << 20)
        answer_bytes = len(pending)
        batches = [requests(1000 + k * BATCH) for k in range(options.batches or 600)]
        unit = "request"

        def answers() -> None:
            left = answer_bytes
            while left > 0:
                left -= len(worker.recv(min(left, 1 << 20)))
    tid = on_loop(server, threading.get_native_id)
    ticks = os.sysconf("SC_CLK_TCK")

    def cpu() -> float:
        with open(f"/proc/self/task/{tid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / ticks

    profile = cProfile.Profile() if options.profile else None
    if profile is not None:
        on_loop(server, profile.enable)
    start_cpu, start = cpu(), time.monotonic()
    for batch in batches:
        worker.sendall(batch)
        answers()
    spent_cpu, spent = cpu() - start_cpu, time.monotonic() - start
    if profile is not None:
        on_loop(server, profile.disable)
    count = BATCH * len(batches)
    print(f"event loop thread: {1e6 * spent_cpu / count:.1f} us of CPU per {unit}, "
          f"{count / spent:.0f} {unit}s/s")
    if profile is not None:
        pstats.Stats(profile).sort_stats("tottime").print_stats(30)
    os._exit(0)

main()
