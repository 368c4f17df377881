"""Reading command lines from a file descriptor with bounded memory: a line longer than the limit is
skipped up to its newline and reported as one `LineTooLong`, never held in memory."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

CHUNK_BYTES = 65536


@dataclass(frozen=True, slots=True)
class LineTooLong:
    """Stands in for a line that exceeded the limit; `length` counts the bytes seen (>= limit)."""

    length: int


def read_lines(fd: int, max_bytes: int) -> Iterator[bytes | LineTooLong]:
    """Lines of `fd` without their newline, until end of file. Blocks in os.read only."""
    buffer = bytearray()
    skipping = 0  # > 0 while discarding an overlong line: bytes discarded so far
    while True:
        chunk = os.read(fd, CHUNK_BYTES)
        if not chunk:
            break
        start = 0
        while True:
            newline = chunk.find(b"\n", start)
            end = len(chunk) if newline < 0 else newline
            if skipping:
                skipping += end - start
            else:
                buffer += chunk[start:end]
                if len(buffer) > max_bytes:
                    skipping = len(buffer)
                    buffer.clear()
            if newline < 0:
                break
            start = newline + 1
            if skipping:
                yield LineTooLong(skipping)
                skipping = 0
            else:
                yield bytes(buffer)
                buffer.clear()
    if skipping:
        yield LineTooLong(skipping)
    elif buffer:
        yield bytes(buffer)
