# wsgi.input: PEP 3333's input stream over one stream's request body (runner process).
from __future__ import annotations

import sys
from typing import Iterator, List, Optional, Protocol

from .frames import Buffer


class BodySource(Protocol):
    def read_some(self, limit: int, line: bool = False) -> Buffer: ...


class WsgiInput:
    """Reads block until bytes arrive and end, returning b"", at the end of the body; they can
    never read past it, whatever CONTENT_LENGTH says."""

    def __init__(self, source: BodySource) -> None:
        self._source = source

    def read(self, size: Optional[int] = -1) -> bytes:
        limit = sys.maxsize if size is None or size < 0 else size
        return self._collect(limit, line=False)

    def readline(self, size: Optional[int] = -1) -> bytes:
        limit = sys.maxsize if size is None or size < 0 else size
        return self._collect(limit, line=True)

    def readlines(self, hint: Optional[int] = -1) -> List[bytes]:
        lines = []
        total = 0
        for line in self:
            lines.append(line)
            total += len(line)
            if hint is not None and 0 < hint <= total:
                break
        return lines

    def __iter__(self) -> Iterator[bytes]:
        while True:
            line = self.readline()
            if not line:
                return
            yield line

    def _collect(self, limit: int, line: bool) -> bytes:
        pieces = []
        while limit > 0:
            piece = self._source.read_some(limit, line)
            if not piece:
                break
            pieces.append(piece)
            limit -= len(piece)
            if line and piece[-1:] == b"\n":
                break
        # Pieces are views of the frames they came in: copied here once, into what is returned.
        return bytes(pieces[0]) if len(pieces) == 1 else b"".join(pieces)
