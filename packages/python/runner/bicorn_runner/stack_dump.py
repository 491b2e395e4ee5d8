# SIGUSR2 makes the runner print where the app is: every thread's stack (faulthandler, which
# works even while a thread holds the GIL in C code) and, for an ASGI app, every task's stack.
# The worker sends it when a request times out and logs the dump as one entry (runner process).
from __future__ import annotations

import asyncio
import faulthandler
import signal
import sys
import traceback
from typing import Any, Callable, List, Optional

DUMP_SIGNAL = signal.SIGUSR2
# The longest the main thread waits in one go: Python runs a signal's handler there only between
# two bytecodes, and a thread blocked on a lock may not see the signal another thread took.
MAIN_WAIT_S = 0.25


def install(print_tasks: Optional[Callable[[], None]] = None) -> None:
    """Call on the main thread. Any thread may take the signal: faulthandler dumps from there,
    then chains to Python's handler, which runs print_tasks on the main thread, so the main
    thread must never wait without a timeout (Dispatcher.wait_for_shutdown, AsgiServer.run).
    The signal is not blocked anywhere instead: a mask would pass to every process the app
    starts."""
    if print_tasks is not None:
        signal.signal(DUMP_SIGNAL, lambda _signum, _frame: print_tasks())
    # faulthandler writes to the file's descriptor, fd 2, raw: the worker reads it line by line.
    faulthandler.register(DUMP_SIGNAL, file=sys.__stderr__, all_threads=True,
                          chain=print_tasks is not None)


def format_task(task: "asyncio.Task[Any]") -> str:
    """The task's stack down its await chain, where asyncio's own print_stack shows only the
    outermost coroutine: so a timed-out request shows the line of the app it waits on."""
    frames: List[Any] = []
    awaited: Any = task.get_coro()
    while awaited is not None:
        frame = getattr(awaited, "cr_frame", None) or getattr(awaited, "gi_frame", None)
        if frame is None:
            break
        frames.append((frame, frame.f_lineno))
        awaited = getattr(awaited, "cr_await", None) or getattr(awaited, "gi_yieldfrom", None)
    lines = traceback.StackSummary.extract(iter(frames)).format()
    return f"Stack for <Task {task.get_name()}> (most recent call last):\n{''.join(lines)}"
