# gevent workers (-k gevent): run.py has patched the standard library with gevent.monkey before
# anything else is imported, so the WSGI pool's threads, locks, queues and sockets (the frame
# socket too) are greenlets and theirs; the pool runs --worker-connections requests at once, and
# a stack dump shows every greenlet (runner process).
from __future__ import annotations

import sys

MISSING = (f"-k gevent needs gevent in the app's environment, and {sys.executable} cannot "
           f"import it: install it there (pip install gevent), or serve with -k gthread "
           f"and --threads N")
NOT_WSGI = ("-k gevent serves WSGI apps, and {app} is an ASGI app: leave -k out (bicorn serves "
            "ASGI apps on an event loop), or use -k uvicorn.workers.UvicornWorker")


def active() -> bool:
    """Whether run.py patched the standard library."""
    monkey = sys.modules.get("gevent.monkey")
    return monkey is not None and bool(monkey.is_module_patched("socket"))


def print_greenlets() -> None:
    """The stack of every greenlet (gevent's run info), in one write; on SIGUSR2."""
    from gevent import util
    sys.stderr.write("".join(line + "\n" for line in util.format_run_info()))
    sys.stderr.flush()
