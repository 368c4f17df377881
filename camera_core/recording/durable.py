"""An append-only file for recordings: every `write` goes straight to the OS (so it survives a
SIGKILL of the process), `sync` puts it on the disk (power loss), and a failed write (ENOSPC) is
cut back so the file always ends on a whole record (a whole frame, a whole timing row)."""

from __future__ import annotations

import os
from pathlib import Path


class DurableFile:
    """Unbuffered appends with os.write; `size` is the length of the whole records written."""

    def __init__(self, path: Path, *, exclusive: bool = False) -> None:
        flags = os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC | (os.O_EXCL if exclusive else os.O_TRUNC)
        self.path = path
        self._fd: int | None = os.open(path, flags, 0o644)
        self.size = 0

    def write(self, data: bytes) -> None:
        """Append one whole record or, on failure, nothing (the partial write is cut off)."""
        if self._fd is None:
            raise ValueError(f"{self.path.name} is closed")
        try:
            done = os.write(self._fd, data)
            if done < len(data):  # a short write (a signal, a nearly full disk): the rest follows
                view = memoryview(data)
                while done < len(view):
                    done += os.write(self._fd, view[done:])
        except OSError:
            self._cut_back()
            raise
        self.size += len(data)

    def cut_to(self, size: int) -> None:
        """Drop everything after `size` bytes (a record whose companion could not be written)."""
        self.size = min(size, self.size)
        if self._fd is not None:
            self._cut_back()

    def _cut_back(self) -> None:
        assert self._fd is not None
        try:
            os.ftruncate(self._fd, self.size)
            os.lseek(self._fd, self.size, os.SEEK_SET)
        except OSError:
            pass

    def sync(self) -> None:
        if self._fd is not None:
            os.fsync(self._fd)

    def close(self, *, sync: bool = True) -> None:
        """Close (after an fsync unless told not to); never raises for a failed fsync."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            if sync:
                os.fsync(fd)
        except OSError:
            pass
        finally:
            os.close(fd)
