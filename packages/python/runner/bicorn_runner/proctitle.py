# The Python process's title as ps shows it (-n/--name): setproctitle's when the app's
# environment has it (the whole command line), else prctl(PR_SET_NAME), which the kernel keeps to
# 15 bytes (what ps -o comm and top show), as Node.js does for the master and workers (runner
# process).
from __future__ import annotations

import ctypes
import ctypes.util
import sys

_PR_SET_NAME = 15
_COMM_BYTES = 15


def set_title(title: str) -> str:
    """Returns how it was set: "setproctitle", "prctl", or "none" off Linux."""
    try:
        import setproctitle
    except ImportError:
        pass
    else:
        setproctitle.setproctitle(title)
        return "setproctitle"
    if not sys.platform.startswith("linux"):
        return "none"
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    name = title.encode("utf-8")[:_COMM_BYTES]
    if libc.prctl(_PR_SET_NAME, ctypes.c_char_p(name), 0, 0, 0) != 0:
        return "none"
    return "prctl"
