# The runner's entry point, run by the worker as `python3 run.py --app SPEC` (and by `bicorn check
# --load-app` as `run.py --check --app SPEC`, which only loads the app); the only exit.
import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
if not sys.path or os.path.abspath(sys.path[0] or os.curdir) != _HERE:
    sys.path.insert(0, _HERE)

from bicorn_runner.check import check_app  # noqa: E402
from bicorn_runner.main import run  # noqa: E402

# The app is imported as gunicorn imports it: from the working directory (the worker's --chdir),
# then PYTHONPATH; the runner's own directory must not shadow the app's modules.
sys.path[:] = [entry for entry in sys.path if os.path.abspath(entry or os.curdir) != _HERE]
sys.path.insert(0, os.getcwd())


def _exit_now(code: int) -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--check"]:
        # Threads the app may have started while loading are no reason to wait.
        _exit_now(check_app(sys.argv[2:]))
    exit_code = run(sys.argv[1:], _exit_now)
    if exit_code != 0:
        # A runner that failed owes nothing to threads the app may have started while loading.
        _exit_now(exit_code)
    sys.exit(0)
