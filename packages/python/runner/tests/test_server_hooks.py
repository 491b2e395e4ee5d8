# End-to-end tests of run.py --server-hooks, the master's hook process, spoken to in JSON lines
# over a socketpair as fd 3, as the master does.
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import unittest
from typing import Any, Dict

from bicorn_runner.hook_objects import CONTEXT_VARIABLE

RUN_PY = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "run.py")
TIMEOUT = 15

CONFIG = """
    import json, os
    calls = []

    def _note(*what):
        with open(os.environ["HOOK_NOTES"], "a") as notes:
            notes.write(json.dumps(what) + "\\n")

    def on_starting(server):
        _note("on_starting", server.pid, server.cfg.workers, server.cfg.my_own_value)

    def pre_fork(server, worker):
        _note("pre_fork", worker.age, worker.pid)

    def child_exit(server, worker):
        calls.append(worker.pid)
        _note("child_exit", worker.pid, sorted(server.WORKERS), len(calls))

    def nworkers_changed(server, new_value, old_value):
        _note("nworkers_changed", new_value, old_value, server.num_workers)

    def when_ready(server):
        raise RuntimeError("cannot warm the cache")

    def post_fork(server, worker):
        raise AssertionError("worker-side hooks are not the master's")

    my_own_value = 17
"""


class HookProcess:
    def __init__(self, test: unittest.TestCase, config: str) -> None:
        self.dir = tempfile.mkdtemp(prefix="bicorn-server-hooks-")
        test.addCleanup(shutil.rmtree, self.dir, True)
        with open(os.path.join(self.dir, "gunicorn.conf.py"), "w", encoding="utf-8") as file:
            file.write(textwrap.dedent(config))
        self.notes = os.path.join(self.dir, "notes")
        self.sock, child = socket.socketpair()
        child_fd = child.fileno()
        context = {"file": "gunicorn.conf.py", "masterPid": 999, "cfg": {"workers": 3}}
        self.process = subprocess.Popen(
            [sys.executable, RUN_PY, "--server-hooks", "gunicorn.conf.py"], cwd=self.dir,
            stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, close_fds=False,
            preexec_fn=lambda: os.dup2(child_fd, 3),
            env={**os.environ, "HOOK_NOTES": self.notes, CONTEXT_VARIABLE: json.dumps(context)})
        child.close()
        test.addCleanup(self.close)
        self.sock.settimeout(TIMEOUT)
        self.lines = self.sock.makefile("rb")
        self.next_id = 0

    def read(self) -> Dict[str, Any]:
        return json.loads(self.lines.readline())

    def call(self, hook: str, **fields: Any) -> Dict[str, Any]:
        self.next_id += 1
        request = {"id": self.next_id, "hook": hook,
                   "server": {"numWorkers": 2, "workers": [{"pid": 501, "age": 1}]}, **fields}
        self.sock.sendall(json.dumps(request).encode() + b"\n")
        return self.read()

    def notes_read(self) -> Any:
        with open(self.notes, encoding="utf-8") as notes:
            return [json.loads(line) for line in notes]

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process.stderr.close()
        self.lines.close()
        self.sock.close()


class ServerHooksTest(unittest.TestCase):
    def test_calls_the_master_hooks_with_gunicorns_arguments_until_fd_3_closes(self) -> None:
        hooks = HookProcess(self, CONFIG)
        self.assertEqual(hooks.read(), {"hooks": ["child_exit", "nworkers_changed",
                                                  "on_starting", "pre_fork", "when_ready"]})
        self.assertEqual(hooks.call("on_starting"), {"id": 1, "ok": True})
        self.assertEqual(hooks.call("pre_fork", worker={"age": 2}), {"id": 2, "ok": True})
        self.assertEqual(hooks.call("child_exit", worker={"age": 1, "pid": 501}),
                         {"id": 3, "ok": True})
        self.assertEqual(hooks.call("child_exit", worker={"age": 4, "pid": 502}),
                         {"id": 4, "ok": True})
        self.assertEqual(hooks.call("nworkers_changed", args=[3, 2]), {"id": 5, "ok": True})
        # A hook the file does not define is answered at once.
        self.assertEqual(hooks.call("on_exit"), {"id": 6, "ok": True})
        self.assertEqual(hooks.notes_read(), [
            ["on_starting", 999, 3, 17], ["pre_fork", 2, "[booting]"],
            ["child_exit", 501, [501], 1], ["child_exit", 502, [501], 2],
            ["nworkers_changed", 3, 2, 2]])
        hooks.sock.shutdown(socket.SHUT_WR)
        self.assertEqual(hooks.process.wait(TIMEOUT), 0)

    def test_a_hook_that_raises_answers_with_its_traceback_and_the_process_goes_on(self) -> None:
        hooks = HookProcess(self, CONFIG)
        hooks.read()
        failed = hooks.call("when_ready")
        self.assertFalse(failed["ok"])
        self.assertIn("RuntimeError: cannot warm the cache", failed["traceback"])
        self.assertIn("in when_ready", failed["traceback"])
        self.assertEqual(hooks.call("on_starting"), {"id": 2, "ok": True})

    def test_a_config_that_fails_to_run_is_an_error_line_and_exit_2(self) -> None:
        hooks = HookProcess(self, "import no_such_module_for_bicorn_hooks\n")
        answer = hooks.read()
        self.assertIn("no_such_module_for_bicorn_hooks", answer["error"])
        self.assertEqual(hooks.process.wait(TIMEOUT), 2)
