"""Per-camera recording: frame number burn-in, a bounded queue, an encoder thread that writes the
.h264 and the timing row of every frame it writes, and finalization (MP4, checksums)."""

from __future__ import annotations

import logging
import queue
import threading
import time
from abc import ABC, abstractmethod
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from camera_core.overlay import OverlayStyle, burn_frame_number
from camera_core.recording.h264 import H264Encoder, H264Params
from camera_core.recording.remux import RemuxError, remux_to_mp4
from camera_core.recording.timing_log import TimingLog, TimingRow
from camera_core.sources.base import CameraInfo
from camera_core.sources.frame import Frame
from camera_core.timing import BootToWallClock, DropCounter
from camera_core.util.files import fsync_file, sha256_file

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

    @property
    def h264_path(self) -> Path:
        return self.directory / f"{self.basename}.h264"

    @property
    def mp4_path(self) -> Path:
        return self.directory / f"{self.basename}.mp4"

    @property
    def csv_path(self) -> Path:
        return self.directory / f"{self.basename}_frame_timing.csv"


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


@dataclass(slots=True)
class _Pending:
    number: int
    frame: Frame
    wall_ns: int


class PyAVRecorder(Recorder):
    """Encodes with libx264 through PyAV in its own thread.

    Timing rows are written as the encoder hands out each frame's packet, so rows and video frames
    agree one to one. When the queue is full a frame from a paced camera is dropped (counted in
    `encoder_overflows` and logged); an unpaced source waits instead.
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
        self._queue: queue.Queue[_Pending | None] = queue.Queue(maxsize=queue_frames)
        self._lock = threading.Lock()
        self._target: RecordingTarget | None = None
        self._thread: threading.Thread | None = None
        self._result: RecordingResult | None = None
        self._next_number = 0
        self._overflows = 0
        self._failed: str | None = None
        self._pts_us: list[int] = []

    @property
    def active(self) -> bool:
        return self._target is not None

    def start(self, target: RecordingTarget) -> None:
        with self._lock:
            if self._target is not None:
                raise RuntimeError("already recording")
            target.directory.mkdir(parents=True, exist_ok=True)
            self._next_number, self._overflows, self._failed = 0, 0, None
            self._pts_us = []
            self._queue = queue.Queue(maxsize=self._queue_frames)
            self._result = RecordingResult(
                camera_id=self.info.camera_id,
                basename=target.basename,
                width=self.params.width,
                height=self.params.height,
                fps=self.params.fps,
                encoder=self.params.label,
                started_at_unix=time.time(),
            )
            video = target.h264_path.open("xb")
            timing = TimingLog(target.csv_path if target.write_csv else None)
            self._thread = threading.Thread(
                target=self._encode_loop,
                args=(self._queue, video, timing, self._result),
                name=f"encoder-cam{self.info.camera_id}",
                daemon=True,
            )
            self._target = target
            self._thread.start()
        log.info("cam%d: recording to %s", self.info.camera_id, target.h264_path.name)

    def submit(self, frame: Frame) -> None:
        with self._lock:
            target = self._target
            if target is None or self._failed:
                return
            wall_ns = frame.wall_clock_ns or self.clock.to_wall_ns(frame.sensor_timestamp_ns)
            if target.start_at_wall_ns is not None and wall_ns < target.start_at_wall_ns:
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
            number = self._next_number
            self._next_number += 1
            if self.style is not None:
                burn_frame_number(frame.luma(), number, self.style)
            # Under the lock, so stop()'s end marker always comes after the last frame.
            self._queue.put(_Pending(number, frame, wall_ns))

    def stop(self) -> RecordingResult:
        with self._lock:
            target, thread, result = self._target, self._thread, self._result
            self._target = None
        if target is None or thread is None or result is None:
            raise RuntimeError("not recording")
        with self._lock:
            self._queue.put(None)
        thread.join()
        result.encoder_overflows = self._overflows
        result.stopped_at_unix = time.time()
        if self._failed:
            result.errors.append(self._failed)
        self._finalize_files(target, result)
        log.info(
            "cam%d: recording stopped: %d frames, %d drops, %d overflows -> %s",
            self.info.camera_id,
            result.frames,
            result.hardware_drops,
            result.encoder_overflows,
            result.video,
        )
        return result

    def stats(self) -> dict[str, object]:
        return {
            "recording": self.active,
            "frames_recorded": self._next_number,
            "encoder_queue": self._queue.qsize(),
            "encoder_overflows": self._overflows,
            "encoder": self.params.label,
        }

    # -- encoder thread -------------------------------------------------------------------------

    def _encode_loop(
        self,
        frames: queue.Queue[_Pending | None],
        video: BinaryIO,
        timing: TimingLog,
        result: RecordingResult,
    ) -> None:
        encoder = H264Encoder(self.params)
        drops = DropCounter()
        waiting: deque[_Pending] = deque()
        first_ns: int | None = None

        def write_packet(data: bytes) -> None:
            nonlocal first_ns
            item = waiting.popleft()
            video.write(data)
            frame = item.frame
            if first_ns is None:
                first_ns = frame.sensor_timestamp_ns
                result.first_sensor_timestamp_ns = first_ns
                result.first_wall_clock_ns = item.wall_ns
            dropped = drops.observe(frame.sensor_timestamp_ns, frame.frame_duration_us * 1000.0)
            pts_us = round((frame.sensor_timestamp_ns - first_ns) / 1000)
            self._pts_us.append(pts_us)
            timing.write(
                TimingRow(
                    item.number,
                    frame.sensor_timestamp_ns,
                    dropped,
                    drops.total,
                    item.wall_ns,
                    pts_us,
                    frame.frame_duration_us,
                    frame.sequence,
                )
            )
            result.frames += 1
            result.hardware_drops = drops.total
            result.last_sensor_timestamp_ns = frame.sensor_timestamp_ns
            if timing.sync_due():
                fsync_file(video)
                timing.sync()

        try:
            while (item := frames.get()) is not None:
                if self._failed:
                    continue
                waiting.append(item)
                for data in encoder.encode(item.frame.image, item.frame.pixel_format):
                    write_packet(data)
            for data in encoder.flush():
                write_packet(data)
        except Exception as exc:  # disk full, encoder error: keep what is written, say so
            self._failed = f"{type(exc).__name__}: {exc}"
            log.exception("cam%d: recording failed; the files hold what was written before", self.info.camera_id)
            while frames.get() is not None:  # drain until stop() sends the end marker
                pass
        finally:
            try:
                fsync_file(video)
            except OSError:
                pass
            video.close()
            timing.close()

    def _finalize_files(self, target: RecordingTarget, result: RecordingResult) -> None:
        result.timing_csv = target.csv_path.name if target.write_csv else None
        if result.first_sensor_timestamp_ns is not None and result.last_sensor_timestamp_ns is not None:
            span_ns = result.last_sensor_timestamp_ns - result.first_sensor_timestamp_ns
            result.duration_s = span_ns / 1e9 + (1.0 / result.fps if result.frames else 0.0)
        video_path = target.h264_path
        result.container = "h264"
        if target.convert_mp4 and result.frames and not self._failed:
            try:
                remux_to_mp4(target.h264_path, self._pts_us, target.mp4_path)
                target.h264_path.unlink()
                video_path, result.container = target.mp4_path, "mp4"
            except (RemuxError, OSError) as exc:
                result.errors.append(f"MP4 conversion failed, .h264 kept: {exc}")
                log.error("cam%d: MP4 conversion failed, keeping %s: %s", self.info.camera_id, video_path.name, exc)
        result.video = video_path.name
        paths = [video_path] + ([target.csv_path] if target.write_csv else [])
        result.files = [{"name": p.name, "bytes": p.stat().st_size, "sha256": sha256_file(p)} for p in paths]
