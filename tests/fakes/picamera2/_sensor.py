"""The fake libcamera side: a camera whose sensor thread fills queued requests at the frame duration.

Stands in for libcamera.Camera, Request and the CameraManager thread. Each delivered frame takes one
queued request (none queued: the frame is lost, as when every buffer is held by the application).
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._fake import STATE, FakeCameraSpec, Scene, SensorMode
from .formats import RENDERED_FORMATS
from .request import shaped_view

_log = logging.getLogger(__name__)

DEFAULT_EXPOSURE_US = 10000
MAX_FRAME_DURATION_US = 15534385


@dataclass
class StreamConfig:
    """Like libcamera.StreamConfiguration: what a configured stream really is."""

    name: str
    pixel_format: str
    size: tuple[int, int]
    stride: int
    frame_size: int


class Stream:
    """Like libcamera.Stream; picamera2's stream_map values."""

    def __init__(self, configuration: StreamConfig) -> None:
        self.configuration = configuration

    def __repr__(self) -> str:
        return f"<Stream {self.configuration.name} {self.configuration.pixel_format} {self.configuration.size}>"


class FakeRequest:
    """Like libcamera.Request: one buffer per stream, metadata filled by the sensor thread."""

    def __init__(self, cookie: int, buffers: dict[Stream, np.ndarray]) -> None:
        self.cookie = cookie
        self.buffers = buffers
        self.metadata: dict[str, Any] = {}
        self.status = "Pending"
        self.frame_status = "Success"  # buffer metadata status: Success / Error / Cancelled
        self.sequence = -1
        self.controls: dict[str, Any] = {}

    def reuse(self) -> None:
        self.metadata = {}
        self.status = "Pending"
        self.controls = {}

    def set_control(self, name: str, value: Any) -> None:
        self.controls[name] = value


class FakeCamera:
    """Like libcamera.Camera for one fake sensor."""

    def __init__(self, num: int, spec: FakeCameraSpec) -> None:
        self.num = num
        self.spec = spec
        self.id = STATE.camera_id(num)
        self.mode: SensorMode = max(spec.modes, key=lambda m: m.size[0] * m.size[1])
        self.streams: list[Stream] = []
        self.scenes: dict[Stream, Scene] = {}
        self._queue: collections.deque[FakeRequest] = collections.deque()
        self._queue_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._controls: dict[str, Any] = {}
        self.on_complete: Callable[[FakeRequest], None] | None = None
        self._sync_frame = 0
        self._sync_ready = False

    # -- libcamera.Camera-like API ------------------------------------------------------------------------
    def acquire(self) -> None:
        with STATE.lock:
            if self.num in STATE.fail_open:
                raise RuntimeError("Failed to acquire camera: Input/output error")
            if self.num in STATE.acquired:
                raise RuntimeError("Failed to acquire camera: Device or resource busy")
            STATE.acquired.add(self.num)

    def release(self) -> None:
        with STATE.lock:
            STATE.acquired.discard(self.num)

    def min_frame_duration_us(self) -> int:
        return int(1e6 / self.mode.fps)

    def configure(self, mode: SensorMode, streams: list[StreamConfig]) -> None:
        self.mode = mode
        self._controls = {}  # a new configuration starts from default controls (the IPA is reconfigured)
        self.streams = [Stream(cfg) for cfg in streams]
        self.scenes = {s: Scene(s.configuration.pixel_format, s.configuration.size) for s in self.streams}

    def queue_request(self, request: FakeRequest) -> None:
        with self._queue_lock:
            self._queue.append(request)

    def start(self, controls: dict[str, Any]) -> None:
        self._controls.update(controls)  # controls persist across stop/start, as in the IPA
        self._sync_frame, self._sync_ready = 0, False  # a start begins a new sync session
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"fake-sensor-{self.num}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()
        self._thread = None
        with self._queue_lock:
            self._queue.clear()  # libcamera cancels the queued requests; picamera2 flushes them

    # -- the sensor ---------------------------------------------------------------------------------------
    def _frame_timing(self) -> tuple[int, int]:
        """(frame duration, exposure) in µs from the controls in effect."""
        lo, hi = self._controls.get("FrameDurationLimits", (0, 0)) or (0, 0)
        min_dur = self.min_frame_duration_us()
        duration = max(min_dur, int(lo))
        exposure = int(self._controls.get("ExposureTime", 0) or 0)
        if exposure <= 0:
            exposure = min(DEFAULT_EXPOSURE_US, duration)
        elif exposure > duration:
            duration = max(duration, min(exposure, max(int(hi), min_dur)))
            exposure = min(exposure, duration)
        return duration, exposure

    def _run(self) -> None:
        boot_offset = time.clock_gettime_ns(time.CLOCK_BOOTTIME) - time.monotonic_ns()
        # Read once: two clock reads per frame, preempted between them under load, would add their
        # jitter to FrameWallClock and SyncTimer, which the IPA derives from its own steady clock.
        wall_offset = time.time_ns() - time.monotonic_ns()
        duration_us, _ = self._frame_timing()
        next_t = time.monotonic_ns() + duration_us * 1000
        sequence = 0
        try:
            while True:
                wait_s = (next_t - time.monotonic_ns()) / 1e9
                if self._stop.wait(max(0.0, wait_s)):
                    return
                t = next_t
                with STATE.lock:
                    dropped = sequence in STATE.drop_sequences.get(self.num, ())
                    stall = STATE.stall_after.get(self.num)
                request = None
                if stall is not None and sequence >= stall:
                    outcome = "stalled"  # stopped delivering: frames go nowhere
                elif dropped:
                    outcome = "dropped_injected"
                else:
                    with self._queue_lock:
                        request = self._queue.popleft() if self._queue else None
                    outcome = "delivered" if request is not None else "dropped_no_buffer"
                if request is not None:
                    self._controls.update(request.controls)
                    duration_us, exposure_us = self._frame_timing()
                    self._fill(request, sequence, t, (boot_offset, wall_offset), duration_us, exposure_us)
                    if self.on_complete is not None:
                        self.on_complete(request)
                STATE.count(self.num, "sensor_frames")
                STATE.count(self.num, outcome)
                sequence += 1
                duration_us, _ = self._frame_timing()
                with STATE.lock:
                    trigger = STATE.trigger_hz.get(self.num)
                next_t = t + (round(1e9 / trigger) if trigger else duration_us * 1000)  # the pulse, when triggered
        except Exception:
            _log.exception("fake sensor thread of camera %d failed", self.num)

    def _fill(
        self,
        request: FakeRequest,
        sequence: int,
        t_mono: int,
        offsets: tuple[int, int],
        duration_us: int,
        exposure_us: int,
    ) -> None:
        boot_offset, wall_offset = offsets
        for stream, buf in request.buffers.items():
            cfg = stream.configuration
            if cfg.pixel_format in RENDERED_FORMATS:
                self.scenes[stream].render(shaped_view(buf, cfg.pixel_format, cfg.size, cfg.stride), sequence)
        w, h = self.spec.size
        gain = float(self._controls.get("AnalogueGain", 0) or 0) or 1.0
        request.sequence = sequence
        request.frame_status = "Success" if sequence >= STATE.startup_frames else "Error"
        request.status = "Complete"
        wall_ns = t_mono + wall_offset
        request.metadata = {
            "SensorTimestamp": t_mono + boot_offset,
            "FrameWallClock": wall_ns,
            "FrameDuration": duration_us,
            "ExposureTime": exposure_us,
            "AnalogueGain": gain,
            "DigitalGain": 1.0,
            "ColourGains": tuple(self._controls.get("ColourGains") or (2.0, 1.8)),
            "ColourTemperature": 4500,
            "ColourCorrectionMatrix": (1.6, -0.4, -0.2, -0.3, 1.5, -0.2, 0.0, -0.6, 1.6),
            "Lux": 400.0,
            "SensorBlackLevels": (4096, 4096, 4096, 4096),
            "ScalerCrop": tuple(self._controls.get("ScalerCrop") or (0, 0, w, h)),
            "AeLocked": False,
            "SensorTemperature": 35.0,
            "FocusFoM": 1000,
            **self._sync_metadata(wall_ns // 1000, duration_us),
        }

    def _sync_metadata(self, wall_us: int, duration_us: int) -> dict[str, Any]:
        """SyncReady/SyncTimer as the Pi's IPA reports them once SyncMode is Server (1) or Client (2).
        The server is ready SyncFrames frames after its start; a client takes the server's ready time
        (through STATE, standing in for the multicast message) and has no SyncTimer before it. Both
        become ready on the first frame whose time plus half a frame is past the ready time. The fake
        does not move a client's frames into phase."""
        mode = int(self._controls.get("SyncMode", 0) or 0)
        if not mode:
            return {}
        if mode == 1 and self._sync_frame == 0:
            frames = int(self._controls.get("SyncFrames", 100) or 100)
            with STATE.lock:
                STATE.sync_ready_wall_us = wall_us + frames * duration_us
        self._sync_frame += 1
        with STATE.lock:
            ready_at = STATE.sync_ready_wall_us
        if ready_at is None:
            return {"SyncReady": False}
        if wall_us + duration_us / 2 > ready_at:
            self._sync_ready = True
        return {"SyncReady": self._sync_ready, "SyncTimer": ready_at - wall_us}
