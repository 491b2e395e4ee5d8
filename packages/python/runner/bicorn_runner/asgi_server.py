# The runner's event loop for ASGI apps: one thread, a task per request, and the wait for them
# all at shutdown (runner process).
from __future__ import annotations

import asyncio
import concurrent.futures
import sys
import threading
from typing import Any, Callable, Coroutine, Dict, Optional, Set

from . import stack_dump
from .asgi_call import AsgiApp, AsgiCall
from .asgi_websocket import WebSocketCall
from .lent_websocket import WebSocketSettings
from .streams import Stream
from .websocket_stream import WebSocketStream


class LoopUnavailable(Exception):
    """--loop uvloop where uvloop cannot be imported: a usage error."""


def new_event_loop(kind: str) -> asyncio.AbstractEventLoop:
    """kind is --loop: "auto" takes uvloop when the app's environment has it, "uvloop" requires
    it, "asyncio" never tries it."""
    if kind != "asyncio":
        try:
            import uvloop
        except ImportError:
            if kind == "uvloop":
                raise LoopUnavailable(f"uvloop is not installed in {sys.executable}; pip install "
                                      f"uvloop or use --loop asyncio") from None
        else:
            loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
            return loop
    return asyncio.new_event_loop()


def as_asgi3(app: Any) -> AsgiApp:
    """An ASGI 2 double-callable (app(scope) returns the coroutine function), as uvicorn's
    ASGI2Middleware adapts it."""
    async def asgi3(scope: Any, receive: Any, send: Any) -> None:
        instance = app(scope)
        await instance(receive, send)
    return asgi3


_EAGER_TASKS = sys.version_info >= (3, 12)


def _start_task(loop: asyncio.AbstractEventLoop,
                call: Coroutine[Any, Any, None]) -> "asyncio.Task[None]":
    """A task for one request or connection, run at once up to its first wait where Python has
    eager tasks (3.12): a request whose app answers without waiting, as most do, then costs no
    turn of the loop to start (floor/runner_loop.py on 3.12: 23.0 -> 20.3 µs a request). Unlike
    a coroutine stepped by hand, an eager task is the current task from its first step, as
    anyio's cancel scopes need. Only the runner's own tasks start so: the app's create_task
    keeps its usual order."""
    if _EAGER_TASKS:
        return asyncio.Task(call, loop=loop, eager_start=True)
    return loop.create_task(call)


class AsgiServer:
    def __init__(self, app: AsgiApp, loop: str = "auto",
                 state: Optional[Dict[str, Any]] = None) -> None:
        self._app = app
        # The lifespan's state, which every scope gets a shallow copy of.
        self._state = state if state is not None else {}
        self.loop = new_event_loop(loop)
        self._tasks: Set["asyncio.Task[None]"] = set()
        # Set when the worker lends client sockets: a WebSocket may then run on its own.
        self.websocket_lending: Optional[WebSocketSettings] = None
        self._thread = threading.Thread(target=self._run, name="bicorn-asgi-loop", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def submit(self, handler: Callable[[Any], Any], stream: Any) -> None:
        """The dispatcher's submit: runs handler(stream) on the loop, now when called there."""
        if threading.get_ident() == self._thread.ident:
            handler(stream)
        else:
            self.loop.call_soon_threadsafe(handler, stream)

    def handle(self, stream: Stream) -> None:
        """Starts the app's task for one HTTP stream; runs on the loop."""
        self._start(AsgiCall(stream, self.loop, self._state).run(self._app))

    def handle_websocket(self, stream: WebSocketStream) -> None:
        """Starts the app's task for one WebSocket stream; runs on the loop."""
        self._start(WebSocketCall(stream, self.loop, self._state,
                                  self.websocket_lending).run(self._app))

    def _start(self, call: Coroutine[Any, Any, None]) -> None:
        task = _start_task(self.loop, call)
        if task.done():
            # It ran to its end at once (an eager start): nothing to keep.
            return
        # The loop holds tasks weakly: the set keeps each alive until it is done.
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def print_tasks(self) -> None:
        """Prints every task's stack to fd 2, from the loop; from any thread. A blocked loop
        prints nothing: the threads' stacks show where it is stuck. Written raw beside
        faulthandler's dump of the threads, which the worker logs with it as one entry."""
        def print_all() -> None:
            for task in list(self._tasks):
                sys.__stderr__.write(stack_dump.format_task(task))
            sys.__stderr__.flush()
        if not self.loop.is_closed():
            self.loop.call_soon_threadsafe(print_all)

    def close(self) -> None:
        """Waits for every task (an app may go on after its response, as background tasks do),
        then stops the loop and its thread."""
        self.run(self.drain())
        self.destroy()

    def destroy(self) -> None:
        """Stops the loop now, whatever its tasks are doing."""
        if self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join()
        self.loop.close()

    def run(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        """Runs a coroutine on the loop from another thread, and returns its result. It waits in
        short steps, so that on the main thread a stack dump's handler runs meanwhile."""
        future = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        while not future.done():
            concurrent.futures.wait((future,), stack_dump.MAIN_WAIT_S)
        return future.result()

    async def drain(self) -> None:
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()
