# Tests of the event a stream's waits share on the runner's loop (asgi_waiter._Changed), and of
# StreamWaiter.until, woken from the reader thread or the loop.
from __future__ import annotations

import asyncio
import threading
import unittest
from typing import Callable, Optional

from bicorn_runner.asgi_waiter import StreamWaiter, _Changed


class ChangedTest(unittest.TestCase):
    def test_one_set_wakes_every_wait_and_a_set_event_does_not_wait(self) -> None:
        async def scenario() -> None:
            changed = _Changed(asyncio.get_running_loop())
            first = asyncio.ensure_future(changed.wait())
            second = asyncio.ensure_future(changed.wait())
            await asyncio.sleep(0)
            self.assertFalse(first.done() or second.done())
            changed.set()
            await asyncio.wait_for(asyncio.gather(first, second), 5)
            await asyncio.wait_for(changed.wait(), 5)
            changed.clear()
            late = asyncio.ensure_future(changed.wait())
            await asyncio.sleep(0)
            self.assertFalse(late.done())
            late.cancel()

        asyncio.run(scenario())

    def test_a_cancelled_wait_leaves_nothing_behind(self) -> None:
        async def scenario() -> None:
            changed = _Changed(asyncio.get_running_loop())
            for _ in range(3):
                with self.assertRaises(asyncio.TimeoutError):
                    await asyncio.wait_for(changed.wait(), 0.01)
            self.assertEqual(changed._waiters, [])
            kept = asyncio.ensure_future(changed.wait())
            await asyncio.sleep(0)
            changed.set()
            await asyncio.wait_for(kept, 5)

        asyncio.run(scenario())


class FakeStream:
    """What StreamWaiter needs of a stream: a waker to set. `on_waker` runs as it is set."""

    def __init__(self) -> None:
        self.ready = False
        self.waker: Optional[Callable[[], None]] = None
        self.on_waker: Optional[Callable[[], None]] = None

    def set_waker(self, wake: Callable[[], None]) -> None:
        self.waker = wake
        if self.on_waker is not None:
            self.on_waker()


class UntilTest(unittest.TestCase):
    def test_sees_a_change_made_before_the_stream_had_a_waker(self) -> None:
        async def scenario() -> None:
            stream = FakeStream()
            waiter = StreamWaiter(stream, asyncio.get_running_loop())

            def fed_before_the_waker() -> None:
                # The reader thread's frame landed after the first check, and woke nothing.
                stream.ready = True
            stream.on_waker = fed_before_the_waker
            await asyncio.wait_for(waiter.until(lambda: stream.ready), 5)

        asyncio.run(scenario())

    def test_a_wake_from_the_reader_thread_ends_the_wait_and_an_old_one_does_not(self) -> None:
        async def scenario() -> None:
            stream = FakeStream()
            waiter = StreamWaiter(stream, asyncio.get_running_loop())
            checks = 0

            def ready() -> bool:
                nonlocal checks
                checks += 1
                return stream.ready

            def feed() -> None:
                stream.ready = True
                assert stream.waker is not None
                stream.waker()
            waiting = asyncio.ensure_future(waiter.until(ready))
            await asyncio.sleep(0)
            self.assertFalse(waiting.done())
            reader = threading.Thread(target=feed)
            reader.start()
            await asyncio.wait_for(waiting, 5)
            reader.join()
            # Woken once more for nothing new (a credit): the next wait still waits.
            stream.ready = False
            stream.waker()
            await asyncio.sleep(0)
            later = asyncio.ensure_future(waiter.until(ready))
            # Turns of the loop, for the wait to begin and for a wrong wake to end it.
            for _ in range(3):
                await asyncio.sleep(0)
            self.assertFalse(later.done())
            before = checks
            reader = threading.Thread(target=feed)
            reader.start()
            await asyncio.wait_for(later, 5)
            reader.join()
            self.assertEqual(checks, before + 1)

        asyncio.run(scenario())
