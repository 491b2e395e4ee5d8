# Tests of reading gunicorn config files: what counts as a setting or a hook, how a file, file:
# and python: are run, and run.py --read-config as the CLI runs it.
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import unittest

from bicorn_runner.gunicorn_config import ConfigFileError, load, sort_names

RUN_PY = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "run.py")


class SortNamesTest(unittest.TestCase):
    def test_keeps_plain_values_and_hooks_and_leaves_out_what_only_computes_them(self) -> None:
        import multiprocessing

        def post_fork(server, worker):  # noqa: ANN001
            pass

        def helper():  # noqa: ANN202
            pass

        config = sort_names({
            "workers": 3, "bind": ("0.0.0.0:8000",), "timeout": 2.5, "preload_app": True,
            "raw_env": ["A=1"], "logconfig_dict": {"version": 1}, "pidfile": None,
            "multiprocessing": multiprocessing, "helper": helper, "post_fork": post_fork,
            "_private": 1, "__builtins__": {}, "cpu_count": multiprocessing.cpu_count,
        })
        self.assertEqual(config.settings, {
            "workers": 3, "bind": ["0.0.0.0:8000"], "timeout": 2.5, "preload_app": True,
            "raw_env": ["A=1"], "logconfig_dict": {"version": 1}, "pidfile": None})
        self.assertEqual(config.hooks, {"post_fork": post_fork})
        self.assertEqual(config.unusable, {})

    def test_names_what_is_neither_plain_nor_a_function(self) -> None:
        config = sort_names({"secure_scheme_headers": {1: "x"}, "statsd_host": {"a", "b"},
                             "timeout": float("inf"), "when_ready": "not a function",
                             "on_exit": None})
        self.assertEqual(config.settings, {})
        self.assertEqual(config.hooks, {})
        self.assertEqual(config.unusable, {"secure_scheme_headers": "a dict",
                                           "statsd_host": "a set", "timeout": "a float",
                                           "when_ready": "a str, not a function"})


class LoadTest(unittest.TestCase):
    def setUp(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="bicorn-conf-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def write(self, name: str, text: str) -> str:
        path = os.path.join(self.dir, name)
        with open(path, "w", encoding="utf-8") as file:
            file.write(textwrap.dedent(text))
        return path

    def test_runs_a_file_whatever_its_extension_with_file_or_without(self) -> None:
        for name in ("gunicorn.conf.py", "gunicorn.conf"):
            path = self.write(name, "import os\nworkers = len(os.sep) + 1\n")
            self.assertEqual(load(path)["workers"], 2)
            self.assertEqual(load("file:" + path)["workers"], 2)

    def test_imports_python_module(self) -> None:
        self.write("deploy_settings.py", "bind = ['unix:/run/app.sock']\n")
        sys.path.insert(0, self.dir)
        self.addCleanup(sys.path.remove, self.dir)
        self.addCleanup(sys.modules.pop, "deploy_settings", None)
        self.assertEqual(load("python:deploy_settings")["bind"], ["unix:/run/app.sock"])

    def test_a_file_that_raises_gives_its_traceback(self) -> None:
        path = self.write("gunicorn.conf.py", "import os\n\nbind = os.environ['NO_SUCH_VAR_X']\n")
        with self.assertRaises(ConfigFileError) as raised:
            load(path)
        self.assertIn("KeyError: 'NO_SUCH_VAR_X'", raised.exception.message)
        self.assertIn('gunicorn.conf.py", line 3', raised.exception.message)
        self.assertNotIn("gunicorn_config.py", raised.exception.message)

    def test_a_missing_file_or_module_is_said_plainly(self) -> None:
        with self.assertRaisesRegex(ConfigFileError, "no such file: .*nope.py"):
            load(os.path.join(self.dir, "nope.py"))
        with self.assertRaisesRegex(ConfigFileError, "No module named 'no_such_conf_module'"):
            load("python:no_such_conf_module")


class ReadConfigProcessTest(unittest.TestCase):
    def run_read_config(self, text: str, env: dict) -> subprocess.CompletedProcess:
        directory = tempfile.mkdtemp(prefix="bicorn-conf-")
        self.addCleanup(shutil.rmtree, directory, True)
        with open(os.path.join(directory, "gunicorn.conf.py"), "w", encoding="utf-8") as file:
            file.write(textwrap.dedent(text))
        return subprocess.run([sys.executable, RUN_PY, "--read-config", "gunicorn.conf.py"],
                              cwd=directory, capture_output=True, text=True, timeout=30,
                              env={**os.environ, **env})

    def test_prints_the_settings_as_json_and_what_the_file_prints_goes_to_stderr(self) -> None:
        done = self.run_read_config("""
            import multiprocessing, os
            print("configuring")
            bind = "0.0.0.0:" + os.environ["PORT"]
            workers = multiprocessing.cpu_count() * 2 + 1
            def child_exit(server, worker):
                pass
        """, {"PORT": "5123"})
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("configuring", done.stderr)
        result = json.loads(done.stdout)
        self.assertEqual(result["settings"], {"bind": "0.0.0.0:5123",
                                              "workers": os.cpu_count() * 2 + 1})
        self.assertEqual(result["hooks"], ["child_exit"])

    def test_a_failing_file_exits_2_with_its_traceback(self) -> None:
        done = self.run_read_config("workers = 1 / 0\n", {})
        self.assertEqual(done.returncode, 2)
        self.assertEqual(done.stdout, "")
        self.assertIn("ZeroDivisionError", done.stderr)
