"""The runner's ASGI upload path alone: its real Connection, Dispatcher and AsgiServer on a
socket pair, serving the bench's /upload, while a forked process plays the worker: 10 MiB
uploads in HTTP_BODY frames of --frame bytes, sent within the credit window as the worker sends
them. Prints the CPU the event loop's thread spent per upload and the receive() events the app
made for each. Noisy by a tenth or more: compare medians of several runs, interleaved. Run with
the bench's Python (uvloop, as in bicorn):
    .venv/bin/python scripts/bench/floor/runner_upload.py [--frame BYTES] [--uploads N]"""
import argparse
import os
import socket
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.normpath(os.path.join(HERE, "../../../packages/python/runner")),
                os.path.normpath(os.path.join(HERE, "../apps"))]

from asgi_hello import app as bench_app  # noqa: E402
from bicorn_runner.asgi_server import AsgiServer  # noqa: E402
from bicorn_runner.connection import Connection  # noqa: E402
from bicorn_runner.dispatch import Dispatcher  # noqa: E402
from bicorn_runner.frames import (Credit, FrameDecoder, HttpBody, HttpRequest,  # noqa: E402
                                  HttpResponseBody, encode)

WINDOW = 1024 * 1024
SIZE = 10 * 1024 * 1024
receives = 0


async def counting_app(scope, receive, send):
    async def counted():
        global receives
        receives += 1
        return await receive()
    await bench_app(scope, counted, send)


def upload(worker: socket.socket, stream: int, frame: int, decoder: FrameDecoder) -> None:
    """One upload, its body sent as the credit allows, until the response's last frame."""
    head = HttpRequest(stream, True, "POST", "http", "1.1", b"/upload", b"", b"",
                       ("127.0.0.1", 40000), ("127.0.0.1", 8000),
                       [(b"host", b"127.0.0.1:8000"), (b"content-length", str(SIZE).encode())])
    worker.sendall(encode(head))
    piece = b"x" * frame
    sent, credit = 0, WINDOW
    while True:
        while sent < SIZE and credit >= frame:
            worker.sendall(encode(HttpBody(stream, True, piece)))
            sent += frame
            credit -= frame
            if sent >= SIZE:
                worker.sendall(encode(HttpBody(stream, False, b"")))
        for answer in decoder.feed(worker.recv(1 << 20)):
            if isinstance(answer, Credit):
                credit += answer.amount
            elif isinstance(answer, HttpResponseBody) and not answer.more:
                return


def play_worker(worker: socket.socket, options: argparse.Namespace, signal: int) -> None:
    decoder = FrameDecoder()
    upload(worker, 1, options.frame, decoder)
    os.write(signal, b".")
    for index in range(options.uploads):
        upload(worker, 3 + 2 * index, options.frame, decoder)
    os.write(signal, b".")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--frame", type=int, default=256 * 1024)
    parser.add_argument("--uploads", type=int, default=100)
    options = parser.parse_args()
    ours, worker = socket.socketpair()
    wait, signal = os.pipe()
    # Forked before any thread starts: the worker's side takes no CPU from the runner's.
    if os.fork() == 0:
        ours.close()
        play_worker(worker, options, signal)
        os._exit(0)
    worker.close()
    connection = Connection(ours)
    dispatcher = Dispatcher(connection, WINDOW)
    server = AsgiServer(counting_app, "auto", {})
    server.start()
    dispatcher.serve(server.handle, server.submit, server.handle_websocket)
    connection.read_on_loop(server.loop, dispatcher.on_frame)
    ready = threading.Event()
    tid = []
    server.loop.call_soon_threadsafe(lambda: (tid.append(threading.get_native_id()), ready.set()))
    ready.wait()
    ticks = os.sysconf("SC_CLK_TCK")

    def cpu() -> float:
        with open(f"/proc/self/task/{tid[0]}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / ticks

    os.read(wait, 1)  # the first upload, a warm-up, is done
    start, counted = cpu(), receives
    os.read(wait, 1)
    spent = cpu() - start
    print(f"event loop thread: {1e3 * spent / options.uploads:.2f} ms of CPU per 10 MiB upload "
          f"in {options.frame}-byte frames, {(receives - counted) / options.uploads:.1f} "
          f"receive() per upload")
    os._exit(0)


main()
