"""One segment of a recording: a fresh libx264 encoder (so the file starts with a keyframe), its
.h264 and its timing CSV, written in the encoder thread; and its finalization (MP4, checksums).

Segment names (see docs/unattended.md): with `segment_seconds` > 0 every file of a take is
`{basename}_seg0001`, `{basename}_seg0002`, ...; without it the first file keeps the plain SPEC name
`{basename}` and a continuation (after a camera restart) is `{basename}_seg0002`, ...
Each file is followed by `.h264`/`.mp4` or `_frame_timing.csv`."""

from __future__ import annotations

import logging
import os
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from camera_core.recording.durable import DurableFile
from camera_core.recording.h264 import H264Encoder, H264Params
from camera_core.recording.remux import RemuxError, remux_to_mp4
from camera_core.recording.timing_log import TIMING_CSV_SUFFIX, TimingLog, TimingRow, row_extras
from camera_core.sources.frame import Frame
from camera_core.timing import DropCounter
from camera_core.util.files import sha256_file
from camera_core.util.memory import release_free_memory

log = logging.getLogger(__name__)

#: Why a segment began: the first of a take, the segment length reached, the camera restarted.
SPLIT_REASONS = ("start", "time", "camera_restart")


def segment_basename(basename: str, index: int, *, always_numbered: bool) -> str:
    """The file stem of segment `index` (1-based)."""
    if index == 1 and not always_numbered:
        return basename
    return f"{basename}_seg{index:04d}"


@dataclass(frozen=True, slots=True)
class SegmentFiles:
    directory: Path
    stem: str
    write_csv: bool

    @property
    def h264_path(self) -> Path:
        return self.directory / f"{self.stem}.h264"

    @property
    def mp4_path(self) -> Path:
        return self.directory / f"{self.stem}.mp4"

    @property
    def csv_path(self) -> Path:
        return self.directory / f"{self.stem}{TIMING_CSV_SUFFIX}"


@dataclass(slots=True)
class QueuedFrame:
    """A frame on its way to the encoder: its number in its segment and which segment."""

    number: int
    frame: Frame
    wall_ns: int
    segment: int
    reason: str


@dataclass(slots=True)
class SegmentSummary:
    """What one segment holds; the finalizer turns it into a manifest entry."""

    index: int
    files: SegmentFiles
    reason: str
    fps: float
    frames: int = 0
    hardware_drops: int = 0
    first_sensor_timestamp_ns: int | None = None
    last_sensor_timestamp_ns: int | None = None
    first_wall_clock_ns: int | None = None
    pts_us: list[int] = field(default_factory=list)
    aborted: bool = False


class SegmentWriter:
    """Encodes frames into one segment; a timing row is written as each frame's packet is written,
    after the packet, so the rows never name a frame the file lacks."""

    def __init__(
        self,
        files: SegmentFiles,
        index: int,
        reason: str,
        params: H264Params,
        *,
        previous_sensor_ns: int | None = None,
    ) -> None:
        self.summary = SegmentSummary(index, files, reason, params.fps)
        self._encoder: H264Encoder | None = None
        self._params = params
        self._video = DurableFile(files.h264_path, exclusive=True)
        try:
            self._timing = TimingLog(files.csv_path if files.write_csv else None)
        except BaseException:
            self._video.close(sync=False)
            files.h264_path.unlink(missing_ok=True)
            raise
        fsync_directory(files.directory)  # the new names survive a power cut too
        self._drops = DropCounter()
        #: Across a time split the first row still counts the frames lost since the previous segment.
        self._drops.previous_ns = previous_sensor_ns
        self._waiting: deque[QueuedFrame] = deque()

    @property
    def bytes_written(self) -> int:
        return self._video.size

    @property
    def last_sensor_ns(self) -> int | None:
        return self.summary.last_sensor_timestamp_ns

    def add(self, item: QueuedFrame) -> None:
        if self._encoder is None:
            self._encoder = H264Encoder(self._params)
        self._waiting.append(item)
        for data in self._encoder.encode(item.frame.image, item.frame.pixel_format):
            self._write_packet(data)

    def write_encoded(self, item: QueuedFrame, data: bytes) -> None:
        """Write a frame that an encoder elsewhere (picamera2's) has already encoded, with its row."""
        self._waiting.append(item)
        self._write_packet(data)

    def _write_packet(self, data: bytes) -> None:
        item = self._waiting.popleft()
        frame = item.frame
        s = self.summary
        video_size = self._video.size
        self._video.write(data)
        if s.first_sensor_timestamp_ns is None:
            s.first_sensor_timestamp_ns = frame.sensor_timestamp_ns
            s.first_wall_clock_ns = item.wall_ns
        dropped = self._drops.observe(frame.sensor_timestamp_ns, frame.frame_duration_us * 1000.0)
        pts_us = round((frame.sensor_timestamp_ns - s.first_sensor_timestamp_ns) / 1000)
        row = TimingRow(
            item.number,
            frame.sensor_timestamp_ns,
            dropped,
            self._drops.total,
            item.wall_ns,
            pts_us,
            frame.frame_duration_us,
            frame.sequence,
            **row_extras(frame.extra),  # type: ignore[arg-type]
        )
        try:
            self._timing.write(row)
        except OSError:
            self._video.cut_to(video_size)  # no frame without its row
            raise
        s.pts_us.append(pts_us)
        s.frames += 1
        s.hardware_drops = self._drops.total
        s.last_sensor_timestamp_ns = frame.sensor_timestamp_ns

    def sync_if_due(self) -> None:
        if self._timing.sync_due():
            self._video.sync()
            self._timing.sync()

    def finish(self) -> SegmentSummary:
        """Flush the encoder into the file and close both files (synced)."""
        if self._encoder is not None:
            for data in self._encoder.flush():
                self._write_packet(data)
        self._close(sync=True)
        return self.summary

    def abort(self) -> SegmentSummary:
        """Close after a failure: the files end on the last whole frame and its row; frames still
        inside the encoder are not in the file and have no row."""
        self.summary.aborted = True
        self._close(sync=True)
        return self.summary

    def _close(self, *, sync: bool) -> None:
        self._encoder = None  # libx264's buffers (tens of MB at full size) go now, not at the next GC
        self._waiting.clear()
        try:
            self._video.close(sync=sync)
        finally:
            self._timing.close(sync=sync)


def fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def finalize_segment(summary: SegmentSummary, convert_mp4: bool) -> dict[str, Any]:
    """Convert to MP4 when asked (the .h264 is removed only once the MP4 is verified), checksum, and
    describe the segment for the manifest."""
    files = summary.files
    video = files.h264_path
    container = "h264"
    errors: list[str] = []
    if convert_mp4 and summary.frames and not summary.aborted:
        try:
            remux_to_mp4(files.h264_path, summary.pts_us, files.mp4_path)
            files.h264_path.unlink()
            video, container = files.mp4_path, "mp4"
        except (RemuxError, OSError) as exc:
            errors.append(f"MP4 conversion failed, .h264 kept: {exc}")
            log.error("MP4 conversion of %s failed, .h264 kept: %s", files.h264_path.name, exc)
    duration = 0.0
    if summary.first_sensor_timestamp_ns is not None and summary.last_sensor_timestamp_ns is not None:
        span_ns = summary.last_sensor_timestamp_ns - summary.first_sensor_timestamp_ns
        duration = span_ns / 1e9 + 1.0 / summary.fps
    paths = [video] + ([files.csv_path] if files.write_csv else [])
    release_free_memory()  # the closed segment's encoder buffers go back to the system
    return {
        "index": summary.index,
        "video": video.name,
        "timing_csv": files.csv_path.name if files.write_csv else None,
        "container": container,
        "split_reason": summary.reason,
        "frames": summary.frames,
        "hardware_drops": summary.hardware_drops,
        "first_sensor_timestamp_ns": summary.first_sensor_timestamp_ns,
        "last_sensor_timestamp_ns": summary.last_sensor_timestamp_ns,
        "first_wall_clock_ns": summary.first_wall_clock_ns,
        "duration_s": round(duration, 6),
        "files": [file_entry(p) for p in paths],
        "errors": errors,
    }


def file_entry(path: Path) -> dict[str, Any]:
    return {"name": path.name, "bytes": path.stat().st_size, "sha256": sha256_file(path)}
