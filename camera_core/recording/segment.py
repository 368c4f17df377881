"""One segment of a recording: its .h264 (starting at a keyframe) and its timing CSV, written in
the recording thread; and its finalization (MP4, checksums).

Segment names (see docs/unattended.md): a take in one file has the plain SPEC name `{basename}`;
a take split into several files (`segment_seconds` > 0, or a camera restart) numbers every one of
them `{basename}_seg0001`, `{basename}_seg0002`, ... (a first file that began plain is renamed
when the second begins).
Each file is followed by `.h264`/`.mp4` or `_frame_timing.csv`."""

from __future__ import annotations

import logging
import os
from array import array
from dataclasses import dataclass
from pathlib import Path

from camera_core.recording.durable import DurableFile
from camera_core.recording.frames import EncodedFrame
from camera_core.recording.remux import RemuxError, remux_to_mp4
from camera_core.recording.results import FileEntry, SegmentResult
from camera_core.recording.timing_log import TIMING_CSV_SUFFIX, TimingLog, TimingRow, row_extras
from camera_core.timing import DropCounter
from camera_core.util.files import sha256_file
from camera_core.util.memory import release_free_memory
from camera_core.util.timing_csv import read_int_column

log = logging.getLogger(__name__)

#: Why a segment began: the first of a take, the segment length reached, the camera restarted.


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
class SegmentSummary:
    """What one segment holds; the finalizer turns it into a `SegmentResult`. No per-frame list is
    kept (a 10-hour file would hold a million of them): the MP4 remux reads the frames' pts back
    from the timing CSV, or, when no CSV is written, from a compact array."""

    index: int
    files: SegmentFiles
    reason: str
    fps: float
    frames: int = 0
    hardware_drops: int = 0
    first_sensor_timestamp_ns: int | None = None
    last_sensor_timestamp_ns: int | None = None
    first_wall_clock_ns: int | None = None
    #: The pts of every frame, only when there is no CSV to read them from.
    pts_us: array[int] | None = None
    burned_number_first: int | None = None
    aborted: bool = False


class SegmentWriter:
    """Writes encoded frames into one segment: each frame's bytes, then its timing row, so the rows
    never name a frame the file lacks (a row that cannot be written cuts its frame off again)."""

    def __init__(
        self,
        files: SegmentFiles,
        index: int,
        reason: str,
        fps: float,
        *,
        previous_sensor_ns: int | None = None,
    ) -> None:
        self.summary = SegmentSummary(index, files, reason, fps)
        if not files.write_csv:
            self.summary.pts_us = array("q")
        self._video = DurableFile(files.h264_path, exclusive=True)
        try:
            self._timing = TimingLog(files.csv_path if files.write_csv else None)
        except BaseException:
            self._video.close(sync=False)
            files.h264_path.unlink(missing_ok=True)
            raise
        fsync_directory(files.directory)  # the new names survive a power cut too
        self._drops = DropCounter()
        #: After a time split or a camera restart the first row counts the frames lost since the
        #: previous segment's last frame.
        self._drops.previous_ns = previous_sensor_ns

    @property
    def bytes_written(self) -> int:
        return self._video.size

    def write(self, frame: EncodedFrame) -> None:
        """Append one encoded frame and its timing row (frame_number = its position in the file)."""
        meta = frame.meta
        s = self.summary
        video_size = self._video.size
        self._video.write(frame.data)
        first = s.first_sensor_timestamp_ns
        if first is None:
            first = meta.sensor_ns
        dropped = self._drops.observe(meta.sensor_ns, meta.frame_duration_us * 1000.0)
        pts_us = round((meta.sensor_ns - first) / 1000)
        row = TimingRow(
            s.frames,
            meta.sensor_ns,
            dropped,
            self._drops.total,
            meta.wall_ns,
            pts_us,
            meta.frame_duration_us,
            meta.sequence,
            **row_extras(meta.extra),  # type: ignore[arg-type]
        )
        try:
            self._timing.write(row)
        except OSError:
            self._video.cut_to(video_size)  # no frame without its row
            self._drops.total -= dropped
            raise
        if s.frames == 0:
            s.first_sensor_timestamp_ns = meta.sensor_ns
            s.first_wall_clock_ns = meta.wall_ns
            s.burned_number_first = meta.number or None
        if s.pts_us is not None:
            s.pts_us.append(pts_us)
        s.frames += 1
        s.hardware_drops = self._drops.total
        s.last_sensor_timestamp_ns = meta.sensor_ns

    def sync_if_due(self) -> None:
        if self._timing.sync_due():
            self._video.sync()
            self._timing.sync()

    def finish(self) -> SegmentSummary:
        """Close both files (synced)."""
        self._close(sync=True)
        return self.summary

    def abort(self) -> SegmentSummary:
        """Close after a failure: the files end on the last whole frame and its row."""
        self.summary.aborted = True
        self._close(sync=True)
        return self.summary

    def _close(self, *, sync: bool) -> None:
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


def finalize_segment(summary: SegmentSummary, convert_mp4: bool) -> SegmentResult:
    """Convert to MP4 when asked (the .h264 is removed only once the MP4 is verified), checksum, and
    describe the segment for the manifest."""
    files = summary.files
    video = files.h264_path
    container = "h264"
    errors: list[str] = []
    if convert_mp4 and summary.frames and not summary.aborted:
        try:
            pts = summary.pts_us if summary.pts_us is not None else read_int_column(files.csv_path, "pts_us")
            remux_to_mp4(files.h264_path, pts, files.mp4_path)
            files.h264_path.unlink()
            video, container = files.mp4_path, "mp4"
        except (RemuxError, OSError, ValueError) as exc:
            errors.append(f"MP4 conversion failed, .h264 kept: {exc}")
            log.error("MP4 conversion of %s failed, .h264 kept: %s", files.h264_path.name, exc)
    duration = 0.0
    if summary.first_sensor_timestamp_ns is not None and summary.last_sensor_timestamp_ns is not None:
        span_ns = summary.last_sensor_timestamp_ns - summary.first_sensor_timestamp_ns
        duration = span_ns / 1e9 + 1.0 / summary.fps
    paths = [video] + ([files.csv_path] if files.write_csv else [])
    release_free_memory()  # the closed segment's buffers go back to the system
    entries: list[FileEntry] = []
    for path in paths:
        try:
            entries.append(file_entry(path))
        except OSError as exc:  # the folder was deleted, the file removed
            errors.append(f"{path.name}: {exc.strerror or exc}")
    return SegmentResult(
        index=summary.index,
        video=video.name,
        timing_csv=files.csv_path.name if files.write_csv else None,
        container=container,
        split_reason=summary.reason,
        frames=summary.frames,
        hardware_drops=summary.hardware_drops,
        first_sensor_timestamp_ns=summary.first_sensor_timestamp_ns,
        last_sensor_timestamp_ns=summary.last_sensor_timestamp_ns,
        first_wall_clock_ns=summary.first_wall_clock_ns,
        duration_s=round(duration, 6),
        files=entries,
        errors=errors,
        burned_number_first=summary.burned_number_first,
    )


def file_entry(path: Path) -> FileEntry:
    return FileEntry(path.name, path.stat().st_size, sha256_file(path))
