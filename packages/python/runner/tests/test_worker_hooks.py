# Tests of the worker-side server hooks in the runner: what the hooks get, the request hooks
# around WSGI and ASGI apps, and what a hook that raises does.
from __future__ import annotations

import asyncio
import contextlib
import io
import os
import unittest
from typing import Any, List

from bicorn_runner.hook_objects import HookContext
from bicorn_runner.worker_hooks import BootHookFailed, WorkerHooks

CONTEXT = HookContext({"file": "gunicorn.conf.py", "masterPid": 4242, "age": 3, "numWorkers": 2,
                       "cfg": {"workers": 2, "timeout": 30, "loglevel": "warning"}})


def wsgi_app(environ: Any, start_response: Any) -> Any:
    if environ["PATH_INFO"] == "/fail":
        raise ValueError("the app failed")
    start_response("201 Created", [("Content-Type", "text/plain")])
    return [b"hello ", b"world"]


class WorkerHooksTest(unittest.TestCase):
    def test_worker_and_server_carry_what_hooks_read(self) -> None:
        seen: List[Any] = []
        hooks = WorkerHooks({"post_fork": lambda server, worker: seen.append((server, worker))},
                            CONTEXT)
        hooks.post_fork()
        [(server, worker)] = seen
        self.assertEqual((worker.pid, worker.ppid, worker.age), (os.getpid(), 4242, 3))
        self.assertEqual((server.pid, server.num_workers, server.cfg.workers), (4242, 2, 2))
        self.assertIs(worker.cfg, server.cfg)
        self.assertEqual(worker.timeout, 30)
        self.assertFalse(worker.booted)
        with self.assertRaisesRegex(AttributeError, "cfg has no setting 'nope'"):
            server.cfg.nope  # noqa: B018

    def test_a_boot_hook_that_raises_stops_the_boot_with_its_traceback(self) -> None:
        def post_worker_init(worker: Any) -> None:
            raise RuntimeError("cannot reach the cache")

        hooks = WorkerHooks({"post_worker_init": post_worker_init}, CONTEXT)
        with self.assertRaises(BootHookFailed) as raised:
            hooks.post_worker_init(wsgi_app)
        message = raised.exception.message
        self.assertTrue(message.startswith("hook post_worker_init in gunicorn.conf.py raised:\n"))
        self.assertIn("RuntimeError: cannot reach the cache", message)
        self.assertIn("in post_worker_init", message)

    def test_worker_exit_runs_once_and_a_raising_one_is_logged(self) -> None:
        calls: List[str] = []

        def worker_exit(server: Any, worker: Any) -> None:
            calls.append("exit")
            raise OSError("disk full")

        hooks = WorkerHooks({"worker_exit": worker_exit}, CONTEXT)
        stderr = io.StringIO()
        with contextlib.redirect_stderr(stderr):
            hooks.worker_exit()
            hooks.worker_exit()
        self.assertEqual(calls, ["exit"])
        self.assertIn("Exception in the worker_exit hook of gunicorn.conf.py:", stderr.getvalue())
        self.assertIn("OSError: disk full", stderr.getvalue())

    def test_without_request_hooks_the_app_is_not_wrapped(self) -> None:
        hooks = WorkerHooks({"post_fork": lambda s, w: None}, CONTEXT)
        self.assertIs(hooks.wrap_wsgi(wsgi_app), wsgi_app)


class WsgiRequestHooksTest(unittest.TestCase):
    def call(self, app: Any, path: str) -> Any:
        environ = {"REQUEST_METHOD": "POST", "SCRIPT_NAME": "", "PATH_INFO": path,
                   "QUERY_STRING": "a=1", "SERVER_PROTOCOL": "HTTP/1.1",
                   "wsgi.url_scheme": "http", "HTTP_X_TRACE": "t1", "CONTENT_LENGTH": "0",
                   "REMOTE_ADDR": "10.0.0.7", "REMOTE_PORT": "5000"}
        started: List[Any] = []
        result = app(environ, lambda status, headers, exc_info=None: started.append(status))
        body = b"".join(result)
        result.close()
        return started, body

    def test_pre_request_and_post_request_see_the_request_and_its_response(self) -> None:
        seen: List[Any] = []

        def pre_request(worker: Any, req: Any) -> None:
            req.started_by_hook = True
            seen.append(("pre", req.method, req.path, req.query, req.uri, req.version,
                         req.remote_addr, ("X-TRACE", "t1") in req.headers, worker.nr))

        def post_request(worker: Any, req: Any, environ: Any, resp: Any) -> None:
            seen.append(("post", req.started_by_hook, environ["PATH_INFO"], resp.status,
                         resp.status_code, resp.sent))

        hooks = WorkerHooks({"pre_request": pre_request, "post_request": post_request}, CONTEXT)
        started, body = self.call(hooks.wrap_wsgi(wsgi_app), "/a b")
        self.assertEqual((started, body), (["201 Created"], b"hello world"))
        self.assertEqual(seen, [
            ("pre", "POST", "/a%20b", "a=1", "/a%20b?a=1", (1, 1), ("10.0.0.7", 5000), True, 1),
            ("post", True, "/a b", "201 Created", 201, 11)])

    def test_post_request_runs_when_the_app_raises(self) -> None:
        statuses: List[Any] = []
        hooks = WorkerHooks({"post_request": lambda w, req, env, resp: statuses.append(
            resp.status)}, CONTEXT)
        with self.assertRaisesRegex(ValueError, "the app failed"):
            self.call(hooks.wrap_wsgi(wsgi_app), "/fail")
        self.assertEqual(statuses, [None])

    def test_a_raising_pre_request_fails_the_request_and_post_request_still_runs(self) -> None:
        def pre_request(worker: Any, req: Any) -> None:
            raise PermissionError("blocked by hook")

        posts: List[Any] = []
        hooks = WorkerHooks({"pre_request": pre_request,
                             "post_request": lambda w, req, env, resp: posts.append(resp)},
                            CONTEXT)
        with self.assertRaisesRegex(PermissionError, "blocked by hook"):
            self.call(hooks.wrap_wsgi(wsgi_app), "/")
        self.assertEqual(posts, [None])

    def test_a_raising_post_request_is_logged_and_the_response_stands(self) -> None:
        def post_request(worker: Any, req: Any, environ: Any, resp: Any) -> None:
            raise KeyError("missing")

        hooks = WorkerHooks({"post_request": post_request}, CONTEXT)
        stderr = io.StringIO()
        with contextlib.redirect_stderr(stderr):
            _, body = self.call(hooks.wrap_wsgi(wsgi_app), "/")
        self.assertEqual(body, b"hello world")
        self.assertIn("Exception in the post_request hook", stderr.getvalue())
        self.assertIn("KeyError: 'missing'", stderr.getvalue())


class AsgiRequestHooksTest(unittest.TestCase):
    def test_http_scopes_run_between_the_hooks_and_others_pass_through(self) -> None:
        seen: List[Any] = []

        async def app(scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] == "lifespan":
                seen.append("lifespan")
                return
            await send({"type": "http.response.start", "status": 404,
                        "headers": [(b"content-type", b"text/plain")]})
            await send({"type": "http.response.body", "body": b"not here"})

        hooks = WorkerHooks({
            "pre_request": lambda worker, req: seen.append(("pre", req.method, req.path,
                                                            req.headers)),
            "post_request": lambda worker, req, environ, resp: seen.append(
                ("post", environ, resp.status, resp.status_code, resp.headers, resp.sent)),
        }, CONTEXT)
        wrapped = hooks.wrap_asgi(app)
        sent: List[Any] = []

        async def send(message: Any) -> None:
            sent.append(message["type"])

        scope = {"type": "http", "method": "GET", "path": "/x y", "raw_path": b"/x%20y",
                 "query_string": b"", "http_version": "1.1", "scheme": "http",
                 "headers": [(b"accept", b"*/*")], "client": ["127.0.0.1", 4000]}
        asyncio.run(wrapped(scope, None, send))
        asyncio.run(wrapped({"type": "lifespan"}, None, send))
        self.assertEqual(sent, ["http.response.start", "http.response.body"])
        self.assertEqual(seen, [("pre", "GET", "/x%20y", [("ACCEPT", "*/*")]),
                                ("post", None, "404 Not Found", 404,
                                 [("content-type", "text/plain")], 8),
                                "lifespan"])
