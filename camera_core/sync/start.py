"""Where a recording with sync on begins: on one frame of the sync server's frame grid, the same
for every camera and host.

Synced cameras' frames lie on the server's wall-clock grid (to tens of µs). The start time `at` is
moved to half a frame before the first grid frame at or after it, where no synced frame can be, so
every camera's first recorded frame is the same instant, whatever its phase was when the take was
asked for. The grid comes with each frame from the sync model (`sync_grid_ns`: the server's frame
time and duration, known to a client from the server's messages); a frame without it keeps `at` as
it is. Frames before the sync point (SyncReady false) are never recorded, so a take begun early
starts at the sync point."""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping

from camera_core.frames.frame import Frame

#: Without a requested time a synced take starts this many frames after now (time to start every
#: camera's recorder before it).
LEAD_FRAMES = 2


def is_synced(frame: Frame | None) -> bool:
    """True when the frame comes from a camera taking part in sync (its SyncReady is reported)."""
    return frame is not None and "SyncReady" in frame.extra


def before_sync_point(extra: Mapping[str, object]) -> bool:
    """True for a frame (its `Frame.extra` / `CameraRequest.extra`) of a syncing camera taken
    before the sync point (never recorded)."""
    return extra.get("SyncReady") is False


def synced_start_ns(latest: Iterable[Frame | None], at_ns: int | None) -> int | None:
    """The start time of a take: `at_ns`, or, when a camera syncs and none was asked for, now plus
    LEAD_FRAMES frames (so the cameras of this host start on one grid frame)."""
    if at_ns is not None:
        return at_ns
    synced = next((f for f in latest if is_synced(f)), None)
    if synced is None:
        return None
    return time.time_ns() + round(LEAD_FRAMES * synced.frame_duration_us * 1000)


def start_threshold_ns(extra: Mapping[str, object], at_ns: int) -> int:
    """Frames earlier than this (wall clock) are not recorded: `at_ns` moved to half a frame before
    the server's first grid frame at or after it, when the frame's `extra` carries the grid."""
    grid = extra.get("sync_grid_ns")
    if not isinstance(grid, tuple):
        return at_ns
    grid_wall_ns, period_ns = grid
    frames_ahead = math.ceil((at_ns - grid_wall_ns) / period_ns)
    return round(grid_wall_ns + (frames_ahead - 0.5) * period_ns)
