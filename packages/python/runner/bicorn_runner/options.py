# The runner's command line, as the worker writes it; parsed in the runner.
from __future__ import annotations

import argparse
from typing import Any, Callable, List, NamedTuple, NoReturn, Optional


class UsageError(Exception):
    pass


class Options(NamedTuple):
    app: str
    interface: str
    threads: int
    window: int
    multiprocess: bool
    loop: str
    lifespan: str
    factory: bool
    config: Optional[str]
    gevent: bool
    worker_connections: int
    log_config: Optional[str]
    proc_name: Optional[str]
    socket_loans: bool
    # A WebSocket the runner runs on a lent socket (lent_websocket.py): the worker's settings.
    ws_max_size: int
    ws_ping_interval: float
    ws_ping_timeout: float


class _Parser(argparse.ArgumentParser):
    # argparse would exit the process; only run.py may, so a bad command line is an exception.
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def _number(kind: Callable[[str], Any], least: int, what: str) -> Callable[[str], Any]:
    """An argparse type: the text as `kind`, at least `least` (NaN is refused)."""
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not value >= least:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        return value
    return parse


_positive = _number(int, 1, "a positive integer")
_count = _number(int, 0, "an integer, 0 or more")
_seconds = _number(float, 0, "seconds, 0 or more")


def parse_options(argv: List[str]) -> Options:
    parser = _Parser(prog="run.py", add_help=False)
    parser.add_argument("--app", required=True)
    parser.add_argument("--interface", choices=("auto", "wsgi", "asgi"), default="auto")
    parser.add_argument("--threads", type=_positive, default=1)
    parser.add_argument("--window", type=_positive, default=1024 * 1024)
    parser.add_argument("--multiprocess", action="store_true")
    # Both concern ASGI apps only; a WSGI app ignores them.
    parser.add_argument("--loop", choices=("auto", "asyncio", "uvloop"), default="auto")
    parser.add_argument("--lifespan", choices=("auto", "on", "off"), default="auto")
    # The app names a factory to call without arguments (uvicorn's --factory).
    parser.add_argument("--factory", action="store_true")
    # A gunicorn config file (a path, file:PATH or python:MODULE), for its server hooks.
    parser.add_argument("--config")
    # gevent workers: run.py has patched the standard library (WSGI apps only).
    parser.add_argument("--gevent", action="store_true")
    parser.add_argument("--worker-connections", type=_positive, default=1000)
    # A logging config for the app's Python logging: dictConfig JSON or YAML, else fileConfig INI.
    parser.add_argument("--log-config")
    # Sets the process title to "bicorn: python [NAME]".
    parser.add_argument("--proc-name")
    # fd 5 is the socket pair on which the worker lends client sockets (socket_loans.py).
    parser.add_argument("--socket-loans", action="store_true")
    # 0: only empty messages (the worker's limit_request_body may be 0).
    parser.add_argument("--ws-max-size", type=_count, default=16 * 1024 * 1024)
    parser.add_argument("--ws-ping-interval", type=_seconds, default=20.0)
    parser.add_argument("--ws-ping-timeout", type=_seconds, default=20.0)
    parsed = parser.parse_args(argv)
    return Options(parsed.app, parsed.interface, parsed.threads, parsed.window,
                   parsed.multiprocess, parsed.loop, parsed.lifespan, parsed.factory,
                   parsed.config, parsed.gevent, parsed.worker_connections, parsed.log_config,
                   parsed.proc_name, parsed.socket_loans, parsed.ws_max_size,
                   parsed.ws_ping_interval, parsed.ws_ping_timeout)
