"""Keeps the C heap from holding on to freed frames and encoders (glibc tuning).

Frames are a few MB each and every segment starts a fresh encoder (tens of MB of buffers at full
size). glibc serves such blocks from its per-thread arenas once its dynamic mmap threshold has
risen, and keeps them after they are freed, so the RSS creeps up for many minutes before it levels
off. `keep_large_blocks_mapped` fixes the threshold at 1 MB (frames are then mmapped and unmapped,
about 0.1 ms per frame), and `release_free_memory` trims every arena after a segment closes.
Both are no-ops where the C library is not glibc."""

from __future__ import annotations

import ctypes
import ctypes.util
import threading

_lock = threading.Lock()
_trim: object | None = None
_looked_up = False


def _malloc_trim() -> object | None:
    global _trim, _looked_up
    with _lock:
        if not _looked_up:
            _looked_up = True
            try:
                libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
                _trim = libc.malloc_trim
            except (OSError, AttributeError):
                _trim = None
        return _trim


M_MMAP_THRESHOLD = -3  # glibc malloc.h
LARGE_BLOCK_BYTES = 1 << 20
_mapped = False


def keep_large_blocks_mapped() -> bool:
    """Serve blocks of 1 MB and more with mmap, always (once per process); True when done."""
    global _mapped
    if _mapped:
        return True
    if _malloc_trim() is None:
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        _mapped = bool(libc.mallopt(M_MMAP_THRESHOLD, LARGE_BLOCK_BYTES))
    except (OSError, AttributeError):
        return False
    return _mapped


def release_free_memory() -> bool:
    """Trim every malloc arena; True when it could be done (glibc)."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)  # type: ignore[operator]
    return True
