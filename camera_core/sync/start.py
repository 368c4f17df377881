"""Where a recording with sync on begins: on one frame of the common frame grid, the same for
every camera and host.

Synced cameras' frames share one wall-clock grid (to tens of µs). A start time placed half a frame
before a grid frame can never fall between two synced cameras' copies of that frame, so every
camera's first recorded frame is the same instant. Frames before the sync point (SyncReady false)
are never recorded (the recorders skip them), so a take begun early starts at the sync point."""

from __future__ import annotations

import math
import time
from collections.abc import Iterable

from camera_core.sources.frame import Frame

#: Without a requested time the take starts this many frames after now (time to start every recorder).
LEAD_FRAMES = 2


def is_synced(frame: Frame | None) -> bool:
    """True when the frame comes from a camera taking part in sync (its SyncReady is reported)."""
    return frame is not None and "SyncReady" in frame.extra


def before_sync_point(frame: Frame) -> bool:
    """True for a frame of a syncing camera taken before the sync point (never recorded)."""
    return frame.extra.get("SyncReady") is False


def synced_start_ns(latest: Iterable[Frame | None], at_ns: int | None) -> int | None:
    """The wall-clock time (ns) before which frames are not recorded: `at_ns` moved to half a frame
    before the first grid frame at or after it (now + LEAD_FRAMES frames when None). Unchanged when
    no camera syncs."""
    reference = next((f for f in latest if is_synced(f) and f is not None and f.wall_clock_ns), None)
    if reference is None or reference.wall_clock_ns is None:
        return at_ns
    period = reference.frame_duration_us * 1000.0
    target = at_ns if at_ns is not None else time.time_ns() + LEAD_FRAMES * period
    frames_ahead = math.ceil((target - reference.wall_clock_ns) / period)
    return round(reference.wall_clock_ns + (frames_ahead - 0.5) * period)
