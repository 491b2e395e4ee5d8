import contextlib
import io
import threading
import unittest

from bicorn_runner.wsgi_pool import ThreadPool


class ThreadPoolTest(unittest.TestCase):
    def test_runs_each_item_on_one_of_its_threads_and_shutdown_waits_for_them(self) -> None:
        done = []
        names = set()
        lock = threading.Lock()

        def handler(item: int) -> None:
            with lock:
                done.append(item)
                names.add(threading.current_thread().name)

        pool = ThreadPool(2, "test-pool")
        for item in range(50):
            pool.submit(handler, item)
        pool.shutdown()
        self.assertEqual(sorted(done), list(range(50)))
        self.assertTrue(names <= {"test-pool-0", "test-pool-1"})

    def test_a_handler_that_raises_is_reported_and_its_thread_goes_on(self) -> None:
        done = []

        def handler(item: int) -> None:
            if item == 0:
                raise RuntimeError("a bug")
            done.append(item)

        errors = io.StringIO()
        with contextlib.redirect_stderr(errors):
            pool = ThreadPool(1, "test-pool")
            pool.submit(handler, 0)
            pool.submit(handler, 1)
            pool.shutdown()
        self.assertEqual(done, [1])
        self.assertIn("RuntimeError: a bug", errors.getvalue())


if __name__ == "__main__":
    unittest.main()
