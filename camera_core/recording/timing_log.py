"""The per-frame timing CSV: one row per frame in the video, flushed and synced once a second."""

from __future__ import annotations

import csv
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

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


class TimingLog:
    """Writes rows as frames are written to the video; a crash loses at most the last second."""

    def __init__(self, path: Path | None, sync_interval_s: float = 1.0) -> None:
        self.path = path
        self._file: TextIO | None = None
        self._writer = None
        if path is not None:
            self._file = path.open("w", newline="", encoding="utf-8")
            self._writer = csv.writer(self._file, lineterminator="\n")
            self._writer.writerow(COLUMNS)
        self._sync_ns = int(sync_interval_s * 1e9)
        self._last_sync = time.monotonic_ns()
        self.rows = 0

    def write(self, row: TimingRow) -> None:
        self.rows += 1
        if self._writer is None:
            return
        seq = "" if row.sensor_sequence is None else row.sensor_sequence
        self._writer.writerow(
            (
                row.frame_number,
                f"{time.time():.6f}",
                row.sensor_timestamp_ns,
                row.dropped_since_last,
                row.total_hardware_drops,
                row.wall_clock_ns,
                row.pts_us,
                f"{row.frame_duration_us:.3f}",
                seq,
            )
        )

    def sync_due(self) -> bool:
        return time.monotonic_ns() - self._last_sync >= self._sync_ns

    def sync(self) -> None:
        """Flush to the OS and to the disk (power-loss safety)."""
        self._last_sync = time.monotonic_ns()
        if self._file is not None:
            self._file.flush()
            os.fsync(self._file.fileno())

    def close(self) -> None:
        if self._file is not None:
            self.sync()
            self._file.close()
            self._file = None


def read_timing_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))
