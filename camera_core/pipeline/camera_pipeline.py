"""One camera's pipeline: the capture loop (source -> recorder -> latest frame) on a supervised
thread of its own, and the processor loop (collation to the target fps: the duplicates, skips and
collated rate in the status; previews take the newest frame themselves, preview/feed.py) on the
system's event loop. A loop that raises is never
silent: its traceback is logged, the camera is marked failed and camera_failed is published.

The capture loop also supervises the camera: the first `warmup_frames` after every (re)start are
skipped; a camera that raises or delivers nothing for `timeout_s` is lost: its recording closes
the current file, and it is restarted with growing waits until frames flow again (its recording
then continues in a new segment). Events camera_lost / camera_recovered tell subscribers."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime

from camera_core.config.settings import Settings
from camera_core.events import (
    CameraError,
    CameraFailed,
    CameraLost,
    CameraRecovered,
    Event,
    FramesDropped,
    Publish,
)
from camera_core.frames.frame import Frame
from camera_core.frames.overlay_style import InfoOverlay, OverlayStyle
from camera_core.pipeline.latest import LatestSlot
from camera_core.pipeline.restart import Outage, RestartBackoff
from camera_core.recording.recorder import Recorder
from camera_core.sources.base import CameraSource
from camera_core.timing import BootToWallClock, DropCounter, RateMeter

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PipelineSettings:
    """The settings a camera pipeline uses (not the whole Settings)."""

    target_fps: float
    preview_size: tuple[int, int]
    #: Frames skipped after every (re)start.
    warmup_frames: int = 0
    #: No frame for this long: the camera is lost and restarted.
    timeout_s: float = 2.0
    #: Longest wait between restart attempts.
    restart_max_s: float = 30.0

    @classmethod
    def of(cls, settings: Settings) -> PipelineSettings:
        return cls(
            target_fps=settings.target_fps,
            preview_size=settings.preview_size,
            warmup_frames=settings.warmup_frames,
            timeout_s=settings.camera_timeout_s,
            restart_max_s=settings.camera_restart_max_s,
        )


@dataclass(slots=True)
class CameraStatus:
    """One camera's part of get_status: the pipeline's own fields, then the recorder's and the
    source's, each from its owner. `as_dict` gives the protocol's JSON object; a recorder or source
    key that would replace one set before it is left out and logged, never silently replaced."""

    camera_id: int
    backend: str
    model: str
    resolution: list[int]
    target_fps: float
    frames_captured: int
    hardware_drops: int
    hardware_fps: float
    collated_fps: float
    collated_frames: int
    duplicates: int
    skipped: int
    last_error: str | None
    #: running | lost | failed
    state: str
    lost_count: int
    restarts: int
    warmup_skipped: int
    recorder: dict[str, object]
    source: dict[str, object]

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {f: getattr(self, f) for f in _CAMERA_FIELDS}
        for part, values in (("recorder", self.recorder), ("source", self.source)):
            for key, value in values.items():
                if key in out:
                    _report_clash(self.camera_id, part, key)
                    continue
                out[key] = value
        return out


_CAMERA_FIELDS = tuple(f for f in CameraStatus.__slots__ if f not in ("recorder", "source"))
_clashes_reported: set[tuple[str, str]] = set()


def _report_clash(camera_id: int, part: str, key: str) -> None:
    if (part, key) not in _clashes_reported:
        _clashes_reported.add((part, key))
        log.error("cam%d: the %s's status key %r clashes with one set before it; left out", camera_id, part, key)


class CameraPipeline:
    """Owns a source and its recorder; runs the two loops on the system's event loop."""

    def __init__(
        self,
        source: CameraSource,
        recorder: Recorder,
        clock: BootToWallClock,
        settings: PipelineSettings,
        *,
        style: OverlayStyle,
        publish: Publish | None = None,
    ) -> None:
        target_fps, preview_size = settings.target_fps, settings.preview_size
        warmup_frames, timeout_s = settings.warmup_frames, settings.timeout_s
        restart_max_s = settings.restart_max_s
        self.source = source
        self.recorder = recorder
        self.clock = clock
        self.camera_id = source.camera_id
        self.target_fps = target_fps
        self.preview_size = preview_size
        self.style = style
        self.latest: LatestSlot[Frame] = LatestSlot()
        #: The newest frame holding its full main image: a snapshot waits here, so a newer frame
        #: without it (picamera2 copies the main image only when asked) cannot pass over it.
        self.full_frames: LatestSlot[Frame] = LatestSlot()
        self.frames_captured = 0
        self.drops = DropCounter()
        self.hardware_rate = RateMeter()
        self.collated = 0
        self.duplicates = 0
        self.skipped = 0
        self.collated_rate = RateMeter()
        self.last_error: str | None = None
        self.warmup_frames = warmup_frames
        self.warmup_skipped = 0
        self._warmup_left = warmup_frames
        self.timeout_s = timeout_s
        self.backoff = RestartBackoff(max_s=restart_max_s)
        self._publish = publish
        #: running | lost (restart attempts under way)
        self.state = "running"
        #: Why a loop of this camera died (status then reports state "failed"), else None.
        self.failure: str | None = None
        self.lost_count = 0
        self.restarts = 0
        self._last_frame_at = time.monotonic()
        self._stop_requested = threading.Event()
        self._capture_thread: threading.Thread | None = None

    # -- capture ---------------------------------------------------------------------------------

    def capture_one(self) -> Frame | None:
        """Runs in the capture thread: read a frame, hand it to the recorder, publish it.
        Warm-up frames are read and dropped (None)."""
        frame = self.source.read(timeout=min(0.5, self.timeout_s))
        if frame is None:
            return None
        self._last_frame_at = time.monotonic()
        if self._warmup_left > 0:
            self._warmup_left -= 1
            self.warmup_skipped += 1
            return None
        self.frames_captured += 1
        dropped = self.drops.observe(frame.sensor_timestamp_ns, frame.frame_duration_us * 1000.0)
        if dropped:
            self._emit(FramesDropped(self.camera_id, dropped, self.drops.total))  # one event per gap
        self.hardware_rate.add(frame.sensor_timestamp_ns)
        self.recorder.submit(frame)
        self.latest.put(frame)
        if frame.image.size:
            self.full_frames.put(frame)
        self._last_frame_at = time.monotonic()  # a submit that waited for the encoder is no silence
        return frame

    # -- the capture thread ----------------------------------------------------------------------

    def start_capture(self) -> None:
        """Start this camera's capture thread (once)."""
        if self._capture_thread is None:
            self._last_frame_at = time.monotonic()
            self._capture_thread = threading.Thread(
                target=self._supervised_capture, name=f"capture-cam{self.camera_id}", daemon=True
            )
            self._capture_thread.start()

    def _supervised_capture(self) -> None:
        """The capture thread's body: the capture loop; anything it raises, or its ending before the
        system stops, makes this camera failed (traceback logged, camera_failed published)."""
        try:
            self.capture_loop()
        except BaseException as exc:
            self.loop_failed("capture", exc)
        else:
            if not self._stop_requested.is_set():
                self.loop_failed("capture", None)

    def capture_loop(self) -> None:
        """Capture thread: read, record and publish frames until stopped; a camera that raises or
        stays silent for `timeout_s` is lost and restarted (`_recover`)."""
        stop = self._stop_requested
        while not stop.is_set():
            try:
                frame = self.capture_one()
            except Exception as exc:
                if stop.is_set():
                    break
                log.exception("cam%d: capture failed", self.camera_id)
                self._recover(f"{type(exc).__name__}: {exc}")
                continue
            if frame is not None or stop.is_set():
                continue
            if self.source.ended():
                stop.wait(0.05)  # a replayed file that has ended: nothing more to read, no restart
                continue
            silent_s = time.monotonic() - self._last_frame_at
            if silent_s > self.timeout_s:
                self._recover(f"no frame for {silent_s:.1f} s (camera_timeout_s {self.timeout_s:g})")

    # -- supervision -----------------------------------------------------------------------------

    def seconds_since_frame(self) -> float:
        """How long ago the camera last delivered a frame (warm-up frames included)."""
        return time.monotonic() - self._last_frame_at

    def loop_ended(self, which: str, stopping: asyncio.Event, task: asyncio.Future[None]) -> None:
        """Done-callback of the processor loop (an asyncio task): a loop that ends before the
        system stops has died."""
        if task.cancelled():
            if not stopping.is_set():
                self.loop_failed(which, None, ended="was cancelled")
            return
        error = task.exception()
        if error is not None or not stopping.is_set():
            self.loop_failed(which, error)

    def loop_failed(self, which: str, error: BaseException | None, ended: str = "ended") -> None:
        """A loop of this camera died (any thread): log its traceback, mark the camera failed in
        status, publish camera_failed. The other cameras carry on."""
        why = f"{which} loop died: {type(error).__name__}: {error}" if error else f"{which} loop {ended}"
        self.failure = why
        log.error("cam%d: %s; this camera is failed (the other cameras carry on)", self.camera_id, why, exc_info=error)
        self._set_error(why)
        self._emit(CameraFailed(self.camera_id, why))

    def _set_error(self, message: str) -> None:
        """Set `last_error` (get_status) and publish camera_error when it changed."""
        if message != self.last_error:
            self.last_error = message
            self._emit(CameraError(self.camera_id, message))

    def _emit(self, event: Event) -> None:
        if self._publish is not None:
            self._publish(event)

    def _recover(self, why: str) -> None:
        """Capture thread: the camera is lost; close its current file, restart it with backoff until
        a frame comes (or the system stops)."""
        stop = self._stop_requested
        outage = Outage(self._last_frame_at)  # downtime runs from the last frame, not from now
        self.state = "lost"
        self.lost_count += 1
        self._set_error(why)
        log.error("cam%d: camera lost: %s; restarting it (the other cameras carry on)", self.camera_id, why)
        self.recorder.end_segment("camera_restart")
        self._emit(CameraLost(self.camera_id, why))
        attempt = 0
        while not stop.is_set():
            attempt += 1
            try:
                back = self._restart_and_wait(attempt)
                problem = "" if back else f"no frame within {self.timeout_s:g} s"
            except Exception as exc:
                back, problem = False, f"{type(exc).__name__}: {exc}"
            if back:
                downtime = outage.downtime_s(self._last_frame_at)  # to the first frame after
                self.state = "running"
                self.restarts += 1
                self.backoff.reset()
                log.warning(
                    "cam%d: camera recovered after %d attempt(s), %.1f s without frames",
                    self.camera_id,
                    attempt,
                    downtime,
                )
                self._emit(CameraRecovered(self.camera_id, attempt, round(downtime, 3)))
                return
            delay = self.backoff.next_delay()
            self._set_error(f"restart attempt {attempt} failed: {problem}")
            log.error("cam%d: restart attempt %d failed (%s); next in %.1f s", self.camera_id, attempt, problem, delay)
            stop.wait(delay)

    def _restart_and_wait(self, attempt: int) -> bool:
        """Capture thread: restart the source and read until it delivers a frame (warm-up included)."""
        self._warmup_left = self.warmup_frames
        # The sensor clock runs on through a restart: the gap to its first frame counts as drops.
        self.source.restart(attempt)
        started = time.monotonic()
        self._last_frame_at = started - 1e-9
        while time.monotonic() - started < self.timeout_s and not self._stop_requested.is_set():
            self.capture_one()
            if self._last_frame_at >= started:
                return True
        return False

    # -- processor -------------------------------------------------------------------------------

    def preview_overlay(self, frame: Frame) -> InfoOverlay:
        """What a preview writes over `frame` (any thread; preview/ draws it): the camera, the
        frame's wall-clock time, the rates and counts, and whether it records."""
        wall_ns = frame.wall_clock_ns or self.clock.to_wall_ns(frame.sensor_timestamp_ns)
        stamp = datetime.fromtimestamp(wall_ns / 1e9).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
        recording = self.recorder.active
        lines = (
            f"cam{self.camera_id} {stamp}",
            f"FPS {self.collated_rate.fps:5.1f} / HW {self.hardware_rate.fps:5.1f}",
            f"Frames {self.collated} / {self.frames_captured}  drops {self.drops.total}",
        )
        return InfoOverlay((*lines, "REC") if recording else lines, recording)

    def collate(self, last_version: int) -> tuple[int, Frame | None]:
        """Take the newest captured frame for one output tick, counting duplicates and skips."""
        version, frame = self.latest.get()
        if frame is None:
            return last_version, None
        if version == last_version:
            self.duplicates += 1
        elif last_version and version > last_version + 1:
            self.skipped += version - last_version - 1
        self.collated += 1
        self.collated_rate.add(time.monotonic_ns())
        return version, frame

    async def processor_loop(self, stopping: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        period = 1.0 / self.target_fps
        next_tick = loop.time()
        last_version = 0
        while not stopping.is_set():
            next_tick += period
            delay = next_tick - loop.time()
            if delay < -period:  # fell behind: restart the schedule rather than burst
                next_tick = loop.time()
            elif delay > 0:
                await asyncio.sleep(delay)
            last_version, _ = self.collate(last_version)

    # -- status and teardown ---------------------------------------------------------------------

    def status(self) -> CameraStatus:
        """Any thread: this camera's status now."""
        info = self.source.info
        recorder = self.recorder.stats()  # before frames_captured, so captured >= recorded always
        return CameraStatus(
            camera_id=self.camera_id,
            backend=info.backend,
            model=info.model,
            resolution=[info.width, info.height],
            target_fps=self.target_fps,
            frames_captured=self.frames_captured,
            hardware_drops=self.drops.total,
            hardware_fps=round(self.hardware_rate.fps, 2),
            collated_fps=round(self.collated_rate.fps, 2),
            collated_frames=self.collated,
            duplicates=self.duplicates,
            skipped=self.skipped,
            last_error=self.last_error,
            state="failed" if self.failure else self.state,
            lost_count=self.lost_count,
            restarts=self.restarts,
            warmup_skipped=self.warmup_skipped,
            recorder=recorder,
            source=self.source.status(),
        )

    def full_frame(self, timeout: float = 2.0) -> Frame | None:
        """The newest frame holding its full main image (what a snapshot needs): the latest one, or,
        from a source that copies it only when asked (picamera2), the next one."""
        _, frame = self.latest.get()
        if frame is None or frame.image.size:
            return frame
        seen = self.full_frames.version
        self.source.request_full_frame()
        newer, frame = self.full_frames.wait_newer(seen, timeout)
        return frame if newer != seen else None  # None: timed out, or the camera is closing

    def request_stop(self) -> None:
        """Any thread: end restart attempts at once (the system is stopping)."""
        self._stop_requested.set()

    def shutdown_pools(self, timeout: float = 10.0) -> None:
        """After request_stop and the source's stop: wait for the capture thread."""
        thread = self._capture_thread
        if thread is not None:
            thread.join(timeout)
            if thread.is_alive():
                log.error("cam%d: the capture thread did not end within %.0f s", self.camera_id, timeout)
        self.latest.close()
        self.full_frames.close()
