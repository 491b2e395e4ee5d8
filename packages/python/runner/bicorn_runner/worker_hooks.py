# A gunicorn config's worker-side server hooks, in the worker's Python process: post_fork before
# the app loads, post_worker_init after, pre_request and post_request around each request (as a
# WSGI or ASGI middleware, so the request path is untouched without them), worker_int on a fast
# stop (SIGQUIT from the worker), worker_abort when the worker gives up on a stuck app (SIGABRT),
# worker_exit last. A hook that raises is logged with its traceback; only post_fork and
# post_worker_init stop the worker from booting, as in gunicorn (runner process).
from __future__ import annotations

import logging
import os
import signal
import threading
from http import HTTPStatus
from typing import Any, Callable, Dict, Iterable, Iterator, Optional

from .app_traceback import format_app_exception
from .gunicorn_config import WORKER_HOOKS
from .hook_objects import HookConfig, HookContext, HookLog, Request, Response, Server, Worker
from .log_pipe import runner_says

# gunicorn's exit codes for these: a fast stop is a clean exit, an abort is not.
EXIT_FAST = 0
EXIT_ABORTED = 1
# A worker that cannot boot, as when an ASGI app's lifespan startup fails.
EXIT_BOOT = 3


class BootHookFailed(Exception):
    """post_fork or post_worker_init raised: the worker cannot boot (exit 3)."""

    def __init__(self, hook: str, file: str, traceback: str) -> None:
        # The worker tells this FATAL from a lifespan failure by its first words.
        self.message = f"hook {hook} in {file} raised:\n{traceback}"
        super().__init__(self.message)


class WorkerHooks:
    def __init__(self, hooks: Dict[str, Callable[..., Any]], context: HookContext,
                 settings: Optional[Dict[str, Any]] = None) -> None:
        self._hooks = {name: hook for name, hook in hooks.items() if name in WORKER_HOOKS}
        self._file = context.file
        # The file's own values under bicorn's: `cfg` also answers names bicorn has no use for.
        cfg = HookConfig({**(settings or {}), **context.cfg})
        self.log = HookLog(str(cfg.get("loglevel", "info")))
        self.server = Server(context, cfg, self.log)
        self.worker = Worker(context.age, os.getpid(), context.master_pid, cfg, self.log)
        self._exiting = threading.Lock()

    @property
    def on_requests(self) -> bool:
        return "pre_request" in self._hooks or "post_request" in self._hooks

    def post_fork(self) -> None:
        self._boot_hook("post_fork", self.server, self.worker)

    def post_worker_init(self, app: Any) -> None:
        self.worker.app = self.worker.wsgi = app
        self._boot_hook("post_worker_init", self.worker)
        self.worker.booted = True

    def install_stop_signals(self, exit_now: Callable[[int], None]) -> None:
        """SIGQUIT and SIGABRT come from the worker (a fast stop, a stuck app); the handlers run
        on the main thread, which never waits long (stack_dump.MAIN_WAIT_S). Call there."""
        signal.signal(signal.SIGQUIT, lambda _s, _f: self._stop("worker_int", EXIT_FAST,
                                                                 exit_now))
        signal.signal(signal.SIGABRT, lambda _s, _f: self._stop("worker_abort", EXIT_ABORTED,
                                                                exit_now))

    def worker_exit(self) -> None:
        """After a graceful stop; once, whichever way the runner ends."""
        if self._exiting.acquire(blocking=False):
            self.worker.alive = False
            self._call("worker_exit", self.server, self.worker)

    def wrap_wsgi(self, app: Any) -> Any:
        return _WsgiRequestHooks(app, self) if self.on_requests else app

    def wrap_asgi(self, app: Any) -> Any:
        return _AsgiRequestHooks(app, self) if self.on_requests else app

    def pre_request(self, req: Request) -> None:
        """Raises what the hook raises: the request then fails with 500, as in gunicorn."""
        self.worker.nr += 1
        hook = self._hooks.get("pre_request")
        if hook is not None:
            hook(self.worker, req)

    def post_request(self, req: Request, environ: Any, resp: Optional[Response]) -> None:
        self._call("post_request", self.worker, req, environ, resp)

    def _stop(self, hook: str, exit_code: int, exit_now: Callable[[int], None]) -> None:
        if hook == "worker_abort":
            self.worker.aborted = True
        self.worker.alive = False
        self._call(hook, self.worker)
        self.worker_exit()
        exit_now(exit_code)

    def _boot_hook(self, name: str, *args: Any) -> None:
        hook = self._hooks.get(name)
        if hook is None:
            return
        try:
            hook(*args)
        except Exception as error:
            raise BootHookFailed(name, self._file, format_app_exception(error)) from None

    def _call(self, name: str, *args: Any) -> None:
        hook = self._hooks.get(name)
        if hook is None:
            return
        try:
            hook(*args)
        except Exception as error:
            runner_says(logging.ERROR, f"Exception in the {name} hook of {self._file}:\n"
                        + format_app_exception(error).rstrip("\n"))


class _WsgiRequestHooks:
    """The app, between pre_request and post_request: post_request runs once the server has
    closed the response, or at once when the app raised."""

    def __init__(self, app: Any, hooks: WorkerHooks) -> None:
        self._app = app
        self._hooks = hooks

    def __call__(self, environ: Dict[str, Any], start_response: Any) -> Any:
        req = Request.from_environ(environ, self._hooks.worker.nr + 1)
        try:
            self._hooks.pre_request(req)
        except BaseException:
            self._hooks.post_request(req, environ, None)
            raise
        resp = Response()

        def hooked_start(status: Any, headers: Any, exc_info: Any = None) -> Any:
            write = start_response(status, headers, exc_info)
            text = str(status)
            code = text.split(" ", 1)[0]
            resp.started(int(code) if code.isdigit() else 0, text,
                         [(str(name), str(value)) for name, value in headers])

            def hooked_write(data: Any) -> None:
                write(data)
                resp.sent += len(data)
            return hooked_write

        try:
            result = self._app(environ, hooked_start)
        except BaseException:
            self._hooks.post_request(req, environ, resp)
            raise
        return _HookedBody(result, resp, lambda: self._hooks.post_request(req, environ, resp))


class _HookedBody:
    def __init__(self, result: Iterable[Any], resp: Response, done: Callable[[], None]) -> None:
        self._result = result
        self._resp = resp
        self._done = done

    def __iter__(self) -> Iterator[Any]:
        for chunk in self._result:
            yield chunk
            self._resp.sent += len(chunk)

    def close(self) -> None:
        try:
            close = getattr(self._result, "close", None)
            if close is not None:
                close()
        finally:
            self._done()


class _AsgiRequestHooks:
    """HTTP scopes between pre_request and post_request (whose environ is None, as in gunicorn's
    ASGI worker); lifespan and WebSocket scopes pass through."""

    def __init__(self, app: Any, hooks: WorkerHooks) -> None:
        self._app = app
        self._hooks = hooks

    async def __call__(self, scope: Dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        req = Request.from_scope(scope, self._hooks.worker.nr + 1)
        resp: Optional[Response] = None
        try:
            self._hooks.pre_request(req)
            resp = Response()
            started = resp

            async def hooked_send(message: Any) -> None:
                await send(message)
                kind = message.get("type") if isinstance(message, dict) else None
                if kind == "http.response.start":
                    status = int(message.get("status", 0))
                    started.started(status, _status_line(status), [
                        (bytes(name).decode("latin-1"), bytes(value).decode("latin-1"))
                        for name, value in message.get("headers", [])])
                elif kind == "http.response.body":
                    started.sent += len(message.get("body", b""))

            await self._app(scope, receive, hooked_send)
        finally:
            self._hooks.post_request(req, None, resp)


def _status_line(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)
