# The runner never outlives the process that started it. A worker that exits closes the frame
# socket, and the runner's reader thread ends it; but an app stuck in C holding the GIL, or an
# event loop that never returns to the reader, never sees that close, and the process would spin
# on as an orphan of init. The kernel's parent-death signal ends it whatever the app is doing.
# (A parent gone before this runs leaves the socket closed, which the runner sees while it boots.)
from __future__ import annotations

import ctypes
import signal
import sys

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> bool:
    """Asks the kernel for SIGKILL when the parent exits; False off Linux or if refused."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    return libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
