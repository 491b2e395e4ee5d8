import asyncio
import unittest

from bicorn_runner.stack_dump import format_task


async def innermost():
    await asyncio.sleep(3600)


async def middle():
    await innermost()


class FormatTaskTest(unittest.TestCase):
    def test_follows_the_await_chain_down_to_the_line_that_waits(self):
        async def main():
            task = asyncio.get_running_loop().create_task(middle(), name="the-request")
            await asyncio.sleep(0)
            text = format_task(task)
            task.cancel()
            return text

        text = asyncio.run(main())
        self.assertTrue(text.startswith("Stack for <Task the-request> (most recent call last):\n"))
        self.assertLess(text.index("in middle"), text.index("in innermost"))
        self.assertIn("await asyncio.sleep(3600)", text)


if __name__ == "__main__":
    unittest.main()
