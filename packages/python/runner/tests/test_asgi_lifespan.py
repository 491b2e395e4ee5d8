# Tests of the ASGI lifespan in the runner: startup before READY, shutdown after the streams,
# apps that do not speak lifespan, and failures.
from __future__ import annotations

import contextlib
import io
import unittest
from typing import Any, List

from bicorn_runner.asgi_lifespan import Lifespan, LifespanFailed
from bicorn_runner.asgi_server import AsgiServer


class LifespanHarness:
    """A Lifespan on a real loop thread, driven from the test's thread."""

    def __init__(self, test: unittest.TestCase, app: Any) -> None:
        self.state: dict = {}
        self.lifespan = Lifespan(app, self.state)
        self.server = AsgiServer(app, "asyncio", self.state)
        self.server.start()
        test.addCleanup(self.server.destroy)
        self.stderr = io.StringIO()

    def startup(self, required: bool = False) -> None:
        with contextlib.redirect_stderr(self.stderr):
            self.server.run(self.lifespan.startup(required))

    def shutdown(self) -> None:
        with contextlib.redirect_stderr(self.stderr):
            self.server.run(self.lifespan.shutdown())


def full_lifespan(log: List[str], shutdown_event: str = "lifespan.shutdown.complete"):
    async def app(scope, receive, send):
        assert scope["type"] == "lifespan"
        log.append((await receive())["type"])
        scope["state"]["pool"] = "open"
        await send({"type": "lifespan.startup.complete"})
        log.append((await receive())["type"])
        await send({"type": shutdown_event, "message": "pool stuck"})
        log.append("returned")
    return app


class StartupTest(unittest.TestCase):
    def test_runs_startup_and_shutdown_and_keeps_the_state(self) -> None:
        log: List[str] = []
        harness = LifespanHarness(self, full_lifespan(log))
        harness.startup()
        self.assertEqual(log, ["lifespan.startup"])
        self.assertEqual(harness.state, {"pool": "open"})
        harness.shutdown()
        self.assertEqual(log, ["lifespan.startup", "lifespan.shutdown", "returned"])
        self.assertEqual(harness.stderr.getvalue(), "")

    def test_the_scope_has_the_lifespan_fields(self) -> None:
        scopes = []

        async def app(scope, receive, send):
            scopes.append(scope)
            await receive()
            await send({"type": "lifespan.startup.complete"})

        harness = LifespanHarness(self, app)
        harness.startup()
        self.assertEqual(scopes, [{"type": "lifespan",
                                   "asgi": {"version": "3.0", "spec_version": "2.0"},
                                   "state": {}}])
        self.assertIs(scopes[0]["state"], harness.state)

    def test_startup_failed_fails_with_the_apps_message(self) -> None:
        async def app(scope, receive, send):
            await receive()
            await send({"type": "lifespan.startup.failed", "message": "database unreachable"})

        with self.assertRaises(LifespanFailed) as raised:
            LifespanHarness(self, app).startup()
        self.assertEqual(raised.exception.message, "database unreachable")

    def test_an_app_that_does_not_speak_lifespan_is_served_without_it_with_one_line(
            self) -> None:
        async def app(scope, receive, send):
            if scope["type"] != "http":
                raise ValueError(f"cannot handle {scope['type']}\nsecond line")

        harness = LifespanHarness(self, app)
        harness.startup()
        lines = harness.stderr.getvalue().splitlines()
        self.assertEqual(len(lines), 1)
        self.assertIn("ASGI lifespan unsupported", lines[0])
        self.assertIn("ValueError: cannot handle lifespan second line", lines[0])
        harness.shutdown()
        self.assertEqual(len(harness.stderr.getvalue().splitlines()), 1)

    def test_an_app_that_sends_http_events_on_the_lifespan_scope_does_not_speak_it(self) -> None:
        async def app(scope, receive, send):
            await send({"type": "http.response.start", "status": 200})

        harness = LifespanHarness(self, app)
        harness.startup()
        self.assertIn("lifespan send: got dict", harness.stderr.getvalue())

    def test_an_app_that_returns_at_once_does_not_speak_lifespan(self) -> None:
        async def app(scope, receive, send):
            return

        harness = LifespanHarness(self, app)
        harness.startup()
        self.assertIn("it returned at once", harness.stderr.getvalue())

    def test_with_lifespan_on_an_app_that_raises_fails_with_its_traceback(self) -> None:
        async def app(scope, receive, send):
            raise RuntimeError("no lifespan here")

        with self.assertRaises(LifespanFailed) as raised:
            LifespanHarness(self, app).startup(required=True)
        self.assertIn("RuntimeError: no lifespan here", raised.exception.message)
        self.assertIn("test_asgi_lifespan.py", raised.exception.message)
        self.assertNotIn("bicorn_runner", raised.exception.message)

    def test_with_lifespan_on_an_app_that_returns_at_once_fails(self) -> None:
        async def app(scope, receive, send):
            return

        with self.assertRaises(LifespanFailed) as raised:
            LifespanHarness(self, app).startup(required=True)
        self.assertIn("without sending lifespan.startup.complete", raised.exception.message)

    def test_an_app_that_sent_a_lifespan_event_then_raised_has_failed(self) -> None:
        async def app(scope, receive, send):
            await receive()
            await send({"type": "lifespan.shutdown.complete"})

        with self.assertRaises(LifespanFailed) as raised:
            LifespanHarness(self, app).startup()
        self.assertIn("expected 'lifespan.startup.complete' or 'lifespan.startup.failed'",
                      raised.exception.message)


class ShutdownTest(unittest.TestCase):
    def test_shutdown_failed_is_logged(self) -> None:
        harness = LifespanHarness(self, full_lifespan([], "lifespan.shutdown.failed"))
        harness.startup()
        harness.shutdown()
        self.assertIn("lifespan.shutdown.failed: pool stuck", harness.stderr.getvalue())

    def test_an_exception_in_shutdown_is_logged_with_its_traceback(self) -> None:
        async def app(scope, receive, send):
            await receive()
            await send({"type": "lifespan.startup.complete"})
            await receive()
            raise OSError("cannot flush")

        harness = LifespanHarness(self, app)
        harness.startup()
        harness.shutdown()
        self.assertIn("OSError: cannot flush", harness.stderr.getvalue())

    def test_an_app_that_returned_after_its_startup_shuts_down_quietly(self) -> None:
        async def app(scope, receive, send):
            await receive()
            await send({"type": "lifespan.startup.complete"})

        harness = LifespanHarness(self, app)
        harness.startup()
        harness.shutdown()
        self.assertEqual(harness.stderr.getvalue(), "")


if __name__ == "__main__":
    unittest.main()
