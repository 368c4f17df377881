"""Simulated cameras: real moving I420 frames, sensor-style timestamps, seeded drops and jitter.

Every frame carries its sensor sequence number as a frame code (see framecode.py), so any decoded
frame can be traced to its timing row. Sequence numbers count dropped frames too: a dropped frame
is never delivered and its gap shows in the timestamps, as on a real sensor.

Sync and its proof (docs/sync.md): a sim camera can take part in libcamera's software sync
(sync/algorithm.py: a server multicasts its frame times, clients shorten or lengthen single frames
to lock their phase), its host can be given a wall-clock error (`clock_offset_us`: its wall-clock
times and sync are off by that much, its sensor timestamps are not), and it can see a shared LED
driven by the true wall clock (sync/led.py). Sensor timestamps are the true exposure starts on
CLOCK_BOOTTIME (plus jitter), so tests know the truth.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from camera_core.errors import ConfigError
from camera_core.frames.frame import Frame
from camera_core.frames.framecode import draw_code
from camera_core.frames.pool import BufferPool
from camera_core.sources.base import CameraInfo, CameraSource
from camera_core.sources.controls import ControlSettings, ControlState
from camera_core.sources.lifecycle import LifecycleSource
from camera_core.sync.algorithm import SyncAlgorithm, SyncConfig, SyncRole, camera_roles
from camera_core.sync.led import Led, draw_led
from camera_core.sync.protocol import SyncNetwork
from camera_core.timing import BootToWallClock

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
    #: Software sync: this camera's role and the settings it shares with the others.
    sync_role: SyncRole = "off"
    sync: SyncConfig = dataclasses.field(default_factory=SyncConfig)
    #: The host's wall-clock error, µs: frame wall-clock times (and sync) are off by this much.
    clock_offset_us: float = 0.0
    #: The shared LED the camera sees (None: no LED).
    led: Led | None = None
    #: Exposure time, µs; 0 = the whole frame duration.
    exposure_us: float = 0.0
    #: Manual controls and locking (the sim's automatic values: the exposure above, gain 1, gains 1,1).
    controls: ControlSettings = dataclasses.field(default_factory=ControlSettings)
    #: Fault injection: after this many frames read() raises SimulatedLoopCrash, which no
    #: `except Exception` catches, so the camera's capture loop dies (tests its supervision).
    crash_after_frames: int = 0


class SimulatedLoopCrash(BaseException):
    """An error that escapes the capture loop's handling, as a bug would (sim_crash_after_frames)."""


def boottime_ns() -> int:
    """CLOCK_BOOTTIME, the clock of libcamera's SensorTimestamp."""
    return time.clock_gettime_ns(time.CLOCK_BOOTTIME)


#: The machine's own boot-time -> wall-clock map: the sim's true time (before any host error).
_TRUE_WALL = BootToWallClock()


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
        ux = np.arange(span // 2, dtype=np.float32)
        uy = np.arange(height // 2, dtype=np.float32)[:, None]
        self.u = np.clip(128 + 40 * np.sin(ux / 29.0 + uy / 41.0), 0, 255).astype(np.uint8)
        self.v = np.clip(128 + 40 * np.cos(ux / 53.0 - uy / 19.0), 0, 255).astype(np.uint8)
        self.width, self.height, self.period = width, height, 256
        self.pool = BufferPool((height * 3 // 2, width))

    def render(self, sequence: int, led: float | None = None) -> np.ndarray:
        """A new I420 frame (h*3//2, w) for this sequence number, frame code (and the LED at this
        brightness, 0-1) drawn."""
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
        if led is not None:
            draw_led(out[:h], led, chroma=(u, v))
        return out


class SimSource(LifecycleSource):
    """A simulated camera with deterministic timing, seeded by camera id and sim_seed."""

    def __init__(self, camera_id: int, params: SimParams) -> None:
        if params.width % 2 or params.height % 2:
            raise ValueError(f"sim frame size must be even, got {params.width}x{params.height}")
        super().__init__(camera_id)
        self.params = params
        self.paced = params.realtime
        self._texture: SimTexture | None = None
        self._drop_rng = np.random.default_rng([params.seed, camera_id, 1])
        self._jitter_rng = np.random.default_rng([params.seed, camera_id, 2])
        self._pending: int | None = None
        self._period_ns = 1e9 / params.fps * (1 + params.clock_drift_ppm * 1e-6)
        self._next_seq = 0
        #: The start (CLOCK_BOOTTIME ns): sequence s is exposed at _t0 + s periods - _shift_ns, where
        #: _shift_ns sums the sync corrections made so far (each moves every later frame).
        self._t0 = 0
        self._shift_ns = 0
        self._sync: SyncAlgorithm | None = None
        if params.sync_role != "off":
            self._sync = params.sync.algorithm(params.sync_role)
        self.last_sync: dict[str, object] = {}
        self.controls = ControlState(params.controls)
        self._exposure_us = params.exposure_us
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

    def _open(self) -> None:
        self._texture = SimTexture(self.params.width, self.params.height, self.params.seed + self.camera_id)

    def _start(self) -> None:
        self._next_seq = 0
        self._pending = None
        self._t0, self._shift_ns = boottime_ns(), 0
        if self._sync is not None:
            self._sync.reset()  # as libcamera: a camera start begins a new sync session
            self._sync.transport.open()
        self.last_sync = {}
        self._since_start = 0
        self._stalled = False  # a restart cures a stall

    def _stop(self) -> None:
        if self._sync is not None:
            self._sync.transport.close()

    def _close(self) -> None:
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

    def _exposure_start(self, sequence: int) -> int:
        """The true exposure start of a sequence number, CLOCK_BOOTTIME ns."""
        return self._t0 + round(sequence * self._period_ns) - self._shift_ns

    def _jitter_ns(self) -> int:
        if not self.params.jitter_us:
            return 0
        return round(self._jitter_rng.uniform(-self.params.jitter_us, self.params.jitter_us) * 1000.0)

    def _follow_sync(self, seq: int, start_ns: int, claimed_wall_ns: int, extra: dict[str, object]) -> None:
        """Run the sync algorithm for a delivered frame; a correction shortens (or lengthens) the
        interval to the next frame."""
        assert self._sync is not None
        status = self._sync.process(claimed_wall_ns // 1000, start_ns // 1000, self._period_ns / 1000.0)
        self._shift_ns += status.correction_us * 1000  # the interval to the next frame changes
        extra["SyncReady"] = status.ready
        if status.timer_known:
            extra["SyncTimer"] = status.timer_us
        if status.error_us is not None:
            extra["sync_error_us"] = status.error_us
        if self._sync.grid_us is not None:
            wall_us, period_us = self._sync.grid_us
            extra["sync_grid_ns"] = (wall_us * 1000, period_us * 1000)
        self.last_sync = {
            "sync_ready": status.ready,
            "sync_timer_us": status.timer_us if status.timer_known else None,
            "sync_error_us": status.error_us,
        }

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

    def _read(self, timeout: float) -> Frame | None:
        if self._texture is None:
            return None
        if self._inject_fault(timeout):
            return None
        seq = self._next_delivered()
        due = self._exposure_start(seq)
        if self.paced:
            wait_s = (due - boottime_ns()) / 1e9
            if wait_s > timeout:
                self._stop_event.wait(timeout)
                return None
            if wait_s > 0 and self._stop_event.wait(wait_s):
                return None
        self._next_seq, self._pending = seq + 1, None
        p = self.params
        exposure_ns = round(min(self._exposure_us * 1000, self._period_ns) if self._exposure_us else self._period_ns)
        true_wall_ns = due + _TRUE_WALL.offset_ns
        claimed_wall_ns = true_wall_ns + round(p.clock_offset_us * 1000)
        extra: dict[str, object] = {
            "ExposureTime": round(exposure_ns / 1000),
            "AnalogueGain": self.controls.wanted.analogue_gain or 1.0,
            "ColourGains": self.controls.wanted.colour_gains or (1.0, 1.0),
        }
        self.controls.observe(extra)  # the sim's values never change, so a lock keeps them as they are
        if self._sync is not None:
            self._follow_sync(seq, due, claimed_wall_ns, extra)
        led = p.led.lit_fraction(true_wall_ns, exposure_ns) if p.led is not None else None
        image = self._texture.render(seq, led)
        self.delivered += 1
        self._since_start += 1
        jitter_ns = self._jitter_ns()
        return Frame(
            camera_id=self.camera_id,
            image=image,
            pixel_format="I420",
            sensor_timestamp_ns=due + jitter_ns,
            frame_duration_us=self._period_ns / 1000.0,
            wall_clock_ns=claimed_wall_ns + jitter_ns,
            sequence=seq,
            arrival_ns=time.monotonic_ns(),
            extra=extra,
        )

    def set_controls(self, **changes: Any) -> None:
        """The sim applies a new exposure time to the next frame; gains are reported only."""
        self.controls.change(**changes)
        self._exposure_us = self.controls.wanted.exposure_us or self.params.exposure_us

    def status(self) -> dict[str, object]:
        status: dict[str, object] = {
            "injected_drops": len(self.dropped_sequences),
            "realtime": self.paced,
            "injected_faults": self.faults_injected,
            "sync_role": self.params.sync_role,
        }
        if self._sync is not None:
            status.update(self.last_sync)
            status["sync_messages"] = self._sync.messages
            status["sync_corrections"] = self._sync.corrections
        if self.params.clock_offset_us:
            status["sim_clock_offset_us"] = self.params.clock_offset_us
        status["controls"] = self.controls.status()
        return status


def sim_params_from_settings(settings: Settings) -> SimParams:
    """With an external trigger (trigger_fps) the sim's frames come at the trigger rate."""
    width, height = settings.frame_size
    if settings.sim_led and settings.sim_led_on_ms >= settings.sim_led_period_s * 1000:
        raise ConfigError(
            "settings",
            "sim_led_on_ms",
            f"{settings.sim_led_on_ms} ms is not shorter than the LED period ({settings.sim_led_period_s} s)",
            "less than sim_led_period_s",
        )
    return SimParams(
        width=width,
        height=height,
        fps=settings.trigger_fps or settings.target_fps,
        drop_rate=settings.sim_drop_rate,
        jitter_us=settings.sim_jitter_us,
        seed=settings.sim_seed,
        realtime=settings.sim_realtime,
        sync=sync_config_from_settings(settings),
        clock_offset_us=settings.sim_clock_offset_us,
        led=Led(round(settings.sim_led_period_s * 1e9), round(settings.sim_led_on_ms * 1e6))
        if settings.sim_led
        else None,
        exposure_us=settings.exposure_time_us or settings.sim_exposure_us,
        controls=ControlSettings.from_settings(settings),
    )


def sync_config_from_settings(settings: Settings) -> SyncConfig:
    """The sim's sync settings; a bad multicast group or interface is a ConfigError."""
    try:
        network = SyncNetwork(settings.sync_group, settings.sync_port, settings.sync_interface)
    except ValueError as exc:
        key, _, why = str(exc).partition(": ")
        raise ConfigError("settings", key, why, "an IPv4 address (sync_group: 224.0.0.0 to 239.255.255.255)") from None
    return SyncConfig(
        network,
        ready_frames=settings.sync_frames,
        period_frames=settings.sync_period_frames,
        min_adjustment_us=settings.sync_min_adjustment_us,
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
    roles = camera_roles(settings.sync_role, settings.sim_cameras)
    return [
        SimSource(i, dataclasses.replace(faulty if i == settings.sim_fault_camera else params, sync_role=roles[i]))
        for i in range(settings.sim_cameras)
    ]
