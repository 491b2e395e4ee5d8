# End-to-end tests of run.py with a gunicorn config (its worker-side server hooks), --log-config,
# --proc-name and --gevent, as a real process spoken to in frames.
from __future__ import annotations

import json
import os
import shutil
import signal
import tempfile
import textwrap
import threading
import time
import unittest
from typing import Any, Dict, List

from bicorn_runner import frames as f
from bicorn_runner.hook_objects import CONTEXT_VARIABLE

from .test_runner_process import RunnerProcess

CONFIG = """
    import json, os

    def _note(*what):
        with open(os.environ["HOOK_NOTES"], "a") as notes:
            notes.write(json.dumps(what) + "\\n")

    def post_fork(server, worker):
        _note("post_fork", worker.pid, worker.age, worker.ppid, server.pid, server.cfg.workers)

    def post_worker_init(worker):
        _note("post_worker_init", worker.booted, callable(worker.wsgi))

    def pre_request(worker, req):
        _note("pre_request", req.method, req.path)

    def post_request(worker, req, environ, resp):
        _note("post_request", resp.status_code, resp.sent)

    def worker_int(worker):
        _note("worker_int")

    def worker_abort(worker):
        _note("worker_abort", worker.aborted)

    def worker_exit(server, worker):
        _note("worker_exit", worker.alive)
"""

LOGGING_APP = """
    import logging

    logging.getLogger("app").info("imported")

    def application(environ, start_response):
        pass
"""

GEVENT_APP = """
    import os, threading

    wanted = int(os.environ.get("CONCURRENT", "1"))
    arrived = 0
    lock = threading.Lock()
    all_here = threading.Event()

    def wait_for_all(environ, start_response):
        # Answers only once every request is in the app at once: on one thread, the first
        # would wait alone.
        global arrived
        with lock:
            arrived += 1
            if arrived == wanted - 1:
                print("all but one are here", flush=True)
            if arrived == wanted:
                all_here.set()
        all_here.wait(30)
        start_response("200 OK" if all_here.is_set() else "503 Service Unavailable", [])
        return [b"together"]
"""


def _gevent_importable() -> bool:
    try:
        import gevent  # noqa: F401
    except ImportError:
        return False
    return True


class RunnerHooksTest(unittest.TestCase):
    def start(self, *args: str, config: str = CONFIG) -> RunnerProcess:
        notes = tempfile.NamedTemporaryFile(prefix="bicorn-hook-notes-", delete=False)
        notes.close()
        self.addCleanup(os.unlink, notes.name)
        self.notes = notes.name
        context = {"file": "gunicorn.conf.py", "masterPid": 4242, "age": 7,
                   "cfg": {"workers": 2}}
        # The config file is relative to the runner's working directory, as bicorn's chdir.
        return RunnerProcess(self, "app:application", "--config", "gunicorn.conf.py", *args,
                             files={"gunicorn.conf.py": config},
                             env={"HOOK_NOTES": notes.name, CONTEXT_VARIABLE: json.dumps(context)})

    def notes_dir_file(self, name: str) -> str:
        directory = tempfile.mkdtemp(prefix="bicorn-hooks-")
        self.addCleanup(shutil.rmtree, directory, True)
        return os.path.join(directory, name)

    def read_notes(self) -> List[Any]:
        with open(self.notes, encoding="utf-8") as notes:
            return [json.loads(line) for line in notes]

    def serve_one(self, runner: Any) -> None:
        self.assertIsInstance(runner.next_frame(), f.Hello)
        self.assertEqual(runner.next_frame(), f.Ready(0, "wsgi"))
        runner.send(f.HttpRequest(1, False, "GET", "http", "1.1", b"/hi", b"", b"", None, None,
                                  []))
        self.assertIsInstance(runner.next_response_frame(), f.HttpResponse)
        runner.read_body()
        # post_request runs on the pool's thread once the response is sent: a signal sent now
        # would race it.
        deadline = time.monotonic() + 10
        while not any(note[0] == "post_request" for note in self.read_notes()):
            self.assertLess(time.monotonic(), deadline, "post_request never ran")
            time.sleep(0.01)

    def test_runs_the_worker_hooks_in_order_with_the_python_process_as_the_worker(self) -> None:
        runner = self.start()
        self.serve_one(runner)
        runner.send(f.Shutdown(0))
        self.assertEqual(runner.wait_exit(), 0)
        self.assertEqual(self.read_notes(), [
            ["post_fork", runner.process.pid, 7, 4242, 4242, 2],
            ["post_worker_init", False, True],
            ["pre_request", "GET", "/hi"],
            ["post_request", 201, len(b"echo:|/hi")],
            ["worker_exit", False]])

    def test_a_fast_stop_runs_worker_int_then_worker_exit(self) -> None:
        runner = self.start()
        self.serve_one(runner)
        runner.process.send_signal(signal.SIGQUIT)
        self.assertEqual(runner.wait_exit(), 0)
        self.assertEqual(self.read_notes()[-2:], [["worker_int"], ["worker_exit", False]])

    def test_an_abort_runs_worker_abort_then_worker_exit_and_exits_1(self) -> None:
        runner = self.start()
        self.serve_one(runner)
        runner.process.send_signal(signal.SIGABRT)
        self.assertEqual(runner.wait_exit(), 1)
        self.assertEqual(self.read_notes()[-2:], [["worker_abort", True], ["worker_exit", False]])

    def test_a_post_fork_that_raises_stops_the_boot_with_exit_code_3(self) -> None:
        runner = self.start(config="def post_fork(server, worker):\n    raise OSError('no')\n")
        self.assertIsInstance(runner.next_frame(), f.Hello)
        fatal = runner.next_frame()
        self.assertIsInstance(fatal, f.Fatal)
        self.assertEqual(fatal.exit_code, 3)
        self.assertTrue(fatal.message.startswith("hook post_fork in gunicorn.conf.py raised:\n"))
        self.assertIn("OSError: no", fatal.message)
        self.assertEqual(runner.wait_exit(), 3)

    def test_a_config_that_fails_to_run_is_fatal_with_exit_code_2(self) -> None:
        runner = self.start(config="import no_such_module_for_bicorn\n")
        self.assertIsInstance(runner.next_frame(), f.Hello)
        fatal = runner.next_frame()
        self.assertEqual(fatal.exit_code, 2)
        self.assertIn("failed to run", fatal.message)
        self.assertIn("no_such_module_for_bicorn", fatal.message)

    def test_logconfig_dict_in_the_file_configures_the_apps_logging(self) -> None:
        log_file = self.notes_dir_file("app.log")
        runner = self.start(config=f"""
            logconfig_dict = {{
                "version": 1,
                "handlers": {{"file": {{"class": "logging.FileHandler",
                                       "filename": {log_file!r}}}}},
                "root": {{"handlers": ["file"], "level": "INFO"}},
            }}
            def post_worker_init(worker):
                import logging
                logging.getLogger("myapp").info("booted as %s", worker.age)
        """)
        self.assertIsInstance(runner.next_frame(), f.Hello)
        self.assertIsInstance(runner.next_frame(), f.Ready)
        with open(log_file, encoding="utf-8") as log:
            self.assertEqual(log.read(), "booted as 7\n")


class LogConfigTest(unittest.TestCase):
    def test_log_config_takes_json_and_ini(self) -> None:
        for name, text in (
            ("logging.json", json.dumps({
                "version": 1, "formatters": {"f": {"format": "JSON %(name)s %(message)s"}},
                "handlers": {"h": {"class": "logging.StreamHandler", "formatter": "f"}},
                "root": {"handlers": ["h"], "level": "INFO"}})),
            ("logging.ini", textwrap.dedent("""
                [loggers]
                keys=root
                [handlers]
                keys=h
                [formatters]
                keys=f
                [logger_root]
                level=INFO
                handlers=h
                [handler_h]
                class=StreamHandler
                formatter=f
                args=(sys.stderr,)
                [formatter_f]
                format=INI %(name)s %(message)s
            """)),
        ):
            with self.subTest(name):
                runner = RunnerProcess(self, "logging_app:application", "--log-config", name,
                                       files={name: text, "logging_app.py": LOGGING_APP})
                prefix = name.split(".")[1].upper()
                self.assertIsInstance(runner.next_frame(), f.Hello)
                self.assertIn(prefix + " app imported", runner.log_until("imported"))

    def test_a_missing_log_config_is_fatal_with_exit_code_2(self) -> None:
        runner = RunnerProcess(self, "app:application", "--log-config", "nope.json")
        self.assertIsInstance(runner.next_frame(), f.Hello)
        fatal = runner.next_frame()
        self.assertEqual((fatal.exit_code, fatal.message.split(":")[0]),
                         (2, "--log-config nope.json"))


class ProcTitleTest(unittest.TestCase):
    def test_proc_name_sets_the_title_ps_shows(self) -> None:
        runner = RunnerProcess(self, "app:application", "--proc-name", "shop")
        self.assertIsInstance(runner.next_frame(), f.Hello)
        self.assertIsInstance(runner.next_frame(), f.Ready)
        with open(f"/proc/{runner.process.pid}/comm", encoding="utf-8") as comm:
            self.assertEqual(comm.read().strip(), "bicorn: python")
        with open(f"/proc/{runner.process.pid}/cmdline", "rb") as cmdline:
            args = cmdline.read()
        try:
            import setproctitle  # noqa: F401
        except ImportError:
            self.assertIn(b"run.py", args)
        else:
            self.assertEqual(args.rstrip(b"\0"), b"bicorn: python [shop]")


class GeventTest(unittest.TestCase):
    def start(self, *args: str, env: Dict[str, str]) -> RunnerProcess:
        return RunnerProcess(self, "gevent_app:wait_for_all", "--gevent", *args,
                             files={"gevent_app.py": GEVENT_APP}, env=env)

    @unittest.skipIf(_gevent_importable(), "gevent is installed here")
    def test_without_gevent_the_runner_says_how_to_install_it_and_exits_2(self) -> None:
        runner = RunnerProcess(self, "app:application", "--gevent")
        self.assertIsInstance(runner.next_frame(), f.Hello)
        fatal = runner.next_frame()
        self.assertEqual(fatal.exit_code, 2)
        self.assertIn("pip install gevent", fatal.message)
        self.assertEqual(runner.wait_exit(), 2)

    @unittest.skipUnless(_gevent_importable(), "no gevent in this interpreter")
    def test_gevent_runs_worker_connections_requests_at_once_and_dumps_greenlets(self) -> None:
        count = 200
        runner = self.start("--worker-connections", str(count + 1),
                            env={"CONCURRENT": str(count)})
        self.assertIsInstance(runner.next_frame(), f.Hello)
        self.assertEqual(runner.next_frame(), f.Ready(0, "wsgi"))
        # All but the last are in the app, waiting for each other: their greenlets show.
        runner.send(*[f.HttpRequest(stream, False, "GET", "http", "1.1", b"/", b"", b"", None,
                                    None, []) for stream in range(1, count)])
        runner.log_until("all but one are here")
        runner.process.send_signal(signal.SIGUSR2)
        # Every greenlet's stack in one write to sys.stderr (LOG frames of 200K characters at
        # most); faulthandler's threads go to fd 2, raw.
        dump = runner.log_until("in wait_for_all")
        self.assertIn("Greenlets", dump)
        # The rest of a dump of 200 greenlets would fill the pipes and stop the runner.
        threading.Thread(target=runner.process.stderr.read, daemon=True).start()
        threading.Thread(target=runner.log.read, daemon=True).start()
        runner.send(f.HttpRequest(count, False, "GET", "http", "1.1", b"/", b"", b"", None, None,
                                  []))
        statuses = []
        while len(statuses) < count:
            frame = runner.next_response_frame()
            if isinstance(frame, f.HttpResponse):
                statuses.append(frame.status)
        self.assertEqual(set(statuses), {200})
        runner.send(f.Shutdown(0))
        self.assertEqual(runner.wait_exit(), 0)

    @unittest.skipUnless(_gevent_importable(), "no gevent in this interpreter")
    def test_gevent_refuses_an_asgi_app_with_exit_code_2(self) -> None:
        runner = RunnerProcess(self, "app:asgi_app", "--gevent")
        self.assertIsInstance(runner.next_frame(), f.Hello)
        fatal = runner.next_frame()
        self.assertEqual(fatal.exit_code, 2)
        self.assertIn("-k gevent serves WSGI apps", fatal.message)
