# Tests of the event a stream's waits share on the runner's loop (asgi_waiter._Changed).
from __future__ import annotations

import asyncio
import unittest

from bicorn_runner.asgi_waiter import _Changed


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
