"""Sessions with known timing for the report tests: sim cameras (unpaced) with injected drops,
jitter, clock drift and start offsets, recorded through CameraSystem, and the values the report
must find, computed from the injection alone (never from the CSVs)."""

from __future__ import annotations

import atexit
import functools
import itertools
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from camera_core.config import Settings
from camera_core.frames.frame import Frame
from camera_core.sources.sim import SimParams, SimSource, boottime_ns
from camera_core.system import CameraSystem

FPS = 30.0
PERIOD_NS = 1e9 / FPS


@dataclass(frozen=True, slots=True)
class CamSpec:
    drops: frozenset[int] = frozenset()
    jitter_us: float = 0.0
    drift_ppm: float = 0.0
    start_offset_ns: int = 0
    seed: int = 0

    @property
    def period_ns(self) -> float:
        return PERIOD_NS * (1 + self.drift_ppm * 1e-6)


class ScriptedSim(SimSource):
    """A sim camera that delivers sequence 0 at once (the system's readiness frame, not recorded),
    holds sequence 1 on until `go` is set (after start_recording), and ends after `last`. Its clock
    starts at `base_ns + start_offset_ns`; with `wall_offset_ns` it stamps FrameWallClock as
    sensor time + that offset, like a camera that gives its own wall clock."""

    def __init__(
        self,
        camera_id: int,
        params: SimParams,
        *,
        base_ns: int,
        spec: CamSpec,
        last: int,
        go: threading.Event,
        wall_offset_ns: int | None,
    ) -> None:
        super().__init__(camera_id, params)
        self.base_ns, self.spec, self.last, self.go = base_ns, spec, last, go
        self.wall_offset_ns = wall_offset_ns
        self.done = threading.Event()

    def start(self) -> None:
        super().start()
        self._t0 = self.base_ns + self.spec.start_offset_ns

    def read(self, timeout: float = 1.0) -> Frame | None:
        if self._next_seq > 0 and not self.go.wait(timeout):
            return None
        if self._next_delivered() > self.last:
            self.done.set()
            self._stop_event.wait(timeout)  # nothing more to give: wait for stop instead of spinning
            return None
        frame = super().read(timeout)
        if frame is not None and self.wall_offset_ns is not None:
            frame.wall_clock_ns = frame.sensor_timestamp_ns + self.wall_offset_ns
        return frame


def record_session(out_dir: Path, specs: list[CamSpec], last: int, *, frame_wall_clock: bool = True) -> Path:
    """Record sequences 1..last of every camera in one take; returns the session folder."""
    go = threading.Event()
    base = boottime_ns()
    wall_offset = time.clock_gettime_ns(time.CLOCK_REALTIME) - base if frame_wall_clock else None
    sources = [
        ScriptedSim(
            i,
            SimParams(
                320,
                240,
                FPS,
                jitter_us=spec.jitter_us,
                seed=spec.seed,
                realtime=False,
                clock_drift_ppm=spec.drift_ppm,
                drop_sequences=spec.drops,
            ),
            base_ns=base,
            spec=spec,
            last=last,
            go=go,
            wall_offset_ns=wall_offset,
        )
        for i, spec in enumerate(specs)
    ]
    settings = Settings(
        camera_backend="sim",
        output_dir=str(out_dir),
        resolution_preset=7,
        target_fps=FPS,
        show_preview=False,
        sim_realtime=False,
        log_level="warning",
    )
    system = CameraSystem(settings, sources=list(sources))
    with system:
        system.start_recording()
        go.set()
        for source in sources:
            assert source.done.wait(60), f"cam{source.camera_id} did not deliver its frames"
        system.stop_recording()
    assert system.session is not None
    return system.session.directory


# -- what the report must find, from the injection alone -------------------------------------------


def delivered(spec: CamSpec, last: int) -> list[int]:
    return [s for s in range(1, last + 1) if s not in spec.drops]


def drop_runs(spec: CamSpec, last: int) -> list[tuple[int, int]]:
    """(frame number after the gap, frames lost) for each gap, in order."""
    seqs = delivered(spec, last)
    return [(n, cur - prev - 1) for n, (prev, cur) in enumerate(itertools.pairwise(seqs), 1) if cur - prev > 1]


def sensor_ns(spec: CamSpec, seq: int) -> float:
    return spec.start_offset_ns + seq * spec.period_ns


# -- sessions shared by the report tests (recorded once per test run) ------------------------------

_ROOT = Path(tempfile.mkdtemp(prefix="camera_core_report_tests_"))
atexit.register(shutil.rmtree, _ROOT, ignore_errors=True)

#: Exact figures: cam0 loses a run of 3 and a single frame; cam1 starts 5 ms later, its clock runs
#: 100 ppm slow, and it loses one frame.
EXACT_LAST = 300
EXACT = [
    CamSpec(drops=frozenset({50, 51, 52, 200})),
    CamSpec(drops=frozenset({120}), drift_ppm=100.0, start_offset_ns=5_000_000),
]

#: Statistical figures: ±500 µs uniform timestamp jitter on both, clocks -50 and +30 ppm off.
JITTER_LAST = 600
JITTER = [
    CamSpec(jitter_us=500.0, drift_ppm=-50.0, seed=11),
    CamSpec(jitter_us=500.0, drift_ppm=30.0, start_offset_ns=-2_000_000, seed=12),
]


@functools.cache
def exact_session() -> Path:
    return record_session(_ROOT / "exact", EXACT, EXACT_LAST)


@functools.cache
def jitter_session() -> Path:
    return record_session(_ROOT / "jitter", JITTER, JITTER_LAST, frame_wall_clock=False)
