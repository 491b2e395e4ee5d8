# `run.py --server-hooks LOCATION`: the master's hook process. Runs a gunicorn config file once and
# calls its master-side hooks (on_starting, when_ready, on_reload, pre_fork, child_exit,
# nworkers_changed, on_exit) as the master asks, one at a time, over JSON lines on fd 3 (a
# socketpair): first {"hooks": [names]} (or {"error": message}, then exit 2), then for each
# {"id", "hook", "server": {"numWorkers", "workers": [{"pid", "age"}]}, "worker"?, "args"?} one
# {"id", "ok"} or {"id", "ok": false, "traceback"}. Ends when the master closes fd 3. Runs in a
# Python process the master starts; the app is never imported here.
from __future__ import annotations

import json
import signal
import socket
from typing import Any, Dict, List

from .app_traceback import format_app_exception
from .gunicorn_config import MASTER_HOOKS, ConfigFileError, load, sort_names
from .hook_objects import HookConfig, HookContext, HookLog, Server, Worker
from . import proctitle

HOOKS_FD = 3
EXIT_OK = 0
EXIT_FAILED = 2

# How each hook is called: gunicorn's arguments.
_WITH_WORKER = ("pre_fork", "child_exit")


def serve_hooks(argv: List[str]) -> int:
    # The master owns this process's life: it closes fd 3 when it is done.
    for ignored in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT,
                    signal.SIGTTIN, signal.SIGTTOU, signal.SIGUSR1):
        signal.signal(ignored, signal.SIG_IGN)
    context = HookContext.take()
    if context.proc_name:
        proctitle.set_title(f"bicorn: hooks [{context.proc_name}]")
    channel = socket.socket(fileno=HOOKS_FD)
    lines = channel.makefile("rb")

    def reply(message: Dict[str, Any]) -> None:
        channel.sendall(json.dumps(message).encode("utf-8") + b"\n")

    if len(argv) != 1:
        reply({"error": "usage: run.py --server-hooks FILE|python:MODULE"})
        return EXIT_FAILED
    try:
        config = sort_names(load(argv[0]))
    except ConfigFileError as error:
        reply({"error": error.message})
        return EXIT_FAILED
    hooks = {name: hook for name, hook in config.hooks.items() if name in MASTER_HOOKS}
    # The file's own values under bicorn's, as in the runner.
    cfg = HookConfig({**config.settings, **context.cfg})
    log = HookLog(str(cfg.get("loglevel", "info")))
    server = Server(context, cfg, log)
    reply({"hooks": sorted(hooks)})
    for line in lines:
        request = json.loads(line)
        hook = hooks.get(request["hook"])
        if hook is None:
            reply({"id": request["id"], "ok": True})
            continue
        _update(server, request["server"], cfg, log)
        try:
            hook(*_arguments(request, server, cfg, log))
        except Exception as error:
            reply({"id": request["id"], "ok": False, "traceback": format_app_exception(error)})
        else:
            reply({"id": request["id"], "ok": True})
    return EXIT_OK


def _update(server: Server, state: Dict[str, Any], cfg: HookConfig, log: HookLog) -> None:
    server.num_workers = int(state["numWorkers"])
    server.WORKERS = {int(w["pid"]): _worker(w, server, cfg, log) for w in state["workers"]}


def _arguments(request: Dict[str, Any], server: Server, cfg: HookConfig,
               log: HookLog) -> List[Any]:
    name = request["hook"]
    if name in _WITH_WORKER:
        return [server, _worker(request["worker"], server, cfg, log)]
    if name == "nworkers_changed":
        new, old = request["args"]
        return [server, new, old]
    return [server]


def _worker(data: Dict[str, Any], server: Server, cfg: HookConfig, log: HookLog) -> Worker:
    # A worker about to be forked has no pid yet: gunicorn's "[booting]".
    pid = data.get("pid")
    worker = Worker(int(data["age"]), "[booting]" if pid is None else int(pid), server.pid, cfg,
                    log)
    worker.booted = bool(data.get("booted", False))
    worker.alive = not data.get("exited", False)
    return worker
