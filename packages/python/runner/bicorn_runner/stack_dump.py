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


def hold() -> None:
    """Blocks the signal in this thread and so in every thread it starts from now on: only the
    main thread, which unblocks it in install(), can then take it, and a Python handler runs
    only there (a signal taken by another thread would leave it waiting)."""
    signal.pthread_sigmask(signal.SIG_BLOCK, {DUMP_SIGNAL})


def install(print_tasks: Optional[Callable[[], None]] = None) -> None:
    """Call on the main thread, once the threads that serve are started."""
    if print_tasks is not None:
        signal.signal(DUMP_SIGNAL, lambda _signum, _frame: print_tasks())
    faulthandler.register(DUMP_SIGNAL, file=sys.stderr, all_threads=True,
                          chain=print_tasks is not None)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {DUMP_SIGNAL})


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
