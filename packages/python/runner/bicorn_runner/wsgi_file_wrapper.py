# wsgi.file_wrapper: a file as a response iterable, sent in blocks; runs in the runner.
from __future__ import annotations

from typing import Any, Iterator


class FileWrapper:
    """Iterating reads block_size bytes at a time. The response writer recognises it and, for a
    binary file, reads frame-sized blocks into one reused buffer instead (so the file is never
    read whole, whatever the app passed as block_size)."""

    def __init__(self, filelike: Any, block_size: int = 8192) -> None:
        self.filelike = filelike
        self.block_size = block_size
        if hasattr(filelike, "close"):
            self.close = filelike.close

    def __iter__(self) -> Iterator[bytes]:
        while True:
            data = self.filelike.read(self.block_size)
            if not data:
                return
            yield data
