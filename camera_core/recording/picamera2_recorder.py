"""Recording on a Pi camera through picamera2's own H.264 encoder: the V4L2 hardware encoder on a
Pi 4 and earlier, libx264 through PyAV on a Pi 5 (picamera2 aliases `H264Encoder` there).

How rows and video frames stay one to one:
- the source's `pre_callback` hands every delivered frame to `on_request` (camera loop thread).
  While recording, the frame gets the next frame number, which is burned into the main stream's
  Y plane through `MappedArray` before anything copies or encodes it, and its metadata is kept
  under its encoder timestamp (int(SensorTimestamp / 1000), as picamera2's encoders compute it);
- the encoder is a thin subclass whose `encode` takes only the frames numbered that way, so every
  number reaches the encoder and nothing unnumbered does (picamera2's own `sync_enable` gates
  frames in `encode` the same way);
- an `Output` in the encoder's list receives each encoded frame with its timestamp, finds the
  frame's metadata, and queues (bytes, metadata) for a writer thread, which appends the frame to
  the .h264 and its timing row to the CSV (recording/segment.py), so neither disk writes nor
  fsyncs ever hold up the camera loop (libx264 calls outputs from that loop).

Frames the camera loses (drops, buffers held too long) never reach `encode`; they show only as
SensorTimestamp gaps, which the rows' `dropped_since_last` counts.
"""

from __future__ import annotations

import errno
import functools
import logging
import queue
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from fractions import Fraction
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

from camera_core.overlay import OverlayStyle, burn_frame_number
from camera_core.recording.h264 import H264Params
from camera_core.recording.recorder import (
    DISK_CHECK_INTERVAL_S,
    Recorder,
    RecorderListener,
    RecordingResult,
    RecordingTarget,
    below_floor,
    close_result,
    collect_segments,
    tell_listener,
)
from camera_core.recording.segment import QueuedFrame, SegmentWriter, finalize_segment
from camera_core.sources.frame import Frame
from camera_core.sync import picamera2_sync
from camera_core.timing import BootToWallClock

if TYPE_CHECKING:
    from camera_core.config.settings import Settings
    from camera_core.sources.picamera2_source import Picamera2Source

log = logging.getLogger(__name__)

_NO_IMAGE = np.empty((0, 0), dtype=np.uint8)


def is_software_h264(picamera2: ModuleType) -> bool:
    """True on a Pi 5: picamera2's H264Encoder is its libx264 (PyAV) encoder there."""
    encoders = picamera2.encoders
    return issubclass(encoders.H264Encoder, encoders.LibavH264Encoder)


def encoder_label(picamera2: ModuleType) -> str:
    if is_software_h264(picamera2):
        return "libx264 (picamera2 LibavH264Encoder via PyAV, software: no hardware H.264 on this Pi)"
    return "V4L2 hardware H.264 (picamera2 H264Encoder)"


@functools.cache
def gated_encoder_class(base: type) -> type:
    """`base` (picamera2's H264Encoder) taking only the frames `gate(request)` accepts."""

    class GatedEncoder(base):  # type: ignore[misc, valid-type]
        def __init__(self, gate: Any, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.camera_core_gate = gate

        def encode(self, stream: Any, request: Any) -> None:
            if self.camera_core_gate(request):
                super().encode(stream, request)

    GatedEncoder.__name__ = GatedEncoder.__qualname__ = f"Gated{base.__name__}"
    return GatedEncoder


@functools.cache
def sink_output_class(base: type) -> type:
    """An `Output` (picamera2.outputs.Output) passing each encoded video frame to `sink`."""

    class SinkOutput(base):  # type: ignore[misc, valid-type]
        def __init__(self, sink: Any) -> None:
            super().__init__()
            self.camera_core_sink = sink

        def outputframe(
            self,
            frame: Any,
            keyframe: bool = True,
            timestamp: int | None = None,
            packet: Any = None,
            audio: bool = False,
        ) -> None:
            if audio or frame is None:
                return
            self.camera_core_sink(bytes(frame), keyframe, timestamp)

    return SinkOutput


@dataclass(frozen=True, slots=True)
class FrameMeta:
    """What the camera said about a frame being recorded, kept until its encoded bytes come back."""

    number: int
    sensor_ns: int
    frame_duration_us: float
    wall_ns: int
    #: SyncReady, SyncTimer, ExposureTime for the timing row.
    extra: dict[str, Any] = field(default_factory=dict)


class Picamera2Recorder(Recorder):
    """One Pi camera's recorder. `start`/`stop` come from the system; frames arrive through the
    source's pre_callback (`on_request`), never through `submit`."""

    def __init__(self, source: Picamera2Source, settings: Settings, *, style: OverlayStyle | None) -> None:
        self.source = source
        self.settings = settings
        self.style = style
        self.clock = BootToWallClock()
        self._lock = threading.Lock()
        self._target: RecordingTarget | None = None
        self._armed = False
        self._encoder: Any = None
        self._pending: dict[int, FrameMeta] = {}
        self._next_number = 0
        self._written = 0
        self._unmatched = 0
        self._misnumbered = 0
        self._queue: queue.Queue[tuple[bytes, bool, FrameMeta] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._result: RecordingResult | None = None
        self._closing: tuple[RecordingTarget, threading.Thread, RecordingResult, ThreadPoolExecutor] | None = None
        self._finalizer: ThreadPoolExecutor | None = None
        self._finished: list[Future[dict[str, Any]]] = []
        self._listener: RecorderListener | None = None
        self._failed: str | None = None
        self._halted: str | None = None
        self._halt_detail = ""
        self._last_duration_us = 0.0

    @property
    def active(self) -> bool:
        return self._target is not None

    @property
    def label(self) -> str:
        return encoder_label(self.source._p2)

    def set_listener(self, listener: RecorderListener | None) -> None:
        self._listener = listener

    # -- control (any thread) --------------------------------------------------------------------

    def _make_encoder(self) -> Any:
        info = self.source.info
        cls = gated_encoder_class(self.source.encoder_class())
        s = self.settings
        encoder = cls(
            self._accepts,
            bitrate=s.h264_bitrate_kbps * 1000 or None,
            repeat=True,
            iperiod=s.keyframe_interval,
            framerate=Fraction(info.fps).limit_denominator(1000),  # PyAV (Pi 5's encoder) takes no float
        )
        if is_software_h264(self.source._p2):
            encoder.preset = s.h264_preset
            encoder.threads = s.h264_threads
        return encoder

    def start(self, target: RecordingTarget) -> None:
        info = self.source.info
        with self._lock:
            if self._target is not None or (self._thread is not None and self._thread.is_alive()):
                raise RuntimeError("already recording")
            if self.source.picam2 is None:
                raise RuntimeError(f"cam{info.camera_id} is not open")
            target.directory.mkdir(parents=True, exist_ok=True)
            if target.segment_seconds > 0:
                log.warning(
                    "cam%d: segment_seconds is not supported with picamera2's encoder yet: one file per recording",
                    info.camera_id,
                )
            params = H264Params(width=info.width, height=info.height, fps=info.fps)
            writer = SegmentWriter(target.segment_files(1), 1, "start", params)  # a name clash fails here
            self._pending, self._next_number, self._written = {}, 0, 0
            self._unmatched = self._misnumbered = 0
            self._failed, self._halted, self._halt_detail = None, None, ""
            self._queue = queue.Queue()
            self._finalizer = ThreadPoolExecutor(1, thread_name_prefix=f"finalize-cam{info.camera_id}")
            self._finished = []
            self._result = RecordingResult(
                camera_id=info.camera_id,
                basename=target.basename,
                width=info.width,
                height=info.height,
                fps=info.fps,
                encoder=self.label,
                started_at_unix=time.time(),
            )
            self._thread = threading.Thread(
                target=self._write_loop,
                args=(self._queue, target, writer, self._finalizer, self._finished),
                name=f"writer-cam{info.camera_id}",
                daemon=True,
            )
            self._thread.start()
        # Not under self._lock: start_encoder takes picamera2's lock, which the camera loop holds
        # while it calls on_request, which takes self._lock.
        try:
            self._encoder = self._make_encoder()
            output = sink_output_class(self.source._p2.outputs.Output)(self._on_encoded)
            self.source.picam2.start_encoder(self._encoder, output, name="main")
        except BaseException:
            self._encoder = None
            self._queue.put(None)
            self._thread.join()
            self._finalizer.shutdown(wait=True)
            raise
        with self._lock:
            self._target = target
            # Armed only now: start_encoder has put the encoder in picamera2's list, so every frame
            # numbered from here on reaches its encode().
            self._armed = True
        log.info("cam%d: recording to %s with %s", info.camera_id, writer.summary.files.h264_path.name, self.label)

    def submit(self, frame: Frame) -> None:
        """Frames are recorded from the camera loop (on_request); the capture path has nothing to do."""

    def request_stop(self) -> None:
        with self._lock:
            target, thread, result, finalizer = self._target, self._thread, self._result, self._finalizer
            if target is None or thread is None or result is None or finalizer is None:
                return
            self._armed = False  # no frame is numbered (so none encoded) from now on
            self._target = None
            self._closing = (target, thread, result, finalizer)

    def stop(self) -> RecordingResult:
        self.request_stop()
        with self._lock:
            closing, self._closing = self._closing, None
        if closing is None:
            raise RuntimeError("not recording")
        target, thread, result, finalizer = closing
        encoder, picam2 = self._encoder, self.source.picam2
        try:
            if picam2 is not None and encoder is not None:
                picam2.stop_encoder(encoder)  # encoded frames still inside come out through the output
        except Exception as exc:
            result.errors.append(f"stopping the encoder failed: {type(exc).__name__}: {exc}")
            log.exception("cam%d: stopping the encoder failed", result.camera_id)
        finally:
            self._encoder = None
            self._queue.put(None)
            thread.join()
        segments = collect_segments(self._finished, result)
        finalizer.shutdown(wait=True)
        with self._lock:
            self._pending.clear()
        if self._unmatched:
            result.errors.append(f"{self._unmatched} encoded frames had no metadata (timing estimated)")
        if self._misnumbered:
            result.errors.append(f"{self._misnumbered} frames carry a burned-in number that differs from their row")
        close_result(target, result, segments, failed=self._failed, halted=self._halted, halt_detail=self._halt_detail)
        log.info(
            "cam%d: recording stopped (%s): %d frames, %d drops -> %s",
            result.camera_id,
            result.stop_reason,
            result.frames,
            result.hardware_drops,
            result.video,
        )
        return result

    def stats(self) -> dict[str, object]:
        return {
            "recording": self.active,
            "frames_recorded": self._written,
            "segment": 1 if self.active else 0,
            "encoder_queue": self._queue.qsize(),
            "encoder_overflows": 0,
            "encoder": self.label,
            "recording_halted": self._halted,
        }

    # -- camera loop thread ----------------------------------------------------------------------

    def on_request(
        self, request: Any, metadata: dict[str, Any], sensor_ns: int, duration_us: float, wall_ns: int | None
    ) -> None:
        """pre_callback: number the frame and burn the number in when it is to be recorded."""
        with self._lock:
            target = self._target
            if not self._armed or target is None or self._halted:
                return
            wall = wall_ns if wall_ns is not None else self.clock.to_wall_ns(sensor_ns)
            if target.start_at_wall_ns is not None and wall < target.start_at_wall_ns:
                return
            if picamera2_sync.before_sync_point(self.source.sync_role, metadata):
                return
            number = self._next_number
            self._next_number += 1
            self._pending[int(sensor_ns / 1000)] = FrameMeta(
                number, sensor_ns, duration_us, wall, picamera2_sync.row_metadata(metadata)
            )
        if self.style is not None:
            width, height = self.source.info.width, self.source.info.height
            with self.source._p2.MappedArray(request, "main") as m:
                burn_frame_number(m.array[:height, :width], number, self.style)

    def _accepts(self, request: Any) -> bool:
        """The encoder's gate: only frames numbered by on_request are encoded."""
        key = int(request.get_metadata()["SensorTimestamp"] / 1000)
        with self._lock:
            return key in self._pending

    # -- encoder output (encoder thread, or the camera loop for libx264) -------------------------

    def _on_encoded(self, data: bytes, keyframe: bool, timestamp_us: int | None) -> None:
        encoder = self._encoder
        first = getattr(encoder, "firsttimestamp", None) or 0
        key = (timestamp_us or 0) + first
        with self._lock:
            meta = self._pending.pop(key, None)
            if meta is not None:
                for stale in [k for k in self._pending if k < key]:
                    del self._pending[stale]  # numbered but never encoded (cannot happen before the last)
        if meta is None:
            self._unmatched += 1
            if self._unmatched == 1:
                log.error("cam%d: an encoded frame (t=%s µs) has no metadata", self.source.camera_id, timestamp_us)
            sensor_ns = key * 1000
            meta = FrameMeta(-1, sensor_ns, self._last_duration_us, self.clock.to_wall_ns(sensor_ns))
        self._last_duration_us = meta.frame_duration_us
        self._queue.put((data, keyframe, meta))

    # -- writer thread ---------------------------------------------------------------------------

    def _write_loop(
        self,
        items: queue.Queue[tuple[bytes, bool, FrameMeta] | None],
        target: RecordingTarget,
        writer: SegmentWriter,
        finalizer: ThreadPoolExecutor,
        finished: list[Future[dict[str, Any]]],
    ) -> None:
        camera_id = self.source.camera_id
        current: SegmentWriter | None = writer
        next_disk_check = time.monotonic()
        try:
            while (item := items.get()) is not None:
                if current is None:
                    continue  # halted: drain until stop()
                data, keyframe, meta = item
                position = current.summary.frames
                if position == 0 and not keyframe:
                    log.warning("cam%d: the first encoded frame is not a keyframe", camera_id)
                if meta.number != position:
                    self._misnumbered += 1
                frame = Frame(
                    camera_id,
                    _NO_IMAGE,
                    "I420",
                    meta.sensor_ns,
                    meta.frame_duration_us,
                    wall_clock_ns=meta.wall_ns,
                    extra=meta.extra,
                )
                current.write_encoded(QueuedFrame(position, frame, meta.wall_ns, 1, "start"), data)
                self._written += 1
                current.sync_if_due()
                if target.stop_free_bytes and time.monotonic() >= next_disk_check:
                    next_disk_check = time.monotonic() + DISK_CHECK_INTERVAL_S
                    if (why := below_floor(target)) is not None:
                        finished.append(finalizer.submit(finalize_segment, current.finish(), target.convert_mp4))
                        current = None
                        self._halt("disk_low", why)
            if current is not None:
                finished.append(finalizer.submit(finalize_segment, current.finish(), target.convert_mp4))
        except Exception as exc:  # disk full, I/O error: keep what is written, say so
            full = isinstance(exc, OSError) and exc.errno == errno.ENOSPC
            self._failed = f"{type(exc).__name__}: {exc}"
            log.error("cam%d: recording failed: %s", camera_id, self._failed, exc_info=not full)
            if current is not None:
                try:
                    finished.append(finalizer.submit(finalize_segment, current.abort(), False))
                except Exception:
                    log.exception("cam%d: closing the files after the failure failed", camera_id)
            self._halt("disk_full" if full else "error", self._failed)
            while items.get() is not None:  # drain until stop() sends the end marker
                pass

    def _halt(self, reason: str, detail: str) -> None:
        """Stop taking frames (the encoder sees none from now on) and tell the listener."""
        with self._lock:
            if self._halted:
                return
            self._halted, self._halt_detail = reason, detail
        tell_listener(self.source.camera_id, self._listener, reason, detail)
