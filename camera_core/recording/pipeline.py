"""One camera's recording pipeline, the same for every camera: admission → encoder → recording
thread → take (files) or pre-trigger buffer.

- Admission (`submit` from the capture thread, or a request hook on the camera's own thread):
  the take's start gate, the number burned into the frame, where a new file begins (the encoder
  makes that frame a keyframe), and a bounded number of frames in flight: a frame from a paced
  camera that finds no room is not recorded and is counted (`encoder_overflows`); an unpaced
  source waits instead.
- The encoder (`EncoderStage`): libx264 through PyAV in the recording thread, or the camera's own
  encoder (picamera2's H264Encoder), whose output is queued to the recording thread.
- The recording thread writes every encoded frame to its take (recording/take.py), or, while no
  take is running and `pretrigger_seconds` > 0, keeps it in the pre-trigger buffer, from which
  the next take begins. It never waits for anything but its queue.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from camera_core.errors import RecorderStuckError
from camera_core.events import Event, FramesNotRecorded, Publish
from camera_core.frames.burnin import burn_frame_number
from camera_core.frames.frame import Frame
from camera_core.frames.overlay_style import OverlayStyle
from camera_core.recording.encoders import EncoderStage
from camera_core.recording.frames import EncodedFrame, FrameMeta
from camera_core.recording.pretrigger import PretriggerBuffer
from camera_core.recording.recorder import Recorder, RecorderListener
from camera_core.recording.results import RecordingResult
from camera_core.recording.slots import FrameSlots
from camera_core.recording.take import RecordingTarget, Take
from camera_core.sources.base import CameraRequest
from camera_core.sync.start import before_sync_point, start_threshold_ns
from camera_core.timing import BootToWallClock

log = logging.getLogger(__name__)

#: How long `stop` waits for the recording thread to write a take's last frames before giving up
#: on it (a disk that blocks every write); the take is then closed with what it holds.
STOP_TIMEOUT_S = 60.0


@dataclass(frozen=True, slots=True)
class _TakeStart:
    take: Take


@dataclass(frozen=True, slots=True)
class _TakeEnd:
    take: Take


@dataclass(frozen=True, slots=True)
class _EndSegment:
    take: Take
    reason: str


@dataclass(frozen=True, slots=True)
class _RawFrame:
    frame: Frame
    meta: FrameMeta


@dataclass(frozen=True, slots=True)
class _Failure:
    error: Exception


_QUIT = object()


class RecordingPipeline(Recorder):
    """One camera's recorder; see the module docstring."""

    def __init__(
        self,
        camera_id: int,
        stage: EncoderStage,
        clock: BootToWallClock,
        *,
        width: int,
        height: int,
        fps: float,
        style: OverlayStyle | None,
        queue_frames: int,
        block_when_full: bool,
        pretrigger_seconds: float = 0.0,
        pretrigger_max_bytes: int = 64_000_000,
        holds_frame: Callable[[Frame], bool] | None = None,
        on_started: Callable[[], None] | None = None,
    ) -> None:
        self.camera_id = camera_id
        self.stage = stage
        self.clock = clock
        self.width, self.height, self.fps = width, height, fps
        self.style = style
        self.block_when_full = block_when_full
        self.pretrigger_seconds = pretrigger_seconds
        self._holds_frame = holds_frame
        self._on_started = on_started
        self._lock = threading.Lock()
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._slots = FrameSlots(queue_frames)
        self._take: Take | None = None  # admission: the take frames are numbered into
        self._closing: Take | None = None
        self._last: Take | None = None
        self._writing: Take | None = None  # recording thread: the take it writes
        self._buffer = PretriggerBuffer(pretrigger_seconds, pretrigger_max_bytes) if pretrigger_seconds > 0 else None
        self._count = 0  # frames admitted to the encoder (burned with pre-trigger)
        self._pending_split: str | None = None
        self._armed = False
        self._stage_running = False
        self._thread: threading.Thread | None = None
        #: A recording thread that did not end within STOP_TIMEOUT_S (a write that never returns):
        #: no other thread may take its queue until it has ended.
        self._stuck: threading.Thread | None = None
        self._listener: RecorderListener | None = None
        self._publish: Publish | None = None
        self._unsent: list[Event] = []  # made under the lock, published after it (`_send`)
        self.overflows = 0  # frames not recorded for want of room, since the pipeline was made
        stage.attach(self)

    # -- Recorder interface ----------------------------------------------------------------------

    @property
    def active(self) -> bool:
        return self._take is not None

    @property
    def label(self) -> str:
        return self.stage.label

    def set_listener(self, listener: RecorderListener | None) -> None:
        self._listener = listener

    def set_publisher(self, publish: Publish | None) -> None:
        self._publish = publish

    def prepare(self) -> None:
        """With a pre-trigger buffer the encoder runs from now on, filling it."""
        if self._buffer is not None:
            self._run_encoder()

    def close(self) -> None:
        """Stop the encoder and the recording thread (after the last take has stopped), and let
        the encoder stage release what it holds for the pipeline's life (a worker process)."""
        self._stop_encoding()
        self.stage.close()

    def _stop_encoding(self) -> None:
        with self._lock:
            self._armed = False
        if self._stage_running:
            self._stage_running = False
            self._release(self.stage.stop())
        self._stop_thread()

    def start(self, target: RecordingTarget) -> None:
        with self._lock:
            if self._take is not None or self._closing is not None:
                raise RuntimeError("already recording")
            self._check_not_stuck()  # before the take makes its files
        result = RecordingResult(
            camera_id=self.camera_id,
            basename=target.basename,
            width=self.width,
            height=self.height,
            fps=self.fps,
            encoder=self.stage.label,
            started_at_unix=time.time(),
        )
        if target.pretrigger_seconds > self.pretrigger_seconds:
            raise ValueError(
                f"pretrigger_seconds {target.pretrigger_seconds:g} is more than the buffer holds "
                f"({self.pretrigger_seconds:g} s, set by the pretrigger_seconds setting)"
            )
        take = Take(self.camera_id, target, result, self.fps)  # creates the first files
        take.listener = self._listener
        take.publish = self._publish
        take.running_numbers = self._buffer is not None
        with self._lock:
            self._ensure_thread()
            self._pending_split = None
            self._queue.put(_TakeStart(take))
            self._take = take
            self._last = take
        try:
            self._run_encoder()
        except BaseException:
            with self._lock:
                self._take = None
                self._queue.put(_TakeEnd(take))
            self._wait_ended(take)
            take.close()
            for path in (take.first_files.h264_path, take.first_files.csv_path):
                path.unlink(missing_ok=True)
            raise
        if self._on_started is not None:
            self._on_started()
        log.info("cam%d: recording to %s with %s", self.camera_id, take.first_files.h264_path.name, self.label)

    def submit(self, frame: Frame) -> None:
        """Capture thread: a frame for a feeding encoder (PyAV)."""
        self._submit(frame)
        if self._unsent:
            self._send()

    def _submit(self, frame: Frame) -> None:
        if not self.stage.feeds_frames or not self._armed:
            return
        if self._take is None and self._buffer is None:
            return
        if self._holds_frame is not None and self._holds_frame(frame):
            return
        got = self._acquire_slot()
        wall_ns = frame.wall_clock_ns or self.clock.to_wall_ns(frame.sensor_timestamp_ns)
        with self._lock:
            meta = self._admit(
                frame.sensor_timestamp_ns, frame.frame_duration_us, wall_ns, frame.sequence, frame.extra, got
            )
            if meta is None:
                if got:
                    self._slots.release()
                return
            if self.style is not None:
                burn_frame_number(frame.luma(), meta.number, self.style)
            self._queue.put(_RawFrame(frame, meta))  # under the lock: before any later end marker

    def on_request(self, request: CameraRequest) -> None:
        """The camera's own thread (picamera2 pre_callback): admit a frame its encoder will encode."""
        self._on_request(request)
        if self._unsent:
            self._send()

    def _on_request(self, request: CameraRequest) -> None:
        if not self._armed or (self._take is None and self._buffer is None):
            return
        got = self._slots.try_acquire()
        wall_ns = request.wall_clock_ns or self.clock.to_wall_ns(request.sensor_ns)
        with self._lock:
            meta = self._admit(
                request.sensor_ns, request.frame_duration_us, wall_ns, request.sequence, request.extra, got
            )
            if meta is None:
                if got:
                    self._slots.release()
                return
            if self.style is not None:
                with request.luma() as plane:
                    burn_frame_number(plane, meta.number, self.style)
            self.stage.expect(meta, request)

    def put_encoded(self, frame: EncodedFrame) -> None:
        """The camera's encoder output (any thread): an encoded frame for the recording thread."""
        self._queue.put(frame)

    def put_failure(self, exc: Exception) -> None:
        """The camera's encoder failed (any thread): the take being written fails."""
        self._queue.put(_Failure(exc))

    def end_segment(self, reason: str = "camera_restart") -> None:
        with self._lock:
            take = self._take
            if take is None or take.halted or take.segment_number == 0:
                return  # nothing recorded in the current segment: the next frame continues it
            self._pending_split = reason
            self._queue.put(_EndSegment(take, reason))

    def request_stop(self) -> None:
        with self._lock:
            take = self._take
            if take is None:
                return
            self._take = None
            self._closing = take
            take.stopping = True
            self._report_overflows(take)
            if self.stage.feeds_frames:
                self._queue.put(_TakeEnd(take))  # under the lock: after the last frame admitted
        if self._unsent:
            self._send()

    def stop(self) -> RecordingResult:
        self.request_stop()
        with self._lock:
            take, self._closing = self._closing, None
        if take is None:
            raise RuntimeError("not recording")
        errors: list[str] = []
        if not self.stage.feeds_frames:
            with self._lock:
                self._armed = False  # nothing is admitted while the encoder stops
            try:
                self._stage_running = False
                self._release(self.stage.stop())  # the frames inside come out to the queue first
            except Exception as exc:
                errors.append(f"stopping the encoder failed: {type(exc).__name__}: {exc}")
                log.exception("cam%d: stopping the encoder failed", self.camera_id)
            self._queue.put(_TakeEnd(take))
        if not self._wait_ended(take):
            errors.append(f"the recording thread did not finish the take within {STOP_TIMEOUT_S:g} s")
        if self._buffer is not None:
            try:
                self._run_encoder()  # back to filling the pre-trigger buffer
            except Exception:
                log.exception("cam%d: restarting the encoder for the pre-trigger buffer failed", self.camera_id)
        else:
            self._stop_encoding()
        lost = take.admitted - (take.written - take.pretrigger_frames) - take.discarded
        if lost and not take.halted:
            errors.append(f"{lost} frames were admitted to the encoder but never written")
        result = take.close(errors)
        log.info(
            "cam%d: recording stopped (%s): %d frames in %d file(s), %d drops, %d overflows -> %s",
            self.camera_id,
            result.stop_reason,
            result.frames,
            len(result.segments),
            result.hardware_drops,
            result.encoder_overflows,
            result.video,
        )
        return result

    def stats(self) -> dict[str, object]:
        take = self._take or self._closing or self._last
        out: dict[str, object] = {
            "recording": self.active,
            # frames taken into the take (written soon after) while it runs; written once it ended
            "frames_recorded": (take.written if take.ended.is_set() else max(take.admitted, take.written))
            if take
            else 0,
            "segment": take.stats()["segment"] if take else 0,
            "encoder_queue": self._queue.qsize(),
            "encoder_overflows": take.overflows if take else 0,
            "encoder": self.label,
            "recording_halted": take.halted if take else None,
        }
        if self._buffer is not None:
            out.update(self._buffer.stats())
        return out

    # -- admission (pipeline lock) ---------------------------------------------------------------

    def _acquire_slot(self) -> bool:
        if not self.block_when_full:
            return self._slots.try_acquire()
        while self._armed:  # an unpaced source waits for the encoder
            if self._slots.acquire(0.5):
                return True
        return False

    def _admit(
        self,
        sensor_ns: int,
        duration_us: float,
        wall_ns: int,
        sequence: int | None,
        extra: dict[str, Any],
        room: bool,
    ) -> FrameMeta | None:
        if not self._armed:
            return None  # the encoder is stopping (checked again under the lock: nothing slips in)
        if before_sync_point(extra):
            return None  # a syncing camera before its sync point: never recorded nor buffered
        take = self._take
        at_ns = take.target.start_at_wall_ns if take is not None else None
        if take is not None and (take.halted or (at_ns is not None and wall_ns < start_threshold_ns(extra, at_ns))):
            take = None
        if take is None and self._buffer is None:
            return None
        if not room:
            self.overflows += 1
            if take is not None:
                take.overflows += 1
                take.overflow_run += 1
                if take.overflow_run == 1:
                    self._unsent.append(FramesNotRecorded(self.camera_id, 1, take.overflows))
            if self.overflows == 1 or self.overflows % 100 == 0:
                log.warning("cam%d: encoder queue full, %d frames not recorded", self.camera_id, self.overflows)
            return None
        split: str | None = None
        number = self._count
        if take is not None:
            seconds = take.target.segment_seconds
            if take.admitted == 0:
                split = "start"
                take.segment_first_ns = sensor_ns - int(take.target.pretrigger_seconds * 1e9)
            else:
                due = self._pending_split
                if due is None and seconds > 0 and take.segment_first_ns is not None:
                    # reached within half a frame (a 33,333 µs frame duration makes 30 frames 0.99999 s)
                    length_ns = seconds * 1e9 - duration_us * 500
                    due = "time" if sensor_ns - take.segment_first_ns >= length_ns else None
                # a new file begins at a keyframe: this frame, when the encoder makes it one
                if due is not None and self.stage.keyframe_next():
                    split, self._pending_split = due, None
            if split is not None:
                take.segment_number = 0
                if split != "start":
                    take.segment_first_ns = sensor_ns
            if self._buffer is None:
                number = take.segment_number
            take.segment_number += 1
            take.admitted += 1
            if take.overflow_run:
                self._report_overflows(take)
        self._count += 1
        return FrameMeta(number, sensor_ns, duration_us, wall_ns, sequence, take, split, extra)

    def _report_overflows(self, take: Take) -> None:
        """Under the lock: a run of frames without room has ended (a frame was admitted, or the
        take stops); report the rest of it (its first frame was reported when it happened)."""
        rest, take.overflow_run = take.overflow_run - 1, 0
        if rest > 0:
            self._unsent.append(FramesNotRecorded(self.camera_id, rest, take.overflows))

    def _send(self) -> None:
        """Publish the events made under the lock (never under it: a subscriber may call back in)."""
        with self._lock:
            events, self._unsent = self._unsent, []
        publish = self._publish
        if publish is not None:
            for event in events:
                publish(event)

    def _release(self, slots: int) -> None:
        self._slots.release(slots)

    # -- encoder and recording thread ------------------------------------------------------------

    def _run_encoder(self) -> None:
        """Make sure the recording thread and the encoder run and frames are admitted."""
        with self._lock:
            self._ensure_thread()
        if not self.stage.feeds_frames and not self._stage_running:
            self.stage.start()  # not under the lock: the camera's thread takes it in on_request
            self._stage_running = True
        elif self.stage.feeds_frames and not self._armed:
            self.stage.prepare()  # nothing is being encoded yet
        with self._lock:
            self._armed = True

    def _ensure_thread(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._check_not_stuck()
        self._thread = threading.Thread(target=self._run, name=f"recorder-cam{self.camera_id}", daemon=True)
        self._thread.start()

    def _check_not_stuck(self) -> None:
        """(pipeline lock) Raise while a recording thread that timed out is still running."""
        stuck = self._stuck
        if stuck is None:
            return
        if stuck.is_alive():
            raise RecorderStuckError(
                f"camera {self.camera_id}: its recording thread is still writing the last take "
                f"(it did not finish within {STOP_TIMEOUT_S:g} s: is the disk answering?); "
                "try again once it has finished"
            )
        self._stuck = None

    def _stop_thread(self) -> None:
        with self._lock:
            self._armed = False
            thread, self._thread = self._thread, None
        if thread is not None and thread.is_alive():
            self._queue.put(_QUIT)
            thread.join(timeout=STOP_TIMEOUT_S)
            if thread.is_alive():
                log.error(
                    "cam%d: the recording thread did not end within %g s; no new take until it has",
                    self.camera_id,
                    STOP_TIMEOUT_S,
                )
                with self._lock:
                    self._stuck = thread

    def _wait_ended(self, take: Take) -> bool:
        """Until the recording thread has finished `take`; if the thread is gone, finish it here."""
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while not take.ended.wait(0.2):
            thread = self._thread
            if thread is None or not thread.is_alive():
                take.finish()
                return True
            if time.monotonic() > deadline:
                return False
        return True

    def _run(self) -> None:
        while (item := self._queue.get()) is not _QUIT:
            try:
                self._handle(item)
            except Exception:  # never dies: a take that fails halts itself
                log.exception("cam%d: recording thread error", self.camera_id)

    def _handle(self, item: object) -> None:
        if isinstance(item, _RawFrame):
            halted = item.meta.take
            if isinstance(halted, Take) and halted.halted:  # its files are closed: not encoded at all
                self._slots.release()
                return
            try:
                for encoded in self.stage.encode(item.frame, item.meta):
                    self._route(encoded)
            except Exception as exc:
                self.stage.discard()
                take = item.meta.take
                if isinstance(take, Take):
                    take.fail(exc)
                else:
                    log.exception("cam%d: encoding failed", self.camera_id)
            finally:
                self._slots.release()
        elif isinstance(item, EncodedFrame):
            self._slots.release()
            self._route(item)
        elif isinstance(item, _Failure):
            if self._writing is not None:
                self._writing.fail(item.error)
        elif isinstance(item, _TakeStart):
            self._writing = item.take
        elif isinstance(item, _EndSegment):
            if self.stage.feeds_frames:
                self._flush()
                item.take.end_segment(item.reason)
        elif isinstance(item, _TakeEnd):
            self._flush()
            if self._writing is item.take:
                self._writing = None
            item.take.finish()

    def _flush(self) -> None:
        try:
            for encoded in self.stage.flush():
                self._route(encoded)
        except Exception as exc:
            self.stage.discard()
            if self._writing is not None:
                self._writing.fail(exc)

    def _route(self, frame: EncodedFrame) -> None:
        take = self._writing
        if take is not None and frame.meta.take is take:
            if not take.begun:
                earlier: list[EncodedFrame] = []
                if self._buffer is not None:
                    span_ns = int(take.target.pretrigger_seconds * 1e9)
                    earlier = self._buffer.take_from(frame.meta.sensor_ns - span_ns) if span_ns > 0 else []
                    self._buffer.clear()
                take.begin(earlier, frame.meta.sensor_ns)
            take.write(frame)
        elif self._buffer is not None:
            self._buffer.append(frame)
