"""Keeps the C heap from holding on to freed encoders (glibc).

Large freed blocks (an encoder's buffers, tens of MB at full size) stay in glibc's per-thread
arenas, so the RSS would creep up for many minutes before it levels off. `release_free_memory` trims every arena after a segment closes. Frames of the sim and
picamera2 sources come from buffer pools (frames/pool.py), not from per-frame allocations. A no-op where the C library is not
glibc."""

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


def release_free_memory() -> bool:
    """Trim every malloc arena; True when it could be done (glibc)."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)  # type: ignore[operator]
    return True
