# The runner dies with the process that started it, even while the app holds the GIL in C.
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import unittest
from typing import Optional

RUNNER_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TIMEOUT = 15

# Asks for the parent-death signal, then backtracks in the regular expression engine, which
# never lets the GIL go: no Python thread of this process could run to notice anything.
STUCK = (
    "import sys; sys.path.insert(0, sys.argv[1]); "
    "from bicorn_runner.parent_death import die_with_parent; "
    "print('armed' if die_with_parent() else 'refused', flush=True); "
    "import re; re.match(r'(a*)*b', 'a' * 64)"
)

# The stuck process's parent: starts it, passes on its pid and first word, and exits.
PARENT = (
    "import subprocess, sys; "
    "child = subprocess.Popen([sys.executable, '-c', sys.argv[1], sys.argv[2]], "
    "stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True); "
    "print(child.pid, child.stdout.readline().strip(), flush=True)"
)


def _state(pid: int) -> Optional[str]:
    """The process's state letter, or None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return None


@unittest.skipUnless(sys.platform.startswith("linux"), "the parent-death signal is Linux's")
class ParentDeathTest(unittest.TestCase):
    def test_a_process_stuck_holding_the_gil_is_killed_when_its_parent_exits(self) -> None:
        out = subprocess.run([sys.executable, "-c", PARENT, STUCK, RUNNER_DIR],
                             capture_output=True, text=True, check=True, timeout=TIMEOUT).stdout
        pid_text, word = out.split()
        pid = int(pid_text)
        self.addCleanup(_kill_if_alive, pid)
        self.assertEqual(word, "armed")
        deadline = time.monotonic() + TIMEOUT
        while _state(pid) not in (None, "Z") and time.monotonic() < deadline:
            time.sleep(0.02)
        self.assertIn(_state(pid), (None, "Z"), "the stuck process outlived its parent")


def _kill_if_alive(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


if __name__ == "__main__":
    unittest.main()
