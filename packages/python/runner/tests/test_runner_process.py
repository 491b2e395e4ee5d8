# End-to-end tests of run.py as a real process, spoken to in frames over a socketpair as fd 3.
from __future__ import annotations

import importlib.util
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest
from typing import List

from bicorn_runner import frames as f

RUN_PY = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "run.py")
TIMEOUT = 15

APP = """
    import sys

    def application(environ, start_response):
        body = environ["wsgi.input"].read()
        environ["wsgi.errors"].write("got %d bytes\\n" % len(body))
        start_response("201 Created", [("Content-Type", "text/plain")])
        return [b"echo:" + body, b"|" + environ["PATH_INFO"].encode("latin-1")]


    def upload_download(environ, start_response):
        received = 0
        while True:
            block = environ["wsgi.input"].read(10000)
            if not block:
                break
            received += len(block)
        start_response("200 OK", [])
        return (bytes([i % 251]) * 100000 for i in range(received // 100000))


    async def asgi_app(scope, receive, send):
        body = b""
        while True:
            event = await receive()
            body += event["body"]
            if not event["more_body"]:
                break
        await send({"type": "http.response.start", "status": 201,
                    "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"echo:" + body, "more_body": True})
        await send({"type": "http.response.body", "body": b"|" + scope["path"].encode()})


    async def lifespan_app(scope, receive, send):
        if scope["type"] == "lifespan":
            await receive()
            scope["state"]["greeting"] = b"hello from startup"
            await send({"type": "lifespan.startup.complete"})
            await receive()
            sys.stderr.write("lifespan shutdown ran\\n")
            await send({"type": "lifespan.shutdown.complete"})
            return
        await send({"type": "http.response.start", "status": 200})
        await send({"type": "http.response.body", "body": scope["state"]["greeting"]})


    async def failing_startup(scope, receive, send):
        if scope["type"] == "lifespan":
            await receive()
            await send({"type": "lifespan.startup.failed", "message": "database unreachable"})


    async def ws_echo(scope, receive, send):
        if scope["type"] != "websocket":
            raise ValueError(scope["type"])
        await receive()
        await send({"type": "websocket.accept", "subprotocol": scope["subprotocols"][0]})
        while True:
            event = await receive()
            if event["type"] == "websocket.disconnect":
                sys.stderr.write("disconnect %d\\n" % event["code"])
                return
            await send({"type": "websocket.send", "text": event["text"][::-1]})


    async def loop_app(scope, receive, send):
        if scope["type"] != "http":
            return
        import asyncio
        kind = type(asyncio.get_running_loop())
        await send({"type": "http.response.start", "status": 200})
        await send({"type": "http.response.body", "body": kind.__module__.encode()})


    BIG_BODY = bytes(range(256)) * 32 * 1024


    async def big_body(scope, receive, send):
        await send({"type": "http.response.start", "status": 200})
        await send({"type": "http.response.body", "body": BIG_BODY})


    async def await_forever(scope, receive, send):
        import asyncio
        await send({"type": "http.response.start", "status": 200})
        await send({"type": "http.response.body", "body": b"waiting", "more_body": True})
        await asyncio.Event().wait()


    def child_signal_mask(environ, start_response):
        import subprocess
        mask = subprocess.run(
            [sys.executable, "-c", "import signal; print(sorted(signal.pthread_sigmask("
             "signal.SIG_BLOCK, [])))"], capture_output=True, check=True).stdout
        start_response("200 OK", [])
        return [mask]


    def noisy(environ, start_response):
        import logging
        import threading
        import traceback
        try:
            {}["missing"]
        except KeyError:
            traceback.print_exc()
        logging.getLogger("shop").warning("stock low:\\n  %s", "sku 7")
        thread = threading.Thread(target=lambda: 1 / 0, name="doomed")
        thread.start()
        thread.join()
        start_response("200 OK", [])
        return [b"logged"]


    def asgi2_app(scope):
        async def instance(receive, send):
            await send({"type": "http.response.start", "status": 200})
            await send({"type": "http.response.body", "body": b"asgi2 " + scope["raw_path"]})
        return instance
"""


class RunnerProcess:
    """run.py in a temp project dir, with fd 3 a socketpair end and fd 4 the log pipe."""

    def __init__(self, test: unittest.TestCase, app_spec: str, *args: str) -> None:
        self.test = test
        self.dir = tempfile.mkdtemp(prefix="bicorn-runner-")
        test.addCleanup(shutil.rmtree, self.dir, True)
        with open(os.path.join(self.dir, "app.py"), "w", encoding="utf-8") as file:
            file.write(textwrap.dedent(APP))
        with open(os.path.join(self.dir, "broken.py"), "w", encoding="utf-8") as file:
            file.write("raise RuntimeError('settings missing')\n")
        with open(os.path.join(self.dir, "loud.py"), "w", encoding="utf-8") as file:
            file.write("print('loading', 'loud')\nfrom app import noisy as application\n")
        self.sock, child_sock = socket.socketpair()
        log_read, log_write = os.pipe()
        self.log = os.fdopen(log_read, "rb")
        self.log_decoder = f.FrameDecoder()
        self.log_pending: List[f.Frame] = []
        child_fd = child_sock.fileno()

        def arrange_fds() -> None:
            os.dup2(child_fd, 3)
            os.dup2(log_write, 4)

        self.process = subprocess.Popen(
            [sys.executable, RUN_PY, "--app", app_spec, *args], cwd=self.dir,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            close_fds=False, preexec_fn=arrange_fds)
        child_sock.close()
        os.close(log_write)
        test.addCleanup(self.close)
        self.sock.settimeout(TIMEOUT)
        self.decoder = f.FrameDecoder()
        self.pending: List[f.Frame] = []

    def send(self, *frames: f.Frame) -> None:
        self.sock.sendall(b"".join(f.encode(frame) for frame in frames))

    def next_frame(self) -> f.Frame:
        while not self.pending:
            data = self.sock.recv(65536)
            if not data:
                raise AssertionError("the runner closed fd 3 while a frame was awaited")
            self.pending.extend(self.decoder.feed(data))
        return self.pending.pop(0)

    def next_response_frame(self) -> f.Frame:
        """The next frame other than CREDIT: the runner credits request bytes as the app reads
        them, and whether it does before the response starts depends on timing."""
        while True:
            frame = self.next_frame()
            if not isinstance(frame, f.Credit):
                return frame

    def read_body(self) -> bytes:
        """The response body, up to its last frame."""
        body = b""
        while True:
            frame = self.next_response_frame()
            self.test.assertIsInstance(frame, f.HttpResponseBody)
            body += bytes(frame.body)
            if not frame.more:
                return body

    def wait_exit(self) -> int:
        return self.process.wait(TIMEOUT)

    def next_log(self) -> f.Log:
        """The next LOG frame on the log pipe."""
        while not self.log_pending:
            data = self.log.read1(65536)
            if not data:
                raise AssertionError("the runner closed the log pipe while a frame was awaited")
            self.log_pending.extend(self.log_decoder.feed(data))
        frame = self.log_pending.pop(0)
        self.test.assertIsInstance(frame, f.Log)
        return frame

    def logged(self) -> List[f.Log]:
        """Every LOG frame still to come, up to the runner's exit."""
        frames = list(self.log_pending)
        self.log_pending = []
        data = self.log.read()
        frames.extend(self.log_decoder.feed(data))
        return frames

    def stderr_until(self, text: bytes) -> bytes:
        """What the runner wrote to stderr, up to and including the first chunk with text."""
        seen = b""
        deadline = time.monotonic() + TIMEOUT
        fd = self.process.stderr.fileno()
        while text not in seen:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise AssertionError(f"timed out waiting for {text!r} on stderr; got {seen!r}")
            chunk = os.read(fd, 65536)
            if not chunk:
                raise AssertionError(f"stderr closed before {text!r}; got {seen!r}")
            seen += chunk
        return seen

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process.stderr.close()
        self.log.close()
        self.sock.close()


class RunnerProcessTest(unittest.TestCase):
    def test_says_hello_serves_a_request_with_a_body_and_shuts_down(self) -> None:
        runner = RunnerProcess(self, "app:application", "--threads", "2", "--window", "65536")
        hello = runner.next_frame()
        self.assertIsInstance(hello, f.Hello)
        self.assertEqual(hello.version, f.VERSION)
        self.assertEqual(runner.next_frame(), f.Ready(0, "wsgi"))

        runner.send(f.HttpRequest(5, True, "POST", "http", "1.1", b"/echo%20me", b"", b"",
                                  ("127.0.0.1", 40000), ("127.0.0.1", 8000),
                                  [(b"content-length", b"11")]),
                    f.HttpBody(5, True, b"hello "), f.HttpBody(5, False, b"world"))
        head = runner.next_response_frame()
        self.assertEqual(head, f.HttpResponse(5, 201, [(b"content-type", b"text/plain")]))
        body = runner.read_body()
        self.assertEqual(body, b"echo:hello world|/echo me")
        self.assertEqual(runner.next_log(), f.Log(0, "wsgi.errors", 0, "", "got 11 bytes\n"))

        runner.send(f.Shutdown(0))
        self.assertEqual(runner.wait_exit(), 0)

    def test_keeps_to_the_window_both_ways_over_a_real_socket(self) -> None:
        window = 65536
        runner = RunnerProcess(self, "app:upload_download", "--window", str(window))
        self.assertIsInstance(runner.next_frame(), f.Hello)
        self.assertIsInstance(runner.next_frame(), f.Ready)
        size = 2_000_000
        runner.send(f.HttpRequest(1, True, "POST", "http", "1.1", b"/", b"", b"", None, None, []))
        sent = uncredited = 0
        body = b""
        while sent < size:
            n = min(16384, size - sent, window - uncredited)
            if n:
                sent += n
                uncredited += n
                runner.send(f.HttpBody(1, sent < size, b"u" * n))
                continue
            credit = runner.next_frame()
            self.assertIsInstance(credit, f.Credit)
            uncredited -= credit.amount
            self.assertGreaterEqual(uncredited, 0)
        outstanding = 0
        while True:
            frame = runner.next_frame()
            if isinstance(frame, (f.Credit, f.HttpResponse)):
                continue
            self.assertIsInstance(frame, f.HttpResponseBody)
            outstanding += len(frame.body)
            self.assertLessEqual(outstanding, window)
            body += bytes(frame.body)
            if not frame.more:
                break
            runner.send(f.Credit(1, len(frame.body)))
            outstanding -= len(frame.body)
        self.assertEqual(len(body), size)
        self.assertEqual(body[100000:100001], bytes([1]))

    def test_exits_when_the_worker_closes_fd_3(self) -> None:
        runner = RunnerProcess(self, "app:application")
        self.assertIsInstance(runner.next_frame(), f.Hello)
        self.assertIsInstance(runner.next_frame(), f.Ready)
        runner.sock.shutdown(socket.SHUT_WR)
        self.assertEqual(runner.wait_exit(), 0)

    def test_an_app_that_fails_to_import_is_fatal_with_exit_code_4(self) -> None:
        runner = RunnerProcess(self, "broken:application")
        self.assertIsInstance(runner.next_frame(), f.Hello)
        fatal = runner.next_frame()
        self.assertIsInstance(fatal, f.Fatal)
        self.assertEqual(fatal.exit_code, 4)
        self.assertIn("RuntimeError: settings missing", fatal.message)
        self.assertIn("broken.py", fatal.message)
        self.assertNotIn("bicorn_runner", fatal.message)
        self.assertEqual(runner.wait_exit(), 4)

    def test_serves_an_asgi_app_and_finishes_its_request_after_shutdown(self) -> None:
        runner = RunnerProcess(self, "app:asgi_app", "--window", "65536")
        self.assertIsInstance(runner.next_frame(), f.Hello)
        self.assertEqual(runner.next_frame(), f.Ready(0, "asgi"))
        runner.send(f.HttpRequest(3, True, "POST", "http", "1.1", b"/up%20load", b"", b"", None,
                                  None, [(b"content-length", b"11")]),
                    f.HttpBody(3, True, b"hello "), f.Shutdown(0))
        runner.send(f.HttpBody(3, False, b"world"))
        self.assertEqual(runner.next_response_frame(), f.HttpResponse(3, 201, [(b"content-type", b"text/plain")]))
        body = runner.read_body()
        self.assertEqual(body, b"echo:hello world|/up load")
        self.assertEqual(runner.wait_exit(), 0)

    def test_serves_an_asgi_2_double_callable_when_told_the_interface(self) -> None:
        runner = RunnerProcess(self, "app:asgi2_app", "--interface", "asgi")
        self.assertIsInstance(runner.next_frame(), f.Hello)
        self.assertEqual(runner.next_frame(), f.Ready(0, "asgi"))
        runner.send(f.HttpRequest(1, False, "GET", "http", "1.1", b"/two", b"", b"", None, None,
                                  []))
        self.assertEqual(runner.next_frame(), f.HttpResponse(1, 200, []))
        self.assertEqual(runner.next_frame(), f.HttpResponseBody(1, False, b"asgi2 /two"))
        runner.sock.shutdown(socket.SHUT_WR)
        self.assertEqual(runner.wait_exit(), 0)

    def test_runs_the_lifespan_startup_before_ready_and_its_shutdown_after_the_streams(
            self) -> None:
        runner = RunnerProcess(self, "app:lifespan_app", "--lifespan", "on")
        self.assertIsInstance(runner.next_frame(), f.Hello)
        self.assertEqual(runner.next_frame(), f.Ready(0, "asgi"))
        runner.send(f.HttpRequest(1, False, "GET", "http", "1.1", b"/", b"", b"", None, None, []),
                    f.Shutdown(0))
        self.assertEqual(runner.next_frame(), f.HttpResponse(1, 200, []))
        self.assertEqual(runner.next_frame(),
                         f.HttpResponseBody(1, False, b"hello from startup"))
        self.assertEqual(runner.wait_exit(), 0)
        self.assertIn(f.Log(0, "stderr", 0, "", "lifespan shutdown ran\n"), runner.logged())

    def test_a_failed_lifespan_startup_is_fatal_with_exit_code_3(self) -> None:
        runner = RunnerProcess(self, "app:failing_startup")
        self.assertIsInstance(runner.next_frame(), f.Hello)
        self.assertEqual(runner.next_frame(), f.Fatal(0, 3, "database unreachable"))
        self.assertEqual(runner.wait_exit(), 3)

    def test_lifespan_off_never_runs_it(self) -> None:
        runner = RunnerProcess(self, "app:failing_startup", "--lifespan", "off")
        self.assertIsInstance(runner.next_frame(), f.Hello)
        self.assertEqual(runner.next_frame(), f.Ready(0, "asgi"))

    def test_an_app_without_lifespan_gets_one_info_notice_of_the_runner(self) -> None:
        runner = RunnerProcess(self, "app:asgi2_app", "--interface", "asgi")
        self.assertIsInstance(runner.next_frame(), f.Hello)
        self.assertEqual(runner.next_frame(), f.Ready(0, "asgi"))
        runner.sock.shutdown(socket.SHUT_WR)
        self.assertEqual(runner.wait_exit(), 0)
        logged = runner.logged()
        self.assertEqual([(log.source, log.level) for log in logged], [("runner", 20)], logged)
        self.assertIn("ASGI lifespan unsupported", logged[0].text)
        self.assertEqual(runner.process.stderr.read(), b"")

    def loop_module(self, *args: str) -> str:
        """The module of the class of the loop the app runs on, with these runner options."""
        runner = RunnerProcess(self, "app:loop_app", *args)
        self.assertIsInstance(runner.next_frame(), f.Hello)
        self.assertEqual(runner.next_frame(), f.Ready(0, "asgi"))
        runner.send(f.HttpRequest(1, False, "GET", "http", "1.1", b"/", b"", b"", None, None, []),
                    f.Shutdown(0))
        self.assertIsInstance(runner.next_frame(), f.HttpResponse)
        module = runner.read_body().decode()
        self.assertEqual(runner.wait_exit(), 0)
        return module

    # packages/python/test/runner-unittest.test.ts runs this one with .venv's python, which
    # has uvloop (pnpm python:setup).
    @unittest.skipIf(importlib.util.find_spec("uvloop") is None, "uvloop is not installed here")
    def test_runs_the_app_on_uvloop_with_loop_uvloop_or_auto_and_on_asyncio_when_asked(
            self) -> None:
        self.assertEqual(self.loop_module("--loop", "uvloop"), "uvloop")
        self.assertEqual(self.loop_module(), "uvloop")
        self.assertTrue(self.loop_module("--loop", "asyncio").startswith("asyncio."))

    @unittest.skipIf(importlib.util.find_spec("uvloop") is not None, "uvloop is installed here")
    def test_loop_auto_without_uvloop_runs_the_app_on_asyncio(self) -> None:
        self.assertTrue(self.loop_module().startswith("asyncio."))

    @unittest.skipIf(importlib.util.find_spec("uvloop") is not None, "uvloop is installed here")
    def test_loop_uvloop_without_uvloop_is_fatal_with_exit_code_2(self) -> None:
        runner = RunnerProcess(self, "app:asgi_app", "--loop", "uvloop")
        self.assertIsInstance(runner.next_frame(), f.Hello)
        fatal = runner.next_frame()
        self.assertEqual(fatal.exit_code, 2)
        self.assertIn("uvloop is not installed in", fatal.message)
        self.assertIn("--loop asyncio", fatal.message)
        self.assertEqual(runner.wait_exit(), 2)

    def test_echoes_on_a_websocket_and_drains_it_at_shutdown(self) -> None:
        runner = RunnerProcess(self, "app:ws_echo", "--window", "65536")
        self.assertIsInstance(runner.next_frame(), f.Hello)
        self.assertEqual(runner.next_frame(), f.Ready(0, "asgi"))
        runner.send(f.WsConnect(3, "GET", "ws", "1.1", b"/echo", b"", b"", None, None,
                                [(b"sec-websocket-protocol", b"rev")]))
        self.assertEqual(runner.next_frame(), f.WsAccept(3, "rev", []))
        runner.send(f.WsMessage(3, True, True, b"hel"), f.WsMessage(3, False, True, b"lo"),
                    f.Shutdown(0))
        self.assertEqual(runner.next_response_frame(), f.WsMessage(3, False, True, b"olleh"))
        # SHUTDOWN waits for the connection; the worker closes it (1001 when it drains).
        runner.send(f.WsClose(3, 1001, ""))
        self.assertEqual(runner.wait_exit(), 0)
        self.assertIn(f.Log(0, "stderr", 0, "", "disconnect 1001\n"), runner.logged())

    def test_writes_a_large_response_whole_before_it_exits_after_shutdown(self) -> None:
        size = 256 * 32 * 1024
        runner = RunnerProcess(self, "app:big_body", "--window", str(2 * size))
        self.assertIsInstance(runner.next_frame(), f.Hello)
        self.assertEqual(runner.next_frame(), f.Ready(0, "asgi"))
        runner.send(f.HttpRequest(1, False, "GET", "http", "1.1", b"/", b"", b"", None, None, []),
                    f.Shutdown(0))
        self.assertEqual(runner.next_frame(), f.HttpResponse(1, 200, []))
        body = runner.read_body()
        self.assertEqual(len(body), size)
        self.assertEqual(body, bytes(range(256)) * 32 * 1024)
        self.assertEqual(runner.wait_exit(), 0)

    def test_prints_the_stacks_of_an_asgi_apps_tasks_on_sigusr2(self) -> None:
        runner = RunnerProcess(self, "app:await_forever")
        self.assertIsInstance(runner.next_frame(), f.Hello)
        self.assertEqual(runner.next_frame(), f.Ready(0, "asgi"))
        runner.send(f.HttpRequest(1, False, "GET", "http", "1.1", b"/", b"", b"", None, None, []))
        self.assertEqual(runner.next_frame(), f.HttpResponse(1, 200, []))
        self.assertEqual(runner.next_frame(), f.HttpResponseBody(1, True, b"waiting"))
        runner.process.send_signal(signal.SIGUSR2)
        dump = runner.stderr_until(b"in await_forever")
        self.assertIn(b"Stack for <Task", dump)
        self.assertIsNone(runner.process.poll())

    def test_a_process_the_app_starts_does_not_inherit_a_blocked_signal(self) -> None:
        runner = RunnerProcess(self, "app:child_signal_mask")
        self.assertIsInstance(runner.next_frame(), f.Hello)
        self.assertEqual(runner.next_frame(), f.Ready(0, "wsgi"))
        runner.send(f.HttpRequest(1, False, "GET", "http", "1.1", b"/", b"", b"", None, None, []))
        self.assertEqual(runner.next_frame(), f.HttpResponse(1, 200, []))
        self.assertEqual(runner.read_body(), b"[]\n")

    def test_sends_each_print_traceback_and_log_record_of_the_app_as_one_log_frame(self) -> None:
        runner = RunnerProcess(self, "loud:application")
        self.assertIsInstance(runner.next_frame(), f.Hello)
        self.assertEqual(runner.next_log(), f.Log(0, "stdout", 0, "", "loading loud\n"))
        self.assertEqual(runner.next_frame(), f.Ready(0, "wsgi"))
        runner.send(f.HttpRequest(1, False, "GET", "http", "1.1", b"/", b"", b"", None, None, []))
        self.assertEqual(runner.next_frame(), f.HttpResponse(1, 200, []))
        self.assertEqual(runner.read_body(), b"logged")
        printed, record, crashed = runner.next_log(), runner.next_log(), runner.next_log()
        self.assertEqual((printed.source, printed.level), ("stderr", 0))
        self.assertRegex(printed.text, r"^Traceback \(most recent call last\):\n(.*\n)+KeyError: 'missing'\n$")
        self.assertEqual(record, f.Log(0, "stderr", 30, "shop", "stock low:\n  sku 7\n"))
        self.assertRegex(crashed.text, r"^Exception in thread doomed:\n(.*\n)+ZeroDivisionError: division by zero\n$")

    def test_a_bad_command_line_is_fatal_with_exit_code_2(self) -> None:
        runner = RunnerProcess(self, "app:application", "--threads", "zero")
        self.assertIsInstance(runner.next_frame(), f.Hello)
        fatal = runner.next_frame()
        self.assertEqual(fatal.exit_code, 2)
        self.assertIn("--threads", fatal.message)
        self.assertEqual(runner.wait_exit(), 2)


if __name__ == "__main__":
    unittest.main()
