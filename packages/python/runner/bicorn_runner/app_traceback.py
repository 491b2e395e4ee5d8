# Tracebacks as an app's developer wants them: the app's frames, not the runner's (runner process).
from __future__ import annotations

import os
import traceback
from types import TracebackType
from typing import Optional

_RUNNER_DIR = os.path.dirname(os.path.abspath(__file__))
# Room for the frame's other fields within the 1 MiB payload.
MAX_MESSAGE = 1024 * 1024 - 1024


def _is_internal(tb: TracebackType) -> bool:
    filename = tb.tb_frame.f_code.co_filename
    return (filename.startswith("<frozen importlib")
            or os.path.dirname(os.path.abspath(filename)) == _RUNNER_DIR
            or filename == os.path.join(os.path.dirname(_RUNNER_DIR), "run.py")
            or filename.endswith(os.path.join("importlib", "__init__.py")))


def _app_frames(tb: Optional[TracebackType]) -> Optional[TracebackType]:
    kept = []
    while tb is not None:
        if not _is_internal(tb):
            kept.append(tb)
        tb = tb.tb_next
    rebuilt: Optional[TracebackType] = None
    for entry in reversed(kept):
        rebuilt = TracebackType(rebuilt, entry.tb_frame, entry.tb_lasti, entry.tb_lineno)
    return rebuilt


def format_app_exception(error: BaseException) -> str:
    tb = _app_frames(error.__traceback__)
    text = "".join(traceback.format_exception(type(error), error, tb))
    if len(text.encode("utf-8", "replace")) > MAX_MESSAGE:
        text = "…(cut)\n" + text[-(MAX_MESSAGE // 4):]
    return text
