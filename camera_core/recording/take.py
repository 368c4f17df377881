"""One take of one camera: what every recording shares whatever the encoder.

Admission side (under the pipeline's lock, on the capture or camera-loop thread): the start gate
(`start_at_wall_ns`), the numbers burned into the frames, and where a new file must begin (the
first frame, the segment length reached, a camera restart), which the encoder makes a keyframe.

Writing side (the pipeline's recording thread): encoded frames into segment files, a new file at
a keyframe, the free-space floor and the output folder checked about once a second, halting on its
own (disk low or full, folder gone, error) without ever waiting for anything, and finalization
(MP4 remux, checksums) in a finalizer thread so the recording thread never waits for it.
"""

from __future__ import annotations

import errno
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from camera_core.events import Publish, RecordingFirstFrame
from camera_core.recording.frames import EncodedFrame
from camera_core.recording.results import RecordingResult, SegmentResult
from camera_core.recording.segment import (
    SegmentFiles,
    SegmentSummary,
    SegmentWriter,
    finalize_segment,
    fsync_directory,
    segment_basename,
)
from camera_core.util.files import free_bytes

log = logging.getLogger(__name__)

DISK_CHECK_INTERVAL_S = 1.0
#: (reason, detail) of a take that stopped itself.
HaltListener = Callable[[str, str], None]


@dataclass(frozen=True, slots=True)
class RecordingTarget:
    """Where and how one camera records one take."""

    directory: Path
    basename: str
    write_csv: bool = True
    convert_mp4: bool = False
    #: Frames whose wall-clock time is earlier than this are not recorded (synchronized start).
    start_at_wall_ns: int | None = None
    #: Start a new numbered file (at a keyframe) every this many seconds of sensor time; 0 = one file.
    segment_seconds: float = 0.0
    #: Stop recording cleanly when the folder's free space falls below this many bytes (0 = never).
    stop_free_bytes: int = 0
    #: Begin the take with the frames of this many seconds before it starts (pre-trigger buffer).
    pretrigger_seconds: float = 0.0

    def segment_files(self, index: int) -> SegmentFiles:
        """The files of segment `index` (1-based); see recording/segment.py for the naming."""
        stem = segment_basename(self.basename, index, always_numbered=self.segment_seconds > 0)
        return SegmentFiles(self.directory, stem, self.write_csv)


class Take:
    """One camera's take from start to its finalized result."""

    def __init__(self, camera_id: int, target: RecordingTarget, result: RecordingResult, fps: float) -> None:
        self.camera_id = camera_id
        self.target = target
        self.result = result
        self.fps = fps
        # -- admission side (pipeline lock) --
        self.admitted = 0
        self.overflows = 0
        self.overflow_run = 0  # frames in the current run without room; the first is reported
        self.segment_number = 0  # the next number in the current segment
        self.segment_first_ns: int | None = None
        # -- writing side (recording thread) --
        self.begun = False
        self.written = 0
        self.discarded = 0
        self.misnumbered = 0
        self.pretrigger_frames = 0
        self.pretrigger_s = 0.0
        #: Pre-trigger takes burn the encoder's running count (numbers step by one from any start);
        #: the others burn the position in the file (from 0).
        self.running_numbers = False
        self._last_number = -1
        self._current: SegmentWriter | None = None
        self._index = 0
        self._next_reason = "start"
        self._want_split: str | None = None
        self._carry_ns: int | None = None
        self._finished: list[Future[SegmentResult]] = []
        self._finalizer = ThreadPoolExecutor(1, thread_name_prefix=f"finalize-cam{camera_id}")
        self._next_check = time.monotonic()
        self._check_bytes = max(64 * 1024, target.stop_free_bytes // 8)
        self._written_bytes = self._bytes_at_check = 0
        self.failed: str | None = None
        self.halted: str | None = None
        self.halt_detail = ""
        self._halt_lock = threading.Lock()
        self.listener: HaltListener | None = None
        #: Where the take's events go (recording_first_frame, published right after writing it).
        self.publish: Publish | None = None
        #: Set when the take was told to stop (its last frames may still be on their way).
        self.stopping = False
        self.ended = threading.Event()
        target.directory.mkdir(parents=True, exist_ok=True)
        # The first files are created now, so a name clash or a full disk fails start().
        self._open(target.segment_files(1))

    @property
    def first_files(self) -> SegmentFiles:
        return self.target.segment_files(1)

    # -- writing side ----------------------------------------------------------------------------

    def begin(self, frames: list[EncodedFrame], start_ns: int) -> None:
        """The take's own first frame (sensor time `start_ns`) is here: write the pre-trigger
        frames before it."""
        self.begun = True
        if frames:
            self.pretrigger_s = round((start_ns - frames[0].meta.sensor_ns) / 1e9, 3)
        for frame in frames:
            self.write(frame, pretrigger=True)

    def write(self, frame: EncodedFrame, *, pretrigger: bool = False) -> None:
        """One encoded frame into the current file; a new file begins at a keyframe when one is due.
        A failure halts the take (the files keep every whole frame written before) and never raises."""
        if self.halted:
            return
        meta = frame.meta
        if meta.split is not None and meta.split != "start" and self.written:
            self._want_split = meta.split
        try:
            if self._current is not None and self._want_split and frame.keyframe and self._current.summary.frames:
                self._close_current(next_reason=self._want_split)
            if self._current is None or not self._current.summary.frames:
                if not frame.keyframe:
                    self.discarded += 1  # a file must begin with a keyframe
                    return
                if self._current is None:
                    self._open(self.target.segment_files(self._index + 1), reason=self._next_reason)
            current = self._current
            assert current is not None
            if (current.summary.frames and meta.number != self._last_number + 1) or (
                not self.running_numbers and not current.summary.frames and meta.number != 0
            ):
                self.misnumbered += 1
            self._last_number = meta.number
            before = current.bytes_written
            current.write(frame)
            self.written += 1
            self.pretrigger_frames += pretrigger
            if not pretrigger and self.written == self.pretrigger_frames + 1 and self.publish is not None:
                self.publish(RecordingFirstFrame(self.camera_id, self.written))
            self._written_bytes += current.bytes_written - before
            current.sync_if_due()
            self._check_space()
        except Exception as exc:
            self.fail(exc)

    def end_segment(self, reason: str) -> None:
        """Close the current file now (the camera is lost); the next keyframe opens the next one."""
        if self._current is None or not self._current.summary.frames or self.halted:
            return
        try:
            self._close_current(next_reason=reason)
        except Exception as exc:
            self.fail(exc)

    def finish(self) -> None:
        """The take's last frame is written: close the file and hand it to the finalizer."""
        try:
            if self._current is not None:
                self._close_current(next_reason=None)
        except Exception as exc:
            self.fail(exc)
        finally:
            self.ended.set()

    def _open(self, files: SegmentFiles, reason: str = "start") -> None:
        self._index += 1
        carried = self._carry_ns if reason != "start" else None
        self._current = SegmentWriter(files, self._index, reason, self.fps, previous_sensor_ns=carried)
        self._want_split = None

    def _close_current(self, next_reason: str | None) -> None:
        current, self._current = self._current, None
        if current is None:
            return
        summary = current.finish()
        self._carry_ns = summary.last_sensor_timestamp_ns
        if next_reason is not None:
            self._next_reason = next_reason
            if summary.index == 1 and summary.files.stem == self.target.basename:
                summary.files = number_first_file(summary.files, self.target.basename)
        log.info("cam%d: %s closed: %d frames", self.camera_id, summary.files.stem, summary.frames)
        self._finished.append(self._finalizer.submit(finalize_segment, summary, self.target.convert_mp4))

    def _check_space(self) -> None:
        target = self.target
        now = time.monotonic()
        if now < self._next_check and self._written_bytes - self._bytes_at_check < self._check_bytes:
            return
        self._next_check = now + DISK_CHECK_INTERVAL_S
        self._bytes_at_check = self._written_bytes
        if not target.directory.is_dir():
            self._close_current(next_reason=None)
            self.halt("output_missing", f"the output folder {target.directory} was deleted or moved")
            return
        if target.stop_free_bytes and (why := below_floor(target)) is not None:
            self._close_current(next_reason=None)
            self.halt("disk_low", why)

    def fail(self, exc: Exception) -> None:
        """Disk full, encoder or I/O error: keep what is written, say so, take no more frames."""
        full = isinstance(exc, OSError) and exc.errno == errno.ENOSPC
        self.failed = f"{type(exc).__name__}: {exc}"
        log.error(
            "cam%d: recording failed (%s); the files hold every frame written before",
            self.camera_id,
            "disk full" if full else self.failed,
            exc_info=not full,
        )
        current, self._current = self._current, None
        if current is not None:
            try:
                self._finished.append(self._finalizer.submit(finalize_segment, current.abort(), False))
            except Exception:
                log.exception("cam%d: closing the files after the failure failed", self.camera_id)
        gone = not self.target.directory.is_dir()
        self.halt("output_missing" if gone else "disk_full" if full else "error", self.failed)

    def halt(self, reason: str, detail: str) -> None:
        """The take stops itself: no more frames are taken; the listener is told."""
        with self._halt_lock:
            if self.halted:
                return
            self.halted, self.halt_detail = reason, detail
        log.error("cam%d: recording stopped: %s: %s", self.camera_id, reason, detail)
        if self.listener is not None and not self.stopping:  # a take being stopped needs no telling
            try:
                self.listener(reason, detail)
            except Exception:
                log.exception("cam%d: recording listener failed", self.camera_id)

    # -- result (control thread, after `ended`) ---------------------------------------------------

    def close(self, extra_errors: Iterable[str] = ()) -> RecordingResult:
        """Wait for the finalizer and build the take's result."""
        result = self.result
        segments: list[SegmentResult] = []
        for future in self._finished:
            try:
                segments.append(future.result())
            except Exception as exc:  # a vanished file, a checksum read error
                result.errors.append(f"finalizing a segment failed: {type(exc).__name__}: {exc}")
                log.exception("cam%d: finalizing a segment failed", self.camera_id)
        self._finalizer.shutdown(wait=True)
        result.stopped_at_unix = time.time()
        result.stop_reason = self.halted or "requested"
        result.encoder_overflows = self.overflows
        if self.failed:
            result.errors.append(self.failed)
        elif self.halted:
            result.errors.append(f"recording stopped early ({self.halted}): {self.halt_detail}")
        if self.discarded:
            result.errors.append(f"{self.discarded} frames were not recorded while waiting for a keyframe")
        if self.misnumbered:
            result.errors.append(f"{self.misnumbered} frames carry a burned-in number that differs from their row")
        result.errors.extend(extra_errors)
        result.pretrigger_s = self.pretrigger_s
        result.summarize(segments)
        if not segments:
            result.video = self.first_files.h264_path.name
            result.timing_csv = self.first_files.csv_path.name if self.target.write_csv else None
        return result

    def stats(self) -> dict[str, object]:
        return {"frames_recorded": self.written, "segment": self._index, "recording_halted": self.halted}


def number_first_file(files: SegmentFiles, basename: str) -> SegmentFiles:
    """Rename a take's plain-named first file pair to `_seg0001` (a second file follows)."""
    numbered = replace(files, stem=segment_basename(basename, 1, always_numbered=True))
    for old, new in ((files.h264_path, numbered.h264_path), (files.csv_path, numbered.csv_path)):
        if old.exists():
            os.rename(old, new)
    fsync_directory(files.directory)
    return numbered


def below_floor(target: RecordingTarget) -> str | None:
    """Why recording must stop for lack of space (free space under the floor), or None."""
    free = free_bytes(target.directory)
    if free >= target.stop_free_bytes:
        return None
    return (
        f"{free / 1e6:.1f} MB free in {target.directory}, "
        f"below the floor of {target.stop_free_bytes / 1e6:.1f} MB (stop_free_space_mb)"
    )


__all__ = ["DISK_CHECK_INTERVAL_S", "RecordingTarget", "SegmentSummary", "Take", "below_floor"]
