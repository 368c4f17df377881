"""Simulated cameras: real moving I420 frames, sensor-style timestamps, seeded drops and jitter.

Every frame carries its sensor sequence number as a frame code (see framecode.py), so any decoded
frame can be traced to its timing row. Sequence numbers count dropped frames too: a dropped frame
is never delivered and its gap shows in the timestamps, as on a real sensor.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from camera_core.errors import ConfigError
from camera_core.sources.base import CameraInfo, CameraSource
from camera_core.sources.frame import Frame
from camera_core.sources.framecode import draw_code
from camera_core.sources.pool import BufferPool

if TYPE_CHECKING:
    from camera_core.config.settings import Settings

SCROLL_PX_PER_FRAME = 4


@dataclass(frozen=True, slots=True)
class SimParams:
    width: int
    height: int
    fps: float
    drop_rate: float = 0.0
    jitter_us: float = 0.0
    seed: int = 0
    realtime: bool = True
    #: Sensor clock error in parts per million (the sim camera's frame period is off by this much).
    clock_drift_ppm: float = 0.0
    #: Sequence numbers that are never delivered, on top of the random ones (tests, fault injection).
    drop_sequences: frozenset[int] = frozenset()
    #: Fault injection, once per source: after this many frames since start() the camera stops
    #: delivering (stall) or read() raises (error) until it is restarted. 0 = never.
    stall_after_frames: int = 0
    error_after_frames: int = 0
    #: Fault injection: after this many frames read() raises SimulatedLoopCrash, which no
    #: `except Exception` catches, so the camera's capture loop dies (tests its supervision).
    crash_after_frames: int = 0


class SimulatedLoopCrash(BaseException):
    """An error that escapes the capture loop's handling, as a bug would (sim_crash_after_frames)."""


def boottime_ns() -> int:
    """CLOCK_BOOTTIME, the clock of libcamera's SensorTimestamp."""
    return time.clock_gettime_ns(time.CLOCK_BOOTTIME)


class SimTexture:
    """A wide pre-rendered I420 texture; frames are scrolled windows of it (cheap, but real content)."""

    def __init__(self, width: int, height: int, seed: int) -> None:
        rng = np.random.default_rng(seed)
        span = width + 256
        x = np.arange(span, dtype=np.float32)
        y = np.arange(height, dtype=np.float32)[:, None]
        luma = 128 + 60 * np.sin(x / 37.0) * np.cos(y / 23.0) + 40 * np.sin((x + 2 * y) / 91.0)
        luma += rng.normal(0, 6, size=(height, span)).astype(np.float32)
        for _ in range(12):
            cx, cy = int(rng.integers(0, span - 80)), int(rng.integers(0, max(1, height - 80)))
            luma[cy : cy + 60, cx : cx + 60] = float(rng.integers(20, 235))
        self.y = np.clip(luma, 0, 255).astype(np.uint8)
        cx = np.arange(span // 2, dtype=np.float32)
        cy = np.arange(height // 2, dtype=np.float32)[:, None]
        self.u = np.clip(128 + 40 * np.sin(cx / 29.0 + cy / 41.0), 0, 255).astype(np.uint8)
        self.v = np.clip(128 + 40 * np.cos(cx / 53.0 - cy / 19.0), 0, 255).astype(np.uint8)
        self.width, self.height, self.period = width, height, 256
        self.pool = BufferPool((height * 3 // 2, width))

    def render(self, sequence: int) -> np.ndarray:
        """A new I420 frame (h*3//2, w) for this sequence number, frame code drawn."""
        w, h = self.width, self.height
        off = (sequence * SCROLL_PX_PER_FRAME) % self.period
        out = self.pool.acquire()
        out[:h] = self.y[:, off : off + w]
        quarter = (h // 2) * (w // 2)
        u = out[h:].reshape(-1)[:quarter].reshape(h // 2, w // 2)
        v = out[h:].reshape(-1)[quarter:].reshape(h // 2, w // 2)
        u[:] = self.u[:, off // 2 : off // 2 + w // 2]
        v[:] = self.v[:, off // 2 : off // 2 + w // 2]
        draw_code(out[:h], sequence, chroma=(u, v))
        return out


class SimSource(CameraSource):
    """A simulated camera with deterministic timing, seeded by camera id and sim_seed."""

    def __init__(self, camera_id: int, params: SimParams) -> None:
        if params.width % 2 or params.height % 2:
            raise ValueError(f"sim frame size must be even, got {params.width}x{params.height}")
        self.camera_id = camera_id
        self.params = params
        self.paced = params.realtime
        self._texture: SimTexture | None = None
        self._drop_rng = np.random.default_rng([params.seed, camera_id, 1])
        self._jitter_rng = np.random.default_rng([params.seed, camera_id, 2])
        self._pending: int | None = None
        self._period_ns = 1e9 / params.fps * (1 + params.clock_drift_ppm * 1e-6)
        self._next_seq = 0
        self._t0 = 0
        self._running = False
        self._stop_event = threading.Event()
        self.delivered = 0
        self.dropped_sequences: list[int] = []
        self.faults_injected = 0
        self._since_start = 0
        self._fault_done = False
        self._stalled = False

    @property
    def info(self) -> CameraInfo:
        p = self.params
        return CameraInfo(
            self.camera_id, "sim", "sim", p.width, p.height, p.fps, "I420", location=f"sim{self.camera_id}"
        )

    def open(self) -> None:
        self._texture = SimTexture(self.params.width, self.params.height, self.params.seed + self.camera_id)

    def start(self) -> None:
        self._stop_event.clear()
        self._next_seq = 0
        self._pending = None
        self._t0 = boottime_ns()
        self._since_start = 0
        self._stalled = False  # a restart cures a stall
        self._running = True

    def stop(self) -> None:
        self._running = False
        self._stop_event.set()

    def close(self) -> None:
        self.stop()
        self._texture = None

    def _is_dropped(self, sequence: int) -> bool:
        lost = self._drop_rng.random() < self.params.drop_rate
        return lost or sequence in self.params.drop_sequences

    def _next_delivered(self) -> int:
        """The next sequence number that will be delivered, deciding drops once per number."""
        if self._pending is None:
            seq = self._next_seq
            while self._is_dropped(seq):
                self.dropped_sequences.append(seq)
                seq += 1
            self._pending = seq
        return self._pending

    def _timestamp(self, sequence: int) -> int:
        jitter = 0.0
        if self.params.jitter_us:
            jitter = self._jitter_rng.uniform(-self.params.jitter_us, self.params.jitter_us) * 1000.0
        return self._t0 + round(sequence * self._period_ns + jitter)

    def _inject_fault(self, timeout: float) -> bool:
        """True when this read is stalled; raises when the injected error is due."""
        p = self.params
        if self._stalled:
            self._stop_event.wait(timeout)
            return True
        if self._fault_done:
            return False
        if p.crash_after_frames and self._since_start >= p.crash_after_frames:
            self._fault_done = True
            self.faults_injected += 1
            raise SimulatedLoopCrash(f"simulated loop crash after {self._since_start} frames (sim_crash_after_frames)")
        if p.error_after_frames and self._since_start >= p.error_after_frames:
            self._fault_done = True
            self.faults_injected += 1
            raise RuntimeError(f"simulated camera error after {self._since_start} frames (sim_error_after_frames)")
        if p.stall_after_frames and self._since_start >= p.stall_after_frames:
            self._fault_done, self._stalled = True, True
            self.faults_injected += 1
            self._stop_event.wait(timeout)
            return True
        return False

    def read(self, timeout: float = 1.0) -> Frame | None:
        if not self._running or self._texture is None:
            return None
        if self._inject_fault(timeout):
            return None
        seq = self._next_delivered()
        due = self._t0 + round(seq * self._period_ns)
        if self.paced:
            wait_s = (due - boottime_ns()) / 1e9
            if wait_s > timeout:
                self._stop_event.wait(timeout)
                return None
            if wait_s > 0 and self._stop_event.wait(wait_s):
                return None
        self._next_seq, self._pending = seq + 1, None
        image = self._texture.render(seq)
        self.delivered += 1
        self._since_start += 1
        return Frame(
            camera_id=self.camera_id,
            image=image,
            pixel_format="I420",
            sensor_timestamp_ns=self._timestamp(seq),
            frame_duration_us=self._period_ns / 1000.0,
            sequence=seq,
            arrival_ns=time.monotonic_ns(),
        )

    def status(self) -> dict[str, object]:
        return {
            "injected_drops": len(self.dropped_sequences),
            "realtime": self.paced,
            "injected_faults": self.faults_injected,
        }


def sim_params_from_settings(settings: Settings) -> SimParams:
    width, height = settings.frame_size
    return SimParams(
        width=width,
        height=height,
        fps=settings.target_fps,
        drop_rate=settings.sim_drop_rate,
        jitter_us=settings.sim_jitter_us,
        seed=settings.sim_seed,
        realtime=settings.sim_realtime,
    )


def create_sim_sources(settings: Settings) -> list[CameraSource]:
    params = sim_params_from_settings(settings)
    if params.jitter_us * 1000 >= 0.4 * 1e9 / params.fps:
        raise ConfigError(
            "settings",
            "sim_jitter_us",
            f"{params.jitter_us} µs is too close to half a frame period",
            f"less than {0.4e6 / params.fps:.0f} µs at {params.fps} fps",
        )
    faulty = dataclasses.replace(
        params,
        stall_after_frames=settings.sim_stall_after_frames,
        error_after_frames=settings.sim_error_after_frames,
        crash_after_frames=settings.sim_crash_after_frames,
    )
    return [SimSource(i, faulty if i == settings.sim_fault_camera else params) for i in range(settings.sim_cameras)]
