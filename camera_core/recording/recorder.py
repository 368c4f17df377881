"""Per-camera recording: frame number burn-in, a bounded queue, an encoder thread that writes the
.h264 and the timing row of every frame it writes, segments (split by time or by a camera restart),
a free-space floor, and finalization (MP4, checksums) in a finalizer thread."""

from __future__ import annotations

import errno
import logging
import queue
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from camera_core.overlay import OverlayStyle, burn_frame_number
from camera_core.recording.h264 import H264Params
from camera_core.recording.segment import (
    QueuedFrame,
    SegmentFiles,
    SegmentWriter,
    finalize_segment,
    segment_basename,
)
from camera_core.sources.base import CameraInfo
from camera_core.sources.frame import Frame
from camera_core.sync.start import before_sync_point, start_threshold_ns
from camera_core.timing import BootToWallClock
from camera_core.util.files import free_bytes

log = logging.getLogger(__name__)


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

    def segment_files(self, index: int) -> SegmentFiles:
        """The files of segment `index` (1-based); see recording/segment.py for the naming."""
        stem = segment_basename(self.basename, index, always_numbered=self.segment_seconds > 0)
        return SegmentFiles(self.directory, stem, self.write_csv)


@dataclass(slots=True)
class RecordingResult:
    """What a finished recording produced; goes into the manifest and the stop reply."""

    camera_id: int
    basename: str
    video: str = ""
    timing_csv: str | None = None
    container: str = "h264"
    frames: int = 0
    hardware_drops: int = 0
    encoder_overflows: int = 0
    first_sensor_timestamp_ns: int | None = None
    last_sensor_timestamp_ns: int | None = None
    first_wall_clock_ns: int | None = None
    duration_s: float = 0.0
    width: int = 0
    height: int = 0
    fps: float = 0.0
    encoder: str = ""
    started_at_unix: float = 0.0
    stopped_at_unix: float = 0.0
    files: list[dict[str, object]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    #: Every file of the take in order (one entry per segment; `video` above is the first one).
    segments: list[dict[str, Any]] = field(default_factory=list)
    #: requested | disk_low | disk_full | error
    stop_reason: str = "requested"

    def as_dict(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in self.__slots__}


class Recorder(ABC):
    """One camera's recorder. `submit` is called from the capture path for every frame."""

    @property
    @abstractmethod
    def active(self) -> bool: ...

    @abstractmethod
    def start(self, target: RecordingTarget) -> None: ...

    @abstractmethod
    def submit(self, frame: Frame) -> None: ...

    @abstractmethod
    def stop(self) -> RecordingResult: ...

    @abstractmethod
    def stats(self) -> dict[str, object]: ...

    def request_stop(self) -> None:  # noqa: B027 (optional hook)
        """Take no more frames from now on; `stop()` then finalizes. The system calls this on every
        camera first, so the takes end on the same instant before any of them spends time on MP4
        conversion and checksums."""

    def end_segment(self, reason: str = "camera_restart") -> None:  # noqa: B027 (optional hook)
        """Close the current file now; the next frame starts a new numbered segment."""

    def set_listener(self, listener: RecorderListener | None) -> None:  # noqa: B027 (optional hook)
        """`listener(reason, detail)` is called (from the recorder's thread) when the recorder stops
        itself: disk_low, disk_full or error. The caller should then call stop()."""


#: (reason, detail) of a recorder that stopped itself.
RecorderListener = Callable[[str, str], None]
_END_SEGMENT = "end-segment"
DISK_CHECK_INTERVAL_S = 1.0


class PyAVRecorder(Recorder):
    """Encodes with libx264 through PyAV in its own thread.

    Timing rows are written as the encoder hands out each frame's packet, so rows and video frames
    agree one to one. When the queue is full a frame from a paced camera is dropped (counted in
    `encoder_overflows` and logged); an unpaced source waits instead. Finished segments are
    converted and checksummed in a finalizer thread so the encoder never waits for them.
    """

    def __init__(
        self,
        info: CameraInfo,
        params: H264Params,
        clock: BootToWallClock,
        *,
        style: OverlayStyle | None,
        queue_frames: int,
        block_when_full: bool,
    ) -> None:
        self.info = info
        self.params = params
        self.clock = clock
        self.style = style
        self.block_when_full = block_when_full
        self._queue_frames = queue_frames
        self._queue: queue.Queue[QueuedFrame | str | None] = queue.Queue(maxsize=queue_frames)
        self._lock = threading.Lock()
        self._target: RecordingTarget | None = None
        self._thread: threading.Thread | None = None
        self._result: RecordingResult | None = None
        self._closing: tuple[RecordingTarget, threading.Thread, RecordingResult, ThreadPoolExecutor] | None = None
        self._listener: RecorderListener | None = None
        self._finalizer: ThreadPoolExecutor | None = None
        self._finished: list[Future[dict[str, Any]]] = []
        self._next_number = 0  # in the current segment
        self._submitted = 0  # in the whole take
        self._segment = 0
        self._segment_first_ns: int | None = None
        self._split_reason = "start"
        self._overflows = 0
        self._failed: str | None = None
        self._halted: str | None = None
        self._halt_detail = ""
        self._halt_lock = threading.Lock()

    @property
    def active(self) -> bool:
        return self._target is not None

    def set_listener(self, listener: RecorderListener | None) -> None:
        self._listener = listener

    def start(self, target: RecordingTarget) -> None:
        with self._lock:
            if self._target is not None:
                raise RuntimeError("already recording")
            target.directory.mkdir(parents=True, exist_ok=True)
            self._next_number, self._submitted, self._overflows = 0, 0, 0
            self._failed, self._halted, self._halt_detail = None, None, ""
            self._segment, self._segment_first_ns, self._split_reason = 1, None, "start"
            self._queue = queue.Queue(maxsize=self._queue_frames)
            # The first files are created here, so a name clash or a full disk fails start().
            first = SegmentWriter(target.segment_files(1), 1, "start", self.params)
            self._result = RecordingResult(
                camera_id=self.info.camera_id,
                basename=target.basename,
                width=self.params.width,
                height=self.params.height,
                fps=self.params.fps,
                encoder=self.params.label,
                started_at_unix=time.time(),
            )
            self._finalizer = ThreadPoolExecutor(1, thread_name_prefix=f"finalize-cam{self.info.camera_id}")
            self._finished = []
            self._thread = threading.Thread(
                target=self._encode_loop,
                args=(self._queue, target, first, self._finalizer, self._finished),
                name=f"encoder-cam{self.info.camera_id}",
                daemon=True,
            )
            self._target = target
            self._thread.start()
        log.info("cam%d: recording to %s", self.info.camera_id, first.summary.files.h264_path.name)

    def submit(self, frame: Frame) -> None:
        with self._lock:
            target = self._target
            if target is None or self._failed or self._halted:
                return
            wall_ns = frame.wall_clock_ns or self.clock.to_wall_ns(frame.sensor_timestamp_ns)
            if target.start_at_wall_ns is not None and wall_ns < start_threshold_ns(frame, target.start_at_wall_ns):
                return
            if before_sync_point(frame):
                return
            if self._queue.full() and not self.block_when_full:
                self._overflows += 1
                if self._overflows == 1 or self._overflows % 100 == 0:
                    log.warning(
                        "cam%d: encoder queue full, %d frames not recorded",
                        self.info.camera_id,
                        self._overflows,
                    )
                return
            first_ns = self._segment_first_ns
            if (
                target.segment_seconds > 0
                and first_ns is not None
                and frame.sensor_timestamp_ns - first_ns >= target.segment_seconds * 1e9
            ):
                self._new_segment("time")
            if self._segment_first_ns is None:
                self._segment_first_ns = frame.sensor_timestamp_ns
            number = self._next_number
            self._next_number += 1
            self._submitted += 1
            if self.style is not None:
                burn_frame_number(frame.luma(), number, self.style)
            # Under the lock, so stop()'s end marker always comes after the last frame.
            self._queue.put(QueuedFrame(number, frame, wall_ns, self._segment, self._split_reason))

    def _new_segment(self, reason: str) -> None:
        """Under the lock: the next frame is number 0 of the next segment."""
        self._segment += 1
        self._next_number = 0
        self._segment_first_ns = None
        self._split_reason = reason

    def end_segment(self, reason: str = "camera_restart") -> None:
        with self._lock:
            if self._target is None or self._halted or self._next_number == 0:
                return  # nothing recorded in the current segment: the next frame continues it
            self._new_segment(reason)
            self._queue.put(_END_SEGMENT)

    def request_stop(self) -> None:
        with self._lock:
            target, thread, result, finalizer = self._target, self._thread, self._result, self._finalizer
            if target is None or thread is None or result is None or finalizer is None:
                return
            self._target = None
            self._closing = (target, thread, result, finalizer)
            self._queue.put(None)  # under the lock: after the last frame submitted

    def stop(self) -> RecordingResult:
        self.request_stop()
        with self._lock:
            closing, self._closing = self._closing, None
        if closing is None:
            raise RuntimeError("not recording")
        target, thread, result, finalizer = closing
        thread.join()
        segments = collect_segments(self._finished, result)
        finalizer.shutdown(wait=True)
        result.encoder_overflows = self._overflows
        close_result(target, result, segments, failed=self._failed, halted=self._halted, halt_detail=self._halt_detail)
        log.info(
            "cam%d: recording stopped (%s): %d frames in %d file(s), %d drops, %d overflows -> %s",
            self.info.camera_id,
            result.stop_reason,
            result.frames,
            len(segments),
            result.hardware_drops,
            result.encoder_overflows,
            result.video,
        )
        return result

    def stats(self) -> dict[str, object]:
        return {
            "recording": self.active,
            "frames_recorded": self._submitted,
            "segment": self._segment,
            "encoder_queue": self._queue.qsize(),
            "encoder_overflows": self._overflows,
            "encoder": self.params.label,
            "recording_halted": self._halted,
        }

    # -- encoder thread -------------------------------------------------------------------------

    def _encode_loop(
        self,
        frames: queue.Queue[QueuedFrame | str | None],
        target: RecordingTarget,
        first: SegmentWriter,
        finalizer: ThreadPoolExecutor,
        finished: list[Future[dict[str, Any]]],
    ) -> None:
        current: SegmentWriter | None = first
        next_disk_check = time.monotonic()
        # Free space is checked every second, and more often when writing fast towards a small floor.
        check_bytes = max(64 * 1024, target.stop_free_bytes // 8)
        written = written_at_check = 0

        def close_current() -> None:
            nonlocal current
            if current is None:
                return
            summary = current.finish()
            current = None
            log.info("cam%d: %s closed: %d frames", self.info.camera_id, summary.files.stem, summary.frames)
            finished.append(finalizer.submit(finalize_segment, summary, target.convert_mp4))

        try:
            while (item := frames.get()) is not None:
                if self._halted:
                    continue
                if isinstance(item, str):  # _END_SEGMENT
                    close_current()
                    continue
                if current is None or item.segment != current.summary.index:
                    previous = current
                    close_current()  # flushes the encoder: the last frames are written now
                    # A split by time carries the last timestamp over (read after the flush), so a
                    # drop at the boundary is counted.
                    carried = previous.last_sensor_ns if previous is not None and item.reason == "time" else None
                    current = SegmentWriter(
                        target.segment_files(item.segment),
                        item.segment,
                        item.reason,
                        self.params,
                        previous_sensor_ns=carried,
                    )
                before = current.bytes_written
                current.add(item)
                written += current.bytes_written - before
                current.sync_if_due()
                if target.stop_free_bytes and (
                    time.monotonic() >= next_disk_check or written - written_at_check >= check_bytes
                ):
                    next_disk_check = time.monotonic() + DISK_CHECK_INTERVAL_S
                    written_at_check = written
                    if (why := below_floor(target)) is not None:
                        close_current()
                        self._halt("disk_low", why)
            close_current()
        except Exception as exc:  # disk full, encoder error: keep what is written, say so
            full = isinstance(exc, OSError) and exc.errno == errno.ENOSPC
            self._failed = f"{type(exc).__name__}: {exc}"
            log.error(
                "cam%d: recording failed (%s); the files hold every frame written before",
                self.info.camera_id,
                "disk full" if full else self._failed,
                exc_info=not full,
            )
            if current is not None:
                try:
                    summary = current.abort()
                    finished.append(finalizer.submit(finalize_segment, summary, False))
                except Exception:
                    log.exception("cam%d: closing the files after the failure failed", self.info.camera_id)
            self._halt("disk_full" if full else "error", self._failed)
            while frames.get() is not None:  # drain until stop() sends the end marker
                pass

    def _halt(self, reason: str, detail: str) -> None:
        """The recorder stops itself: no more frames are taken; the listener is told."""
        with self._halt_lock:  # not self._lock: submit() may hold it while waiting for this thread
            if self._halted:
                return
            self._halted, self._halt_detail = reason, detail
        tell_listener(self.info.camera_id, self._listener, reason, detail)


def summarize_segments(target: RecordingTarget, result: RecordingResult, segments: list[dict[str, Any]]) -> None:
    """The take's totals from its segments; `video`/`timing_csv` name the first file."""
    result.segments = segments
    if not segments:
        result.video = target.segment_files(1).h264_path.name
        result.timing_csv = target.segment_files(1).csv_path.name if target.write_csv else None
        return
    first, last = segments[0], segments[-1]
    result.video = first["video"]
    result.timing_csv = first["timing_csv"]
    result.container = first["container"]
    result.frames = sum(seg["frames"] for seg in segments)
    result.hardware_drops = sum(seg["hardware_drops"] for seg in segments)
    result.first_sensor_timestamp_ns = first["first_sensor_timestamp_ns"]
    result.last_sensor_timestamp_ns = last["last_sensor_timestamp_ns"]
    result.first_wall_clock_ns = first["first_wall_clock_ns"]
    result.duration_s = round(sum(seg["duration_s"] for seg in segments), 6)
    result.files = [f for seg in segments for f in seg["files"]]
    result.errors.extend(e for seg in segments for e in seg["errors"])


def collect_segments(finished: list[Future[dict[str, Any]]], result: RecordingResult) -> list[dict[str, Any]]:
    """The finalized segments of a take, in order; a segment that failed to finalize becomes an error."""
    segments: list[dict[str, Any]] = []
    for future in finished:
        try:
            segments.append(future.result())
        except Exception as exc:  # a vanished file, a checksum read error
            result.errors.append(f"finalizing a segment failed: {type(exc).__name__}: {exc}")
            log.exception("cam%d: finalizing a segment failed", result.camera_id)
    return segments


def close_result(
    target: RecordingTarget,
    result: RecordingResult,
    segments: list[dict[str, Any]],
    *,
    failed: str | None,
    halted: str | None,
    halt_detail: str,
) -> None:
    """Stop time, stop reason, errors and the totals of a finished take."""
    result.stopped_at_unix = time.time()
    result.stop_reason = halted or "requested"
    if failed:
        result.errors.append(failed)
    elif halted:
        result.errors.append(f"recording stopped early ({halted}): {halt_detail}")
    summarize_segments(target, result, segments)


def below_floor(target: RecordingTarget) -> str | None:
    """Why recording must stop for lack of space (free space under the floor), or None."""
    free = free_bytes(target.directory)
    if free >= target.stop_free_bytes:
        return None
    return (
        f"{free / 1e6:.1f} MB free in {target.directory}, "
        f"below the floor of {target.stop_free_bytes / 1e6:.1f} MB (stop_free_space_mb)"
    )


def tell_listener(camera_id: int, listener: RecorderListener | None, reason: str, detail: str) -> None:
    """Log a recorder stopping itself and tell its listener (whose errors are logged, not raised)."""
    log.error("cam%d: recording stopped: %s: %s", camera_id, reason, detail)
    if listener is not None:
        try:
            listener(reason, detail)
        except Exception:
            log.exception("cam%d: recording listener failed", camera_id)
