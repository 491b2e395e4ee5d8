"""The runner's WSGI request path alone, in one process: its real Connection, Dispatcher and
calls (--threads 1: on the frame reader, as bicorn makes them; more, or --pool: on a pool) on a
socket pair, serving wsgi_hello, with the main thread playing the worker (batches of --batch
request frames written, their answers read). Prints the CPU every thread but the main one spent
per request. A small batch is what a worker under wrk -c64 sends (two or three requests a
write); a large one hides the cost of handing each request to another thread. One run varies
by about a tenth: compare medians of several, interleaved. Run with the bench's Python:
    .venv/bin/python scripts/bench/floor/runner_wsgi.py [--threads N] [--pool] [--batch N]
        [--batches N]"""
import argparse
import functools
import io
import os
import socket
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.normpath(os.path.join(HERE, "../../../packages/python/runner")),
                os.path.normpath(os.path.join(HERE, "../apps"))]

from wsgi_hello import application  # noqa: E402
from bicorn_runner.connection import Connection  # noqa: E402
from bicorn_runner.dispatch import Dispatcher  # noqa: E402
from bicorn_runner.frames import HttpRequest, encode  # noqa: E402
from bicorn_runner.wsgi_environ import base_environ  # noqa: E402
from bicorn_runner.wsgi_file_wrapper import FileWrapper  # noqa: E402
from bicorn_runner.wsgi_handler import handle  # noqa: E402
from bicorn_runner.wsgi_on_reader import OnReader  # noqa: E402
from bicorn_runner.wsgi_pool import ThreadPool  # noqa: E402


def requests(first: int, count: int) -> bytes:
    """GET / requests as the worker frames them for wrk (one Host header)."""
    return b"".join(encode(HttpRequest(first + i, False, "GET", "http", "1.1", b"/", b"", b"",
                                       ("127.0.0.1", 40000 + i), ("127.0.0.1", 8000),
                                       [(b"host", b"127.0.0.1:8000")])) for i in range(count))


def others_cpu(main_tid: int, ticks: int) -> float:
    """CPU seconds of every thread of this process but the main one, from /proc."""
    total = 0
    for tid in os.listdir("/proc/self/task"):
        if int(tid) == main_tid:
            continue
        try:
            with open(f"/proc/self/task/{tid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / ticks


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--pool", action="store_true", help="a pool even of one thread")
    parser.add_argument("--batch", type=int, default=3)
    parser.add_argument("--batches", type=int, default=30000)
    options = parser.parse_args()
    ours, worker = socket.socketpair()
    connection = Connection(ours)
    dispatcher = Dispatcher(connection, 1024 * 1024)
    connection.start_reader(dispatcher.on_frame, lambda error: os._exit(1))
    connection.keep_reading()
    on_reader = options.threads == 1 and not options.pool
    pool = OnReader(connection) if on_reader else ThreadPool(options.threads, "wsgi")
    base = base_environ(io.StringIO(), FileWrapper, multithread=options.threads > 1,
                        multiprocess=False)
    dispatcher.serve(functools.partial(handle, application, base), pool.submit)
    # One batch first, to learn the size of the answers (and warm up).
    worker.sendall(requests(1, options.batch))
    answers = b""
    while answers.count(b"Hello, world!") < options.batch:
        answers += worker.recv(1 << 20)
    answer_bytes = len(answers)
    ticks = os.sysconf("SC_CLK_TCK")
    main_tid = threading.get_native_id()
    batches = [requests(1000 + k * options.batch, options.batch) for k in range(options.batches)]
    start_cpu, start = others_cpu(main_tid, ticks), time.monotonic()
    for batch in batches:
        worker.sendall(batch)
        left = answer_bytes
        while left > 0:
            left -= len(worker.recv(min(left, 1 << 20)))
    spent_cpu, spent = others_cpu(main_tid, ticks) - start_cpu, time.monotonic() - start
    count = options.batch * options.batches
    where = "on the reader" if on_reader else f"on a pool of {options.threads}"
    print(f"runner threads (calls {where}, batches of {options.batch}): "
          f"{1e6 * spent_cpu / count:.1f} us of CPU per request, {count / spent:.0f} requests/s")
    os._exit(0)


main()
