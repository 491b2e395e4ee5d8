# What gunicorn's server hooks are handed: `server`, `worker`, `req` and `resp` stand-ins that
# carry what hooks in the wild read of gunicorn's own (pid, age, cfg, log, num_workers, the
# request's method and path, the response's status). Used by the runner and the master's hook
# process; the context comes from bicorn in an environment variable (runner process).
from __future__ import annotations

import json
import logging
import os
import sys
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import quote

# The hook context, set by the worker and the master for the process they start; read and removed
# before any of the app's code runs, so the app never sees it.
CONTEXT_VARIABLE = "_BICORN_HOOK_CONTEXT"

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING,
           "error": logging.ERROR, "critical": logging.CRITICAL}


class HookContext:
    def __init__(self, data: Dict[str, Any]) -> None:
        self.file: str = str(data.get("file", "the config file"))
        self.master_pid: int = int(data.get("masterPid", os.getppid()))
        self.age: int = int(data.get("age", 0))
        self.num_workers: int = int(data.get("numWorkers", 1))
        self.proc_name: str = str(data.get("procName", ""))
        self.cfg: Dict[str, Any] = dict(data.get("cfg", {}))

    @classmethod
    def take(cls) -> "HookContext":
        raw = os.environ.pop(CONTEXT_VARIABLE, "{}")
        try:
            data = json.loads(raw)
        except ValueError:
            data = {}
        return cls(data if isinstance(data, dict) else {})


class HookConfig:
    """`cfg`: gunicorn's setting names as attributes, with bicorn's values where it has the
    setting, else the config file's."""

    def __init__(self, values: Dict[str, Any]) -> None:
        self._values = dict(values)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["_values"][name]
        except KeyError:
            raise AttributeError(f"cfg has no setting {name!r}") from None

    def get(self, name: str, default: Any = None) -> Any:
        return self._values.get(name, default)


class HookLog:
    """gunicorn's logger as hooks use it: the usual levels, on the `gunicorn.error` logger, which
    writes to stderr (the worker's log) unless a --log-config says otherwise."""

    def __init__(self, level: str) -> None:
        self._logger = logging.getLogger("gunicorn.error")
        if not self._logger.handlers:
            handler = logging.StreamHandler(sys.stderr)
            handler.setFormatter(logging.Formatter("%(message)s"))
            self._logger.addHandler(handler)
            self._logger.propagate = False
        self._logger.setLevel(_LEVELS.get(level.lower(), logging.INFO))

    @property
    def error_log(self) -> logging.Logger:
        return self._logger

    def critical(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        self._logger.critical(msg, *args, **kwargs)

    def error(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        self._logger.error(msg, *args, **kwargs)

    def warning(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        self._logger.warning(msg, *args, **kwargs)

    warn = warning

    def info(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        self._logger.info(msg, *args, **kwargs)

    def debug(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        self._logger.debug(msg, *args, **kwargs)

    def exception(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        self._logger.exception(msg, *args, **kwargs)

    def log(self, level: Any, msg: Any, *args: Any, **kwargs: Any) -> None:
        if isinstance(level, str):
            level = _LEVELS.get(level.lower(), logging.INFO)
        self._logger.log(level, msg, *args, **kwargs)

    # The access log and its files are the worker's.
    def access(self, *args: Any, **kwargs: Any) -> None:
        pass

    def reopen_files(self) -> None:
        pass

    def close_on_exec(self) -> None:
        pass


class Server:
    """gunicorn's arbiter as hooks read it. In the master's hook process `WORKERS` holds the
    workers bicorn knows (by the pid of their Python process); in a runner it is empty."""

    def __init__(self, context: HookContext, cfg: HookConfig, log: HookLog) -> None:
        self.pid = context.master_pid
        self.cfg = cfg
        self.log = log
        self.num_workers = context.num_workers
        self.proc_name = context.proc_name or cfg.get("proc_name") or "bicorn"
        self.master_name = "Master"
        self.WORKERS: Dict[int, "Worker"] = {}


class Worker:
    """gunicorn's worker as hooks read it; `pid` is the pid of the worker's Python process (what
    prometheus_client's mark_process_dead needs)."""

    def __init__(self, age: int, pid: Any, ppid: int, cfg: HookConfig, log: HookLog) -> None:
        self.age = age
        self.pid = pid
        self.ppid = ppid
        self.cfg = cfg
        self.log = log
        self.timeout = cfg.get("timeout", 30)
        self.max_requests = cfg.get("max_requests") or sys.maxsize
        self.nr = 0
        self.alive = True
        self.booted = False
        self.aborted = False
        self.app: Any = None
        self.wsgi: Any = None
        self.sockets: List[Any] = []
        self.reloader: Any = None

    def notify(self) -> None:
        """gunicorn's heartbeat; bicorn's worker answers the master's pings itself."""

    def __str__(self) -> str:
        return f"<Worker {self.pid}>"


class Request:
    """gunicorn's parsed request as pre_request and post_request read it. Hooks may set their
    own attributes on it (a start time) to read them back in post_request."""

    def __init__(self, method: str, path: str, query: str, version: Tuple[int, int],
                 headers: List[Tuple[str, str]], scheme: str, remote_addr: Any,
                 req_number: int) -> None:
        self.method = method
        self.path = path
        self.query = query
        self.fragment = ""
        self.uri = path + (f"?{query}" if query else "")
        self.version = version
        self.headers = headers
        self.trailers: List[Tuple[str, str]] = []
        self.scheme = scheme
        self.remote_addr = remote_addr
        self.peer_addr = remote_addr
        self.req_number = req_number
        self.body: Any = None
        self.proxy_protocol_info: Any = None

    @classmethod
    def from_environ(cls, environ: Dict[str, Any], req_number: int) -> "Request":
        headers = [(key[5:].replace("_", "-"), value) for key, value in environ.items()
                   if key.startswith("HTTP_")]
        for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            if environ.get(key):
                headers.append((key.replace("_", "-"), environ[key]))
        remote = (environ.get("REMOTE_ADDR", ""), int(environ.get("REMOTE_PORT") or 0))
        # gunicorn's path is the request target's, percent-encoded as it came.
        path = (environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")).encode("latin-1")
        return cls(environ.get("REQUEST_METHOD", "GET"), quote(path, safe="/;=:@&+$,!~*'()"),
                   environ.get("QUERY_STRING", ""),
                   _version(environ.get("SERVER_PROTOCOL", "HTTP/1.1")), headers,
                   environ.get("wsgi.url_scheme", "http"), remote, req_number)

    @classmethod
    def from_scope(cls, scope: Dict[str, Any], req_number: int) -> "Request":
        headers = [(name.decode("latin-1").upper(), value.decode("latin-1"))
                   for name, value in scope.get("headers", [])]
        client = scope.get("client")
        path = scope.get("raw_path") or scope.get("path", "").encode("utf-8")
        return cls(scope.get("method", "GET"), path.decode("latin-1"),
                   scope.get("query_string", b"").decode("latin-1"),
                   _version("HTTP/" + scope.get("http_version", "1.1")), headers,
                   scope.get("scheme", "http"), tuple(client) if client else None, req_number)


class Response:
    """What post_request reads of the response: status ("200 OK"), status_code, headers and the
    body bytes sent. `status` stays None when the app failed before starting its response."""

    def __init__(self) -> None:
        self.status: Optional[str] = None
        self.status_code: Optional[int] = None
        self.headers: List[Tuple[str, str]] = []
        self.sent = 0
        self.response_length: Optional[int] = None

    def started(self, status_code: int, status: str, headers: List[Tuple[str, str]]) -> None:
        self.status_code = status_code
        self.status = status
        self.headers = headers
        for name, value in headers:
            if name.lower() == "content-length" and value.strip().isdigit():
                self.response_length = int(value)


def _version(protocol: str) -> Tuple[int, int]:
    major, _, minor = protocol.partition("/")[2].partition(".")
    try:
        return int(major), int(minor or 0)
    except ValueError:
        return 1, 1
