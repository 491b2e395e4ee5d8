# The ASGI lifespan of an app: startup before READY, shutdown after the last stream; runs as a
# task on the runner's event loop.
from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, Optional, Tuple

from .app_traceback import format_app_exception
from .asgi_call import AsgiApp
from .asgi_events import describe
from .log_pipe import runner_says

# A worker that cannot boot: the app's lifespan startup failed.
EXIT_LIFESPAN = 3

SCOPE_ASGI = {"version": "3.0", "spec_version": "2.0"}

_STARTUP_EVENTS = ("lifespan.startup.complete", "lifespan.startup.failed")
_SHUTDOWN_EVENTS = ("lifespan.shutdown.complete", "lifespan.shutdown.failed")


class LifespanFailed(Exception):
    """The app's startup failed: message is what it said, or its traceback."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# What the app's lifespan task did, in the order it did it: ("sent", event), then at its end
# ("returned", None) or ("raised", error).
Outcome = Tuple[str, Any]


class Lifespan:
    """One lifespan scope. Both methods run on the loop; startup() first, shutdown() once the
    streams are done. An app found not to speak lifespan (mode auto) is left alone after that."""

    def __init__(self, app: AsgiApp, state: Dict[str, Any]) -> None:
        self._app = app
        self._state = state
        self._task: Optional["asyncio.Task[None]"] = None
        self._inbox: "Optional[asyncio.Queue[Dict[str, Any]]]" = None
        self._outcomes: "Optional[asyncio.Queue[Outcome]]" = None
        self._expected: Tuple[str, ...] = _STARTUP_EVENTS
        # Whether the app sent a lifespan event at all: then it speaks lifespan, even if badly.
        # (An app that ignores the scope's type sends HTTP events, which fail it in send().)
        self._spoke = False
        # An app may return after its startup; only one that took lifespan.shutdown owes an answer.
        self._shutdown_received = False

    async def startup(self, required: bool) -> None:
        """Returns once the app's startup completed or the app turned out not to support
        lifespan (only when not required); raises LifespanFailed otherwise."""
        # Created here, on the loop: on Python 3.9 a queue binds the loop it is created on.
        self._inbox = asyncio.Queue()
        self._outcomes = asyncio.Queue()
        self._inbox.put_nowait({"type": "lifespan.startup"})
        scope = {"type": "lifespan", "asgi": dict(SCOPE_ASGI), "state": self._state}
        self._task = asyncio.ensure_future(self._run(scope))
        kind, value = await self._outcomes.get()
        if kind == "sent":
            if value["type"] == "lifespan.startup.failed":
                raise LifespanFailed(value.get("message") or "lifespan.startup.failed")
            return
        if kind == "raised" and self._spoke:
            raise LifespanFailed(format_app_exception(value))
        if required:
            raise LifespanFailed(format_app_exception(value) if kind == "raised" else
                                 "the app returned from its lifespan scope without sending "
                                 "lifespan.startup.complete (--lifespan on)")
        self._task = None
        why = f"it raised {_one_line(value)}" if kind == "raised" else "it returned at once"
        # Logged at info level: it is no warning.
        runner_says(logging.INFO, f"ASGI lifespan unsupported by the app ({why}); serving "
                                  f"without it (--lifespan on would make this an error)")

    async def shutdown(self) -> None:
        """Sends lifespan.shutdown and waits for the app's answer; a failure is logged, since
        the runner exits 0 either way."""
        if self._task is None or self._inbox is None or self._outcomes is None:
            return
        if not self._task.done():
            self._expected = _SHUTDOWN_EVENTS
            self._inbox.put_nowait({"type": "lifespan.shutdown"})
        kind, value = await self._outcomes.get()
        if kind == "sent" and value["type"] == "lifespan.shutdown.failed":
            _log(f"lifespan.shutdown.failed: {value.get('message') or '(no message)'}")
        elif kind == "raised":
            _log("Exception in the app's ASGI lifespan:\n" + format_app_exception(value))
        elif kind == "returned" and self._shutdown_received:
            _log("the app's lifespan returned without sending lifespan.shutdown.complete")

    async def _run(self, scope: Dict[str, Any]) -> None:
        assert self._outcomes is not None
        try:
            await self._app(scope, self._receive, self._send)
        # Whatever the app raises ends its lifespan alone: SystemExit must not stop the loop.
        except BaseException as error:
            self._outcomes.put_nowait(("raised", error))
        else:
            self._outcomes.put_nowait(("returned", None))

    async def _receive(self) -> Dict[str, Any]:
        assert self._inbox is not None
        event = await self._inbox.get()
        self._shutdown_received = event["type"] == "lifespan.shutdown"
        return event

    async def _send(self, message: Any) -> None:
        assert self._outcomes is not None
        kind = message.get("type") if isinstance(message, dict) else None
        self._spoke = self._spoke or str(kind).startswith("lifespan.")
        if kind not in self._expected:
            expected = " or ".join(map(repr, self._expected)) or "no event until lifespan.shutdown"
            raise ValueError(f"lifespan send: got {describe(message)}; expected {expected}")
        message_text = message.get("message", "")
        if kind.endswith(".failed") and not isinstance(message_text, (str, type(None))):
            raise TypeError(f"{kind}: 'message' must be a str, got {describe(message_text)}")
        self._outcomes.put_nowait(("sent", message))
        # The answer to one phase: nothing more is expected until the next phase starts.
        self._expected = ()


def _one_line(error: BaseException) -> str:
    text = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    return " ".join(text.split())[:300]


def _log(message: str) -> None:
    runner_says(logging.ERROR, message.rstrip("\n"))
