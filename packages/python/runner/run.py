# The runner's entry point, run by the worker as `python3 run.py --app SPEC` (and by `bicorn check
# --load-app` as `run.py --check --app SPEC`, which only loads the app; by bicorn's CLI as
# `run.py --read-config FILE`, which prints a gunicorn config file's settings; by the master as
# `run.py --server-hooks FILE`, its hook process); the only exit.
import os
import sys

if "--gevent" in sys.argv[1:]:
    # gevent workers: the standard library is patched before anything else imports it. Without
    # gevent, the runner says so in a FATAL frame (gevent_mode.active() is then False).
    try:
        from gevent import monkey
    except ImportError:
        pass
    else:
        monkey.patch_all()

_HERE = os.path.dirname(os.path.abspath(__file__))
if not sys.path or os.path.abspath(sys.path[0] or os.curdir) != _HERE:
    sys.path.insert(0, _HERE)

from bicorn_runner.check import check_app  # noqa: E402
from bicorn_runner.parent_death import die_with_parent  # noqa: E402
from bicorn_runner.main import run  # noqa: E402
from bicorn_runner.read_config import read_config  # noqa: E402
from bicorn_runner.server_hooks import serve_hooks  # noqa: E402

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
    die_with_parent()
    if sys.argv[1:2] == ["--check"]:
        # Threads the app may have started while loading are no reason to wait.
        _exit_now(check_app(sys.argv[2:]))
    if sys.argv[1:2] == ["--read-config"]:
        _exit_now(read_config(sys.argv[2:]))
    if sys.argv[1:2] == ["--server-hooks"]:
        _exit_now(serve_hooks(sys.argv[2:]))
    exit_code = run(sys.argv[1:], _exit_now)
    if exit_code != 0:
        # A runner that failed owes nothing to threads the app may have started while loading.
        _exit_now(exit_code)
    if "gevent.monkey" in sys.modules:
        # The interpreter's own end flushes sys.stdout after the greenlets are finalized, when
        # the log streams' greenlet-local state is gone (exit 120); its threads are greenlets,
        # which gevent does not wait for anyway.
        _exit_now(0)
    sys.exit(0)
