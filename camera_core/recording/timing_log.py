"""The per-frame timing CSV: one row per frame in the video. Each row goes to the OS as it is
written (a killed process loses none) and to the disk once a second (power loss loses at most the
last second); a row that cannot be written whole (disk full) is cut off, never left half."""

from __future__ import annotations

import csv
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from camera_core.recording.durable import DurableFile

#: The timing CSV of `NAME.h264`/`NAME.mp4` is `NAME` + this.
TIMING_CSV_SUFFIX = "_frame_timing.csv"


def timing_csv_of(video: Path) -> Path:
    """The timing CSV beside a recording."""
    return video.with_name(video.stem + TIMING_CSV_SUFFIX)


COLUMNS = (
    "frame_number",
    "write_time_unix",
    "sensor_timestamp_ns",
    "dropped_since_last",
    "total_hardware_drops",
    "wall_clock_ns",
    "pts_us",
    "frame_duration_us",
    "sensor_sequence",
    # Sync (docs/sync.md), empty when the camera does not sync: 1 when the frame was taken in sync
    # (libcamera SyncReady), µs to the sync point (SyncTimer, negative after it), the phase error
    # the camera last measured against the sync server (sim); then the exposure time.
    "sync_ready",
    "sync_timer_us",
    "sync_error_us",
    "exposure_us",
)


@dataclass(slots=True)
class TimingRow:
    frame_number: int
    sensor_timestamp_ns: int
    dropped_since_last: int
    total_hardware_drops: int
    wall_clock_ns: int
    pts_us: int
    frame_duration_us: float
    sensor_sequence: int | None = None
    sync_ready: bool | None = None
    sync_timer_us: int | None = None
    sync_error_us: int | None = None
    exposure_us: int | None = None


def row_extras(extra: Mapping[str, object]) -> dict[str, object]:
    """The sync and exposure columns of a frame, from its metadata (picamera2 names: SyncReady,
    SyncTimer, ExposureTime; the sim's sync_error_us)."""
    out: dict[str, object] = {}
    if "SyncReady" in extra:
        out["sync_ready"] = bool(extra["SyncReady"])
    for column, key in (
        ("sync_timer_us", "SyncTimer"),
        ("sync_error_us", "sync_error_us"),
        ("exposure_us", "ExposureTime"),
    ):
        value = extra.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            out[column] = round(value)
    return out


class TimingLog:
    """Writes rows as frames are written to the video; a crash loses at most the last second."""

    def __init__(self, path: Path | None, sync_interval_s: float = 1.0) -> None:
        self.path = path
        self._file: DurableFile | None = None
        if path is not None:
            self._file = DurableFile(path)
            self._file.write((",".join(COLUMNS) + "\n").encode())
        self._sync_ns = int(sync_interval_s * 1e9)
        self._last_sync = time.monotonic_ns()
        self.rows = 0

    def write(self, row: TimingRow) -> None:
        if self._file is not None:
            self._file.write(format_row(row, time.time()).encode())
        self.rows += 1

    def sync_due(self) -> bool:
        return time.monotonic_ns() - self._last_sync >= self._sync_ns

    def sync(self) -> None:
        """Put the rows on the disk (power-loss safety); they are in the OS already."""
        self._last_sync = time.monotonic_ns()
        if self._file is not None:
            self._file.sync()

    def close(self, *, sync: bool = True) -> None:
        if self._file is not None:
            self._file.close(sync=sync)
            self._file = None


def format_row(row: TimingRow, write_time_unix: float) -> str:
    """One CSV line (numbers only, so no quoting is ever needed)."""
    seq = _blank(row.sensor_sequence)
    ready = "" if row.sync_ready is None else int(row.sync_ready)
    return (
        f"{row.frame_number},{write_time_unix:.6f},{row.sensor_timestamp_ns},{row.dropped_since_last},"
        f"{row.total_hardware_drops},{row.wall_clock_ns},{row.pts_us},{row.frame_duration_us:.3f},{seq},"
        f"{ready},{_blank(row.sync_timer_us)},{_blank(row.sync_error_us)},{_blank(row.exposure_us)}\n"
    )


def _blank(value: int | None) -> object:
    return "" if value is None else value


def read_timing_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))
