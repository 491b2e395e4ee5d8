# The WSGI app's threads: `threads` threads taking requests off one queue (runner process). Lighter
# than concurrent.futures' pool, whose future, work item and semaphore per call cost about a
# tenth of a hello-world request, for results nobody reads.
from __future__ import annotations

import logging
import queue
import threading
import traceback
from typing import Any, Callable, List, Optional, Tuple

from .log_pipe import runner_says

Work = Optional[Tuple[Callable[[Any], None], Any]]


class ThreadPool:
    def __init__(self, threads: int, name: str) -> None:
        self._queue: "queue.SimpleQueue[Work]" = queue.SimpleQueue()
        self._threads: List[threading.Thread] = [
            threading.Thread(target=self._work, name=f"{name}-{index}", daemon=True)
            for index in range(threads)]
        for thread in self._threads:
            thread.start()

    def submit(self, handler: Callable[[Any], None], item: Any) -> None:
        """Runs handler(item) on the first free thread; from any thread, never blocking."""
        self._queue.put((handler, item))

    def shutdown(self) -> None:
        """Lets every thread finish what it has, then joins them."""
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join()

    def _work(self) -> None:
        while True:
            work = self._queue.get()
            if work is None:
                return
            call(*work)


def call(handler: Callable[[Any], None], item: Any) -> None:
    """handler(item), a bug of the runner's in it reported: the handler reports the app's errors
    itself, and the thread must live on for the next request."""
    try:
        handler(item)
    except BaseException:
        runner_says(logging.ERROR, "internal error in a WSGI call:\n" + traceback.format_exc())
