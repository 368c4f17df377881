"""Test API of the fake: which cameras exist, injected faults, and the frame code drawn into every frame.

Tests call `configure_fake(...)` / `reset_fake()`; the fake camera code reads `STATE`. Fault maps are
keyed by the camera's libcamera number `Num` (with the default Ids, `Num` equals the index passed to
`Picamera2(camera_num)`).
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .picamera2 import Picamera2

FRAME_CODE_BITS = 32


@dataclass
class SensorMode:
    size: tuple[int, int]
    bit_depth: int = 10
    fps: float = 60.38


@dataclass
class FakeCameraSpec:
    """One fake sensor. `modes` defaults to a single mode at `size`/`bit_depth`/`fps`."""

    model: str = "imx296"
    size: tuple[int, int] = (1456, 1088)
    fps: float = 60.38
    bit_depth: int = 10
    mono: bool = False
    bayer_order: str = "RGGB"
    id: str | None = None
    location: int = 2
    rotation: int = 0
    unit_cell_size: tuple[int, int] = (3450, 3450)
    modes: list[SensorMode] = field(default_factory=list)
    #: Offers libcamera's software sync (SyncMode, SyncFrames); False like a virtual camera or a build without it.
    sync: bool = True
    #: Pixel formats the Raw stream offers when the camera has no raw Bayer modes (a UVC camera, libcamera's
    #: virtual cameras: ["NV12"]); `sensor_modes` then lists only {"format": name} for each, as picamera2 does.
    raw_formats: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.modes:
            self.modes = [SensorMode(tuple(self.size), self.bit_depth, self.fps)]  # type: ignore[arg-type]

    def raw_format(self, mode: SensorMode) -> str:
        order = "R" if self.mono else f"S{self.bayer_order}"
        return f"{order}{mode.bit_depth}_CSI2P" if mode.bit_depth in (10, 12) else f"{order}{mode.bit_depth}"


@dataclass
class FakeState:
    cameras: list[FakeCameraSpec] = field(default_factory=lambda: [FakeCameraSpec(), FakeCameraSpec()])
    drop_sequences: dict[int, set[int]] = field(default_factory=dict)
    fail_open: set[int] = field(default_factory=set)
    stall_after: dict[int, int] = field(default_factory=dict)
    startup_frames: int = 0
    acquired: set[int] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)
    instances: weakref.WeakSet[Picamera2] = field(default_factory=weakref.WeakSet)
    stats: dict[int, dict[str, int]] = field(default_factory=dict)
    changed: threading.Condition = field(default_factory=threading.Condition)
    #: The sync server's ready time (wall-clock µs), standing in for its multicast message.
    sync_ready_wall_us: int | None = None
    trigger_hz: dict[int, float] = field(default_factory=dict)

    def camera_id(self, num: int) -> str:
        spec = self.cameras[num]
        if spec.id is not None:
            return spec.id
        # Pi 5 style ids; reverse-sorted they keep enumeration order, so Num == camera_num.
        return f"/base/axi/pcie@120000/rp1/i2c@{0x88000 - num * 0x8000:x}/{spec.model}@1a"

    def stat(self, num: int) -> dict[str, int]:
        return self.stats.setdefault(
            num, {"sensor_frames": 0, "delivered": 0, "dropped_injected": 0, "dropped_no_buffer": 0, "stalled": 0}
        )

    def count(self, num: int, key: str) -> None:
        with self.changed:
            self.stat(num)[key] += 1
            self.changed.notify_all()


STATE = FakeState()


def _spec_from(item: FakeCameraSpec | Mapping[str, Any]) -> FakeCameraSpec:
    if isinstance(item, FakeCameraSpec):
        return item
    keys = {k.lower(): v for k, v in item.items()}
    modes = [m if isinstance(m, SensorMode) else SensorMode(**m) for m in keys.pop("modes", [])]
    spec = FakeCameraSpec(
        model=keys.pop("model", "imx296"),
        size=tuple(keys.pop("size", (1456, 1088))),  # type: ignore[arg-type]
        fps=float(keys.pop("fps", 60.38)),
        bit_depth=int(keys.pop("bit_depth", 10)),
        mono=bool(keys.pop("mono", False)),
        bayer_order=keys.pop("bayer_order", "RGGB"),
        id=keys.pop("id", None),
        location=int(keys.pop("location", 2)),
        rotation=int(keys.pop("rotation", 0)),
        modes=modes,
        sync=bool(keys.pop("sync", True)),
        raw_formats=[str(f) for f in keys.pop("raw_formats", [])],
    )
    if keys:
        raise ValueError(f"unknown fake camera keys: {sorted(keys)}")
    return spec


def configure_fake(
    cameras: Iterable[FakeCameraSpec | Mapping[str, Any]] | None = None,
    drop_sequences: Mapping[int, Iterable[int]] | None = None,
    fail_open: Iterable[int] | None = None,
    stall_after: Mapping[int, int] | None = None,
    startup_frames: int | None = None,
    trigger_hz: Mapping[int, float] | None = None,
) -> None:
    """Set up the fake cameras and faults. Arguments left as None keep their current value.

    cameras: dicts with Model, size, fps, bit_depth, mono, Id, Location, Rotation, modes.
    drop_sequences: {Num: {s, ...}} sensor frames never delivered (the timestamp gap shows).
    fail_open: {Num, ...} cameras whose open fails (RuntimeError from Picamera2()).
    stall_after: {Num: s} the camera delivers nothing from sensor sequence s on (s=0: nothing at all).
    startup_frames: frames after each start delivered with an error status (process_requests drops them).
    trigger_hz: {Num: hz} an external trigger pulse drives the sensor: one frame per pulse at this
        rate, whatever FrameDuration it reports (the IMX296 with its driver in trigger mode).
    """
    with STATE.lock:
        if cameras is not None:
            STATE.cameras = [_spec_from(c) for c in cameras]
        if drop_sequences is not None:
            STATE.drop_sequences = {int(k): set(v) for k, v in drop_sequences.items()}
        if fail_open is not None:
            STATE.fail_open = set(fail_open)
        if stall_after is not None:
            STATE.stall_after = {int(k): int(v) for k, v in stall_after.items()}
        if startup_frames is not None:
            STATE.startup_frames = startup_frames
        if trigger_hz is not None:
            STATE.trigger_hz = {int(k): float(v) for k, v in trigger_hz.items()}


def stall_camera(num: int, sequence: int = 0) -> None:
    """Make a running camera stop delivering frames from sensor sequence `sequence` (0 = right now)."""
    with STATE.lock:
        STATE.stall_after[num] = sequence


def resume_camera(num: int) -> None:
    with STATE.lock:
        STATE.stall_after.pop(num, None)


def sensor_stats(num: int) -> dict[str, int]:
    """Counters of camera `num` since reset: sensor_frames, delivered, dropped_injected, dropped_no_buffer
    (a frame came while every request was held by the application), stalled."""
    with STATE.changed:
        return dict(STATE.stat(num))


def wait_for_stat(num: int, key: str, at_least: int, timeout: float = 5.0) -> bool:
    """Block until sensor_stats(num)[key] >= at_least (True) or the timeout passes (False)."""
    with STATE.changed:
        return STATE.changed.wait_for(lambda: STATE.stat(num)[key] >= at_least, timeout)


def reset_fake() -> None:
    """Close every fake Picamera2 still open and restore the default two imx296 cameras and no faults."""
    for cam in list(STATE.instances):
        try:
            cam.close()
        except Exception:
            pass
    with STATE.lock:
        fresh = FakeState()
        STATE.cameras = fresh.cameras
        STATE.drop_sequences = {}
        STATE.fail_open = set()
        STATE.stall_after = {}
        STATE.startup_frames = 0
        STATE.acquired = set()
        STATE.sync_ready_wall_us = None
        STATE.trigger_hz = {}
    with STATE.changed:
        STATE.stats = {}


def fake_platform() -> str:
    """'vc4' (Pi 4 and earlier: V4L2 H264Encoder) or 'pisp' (Pi 5: H264Encoder is LibavH264Encoder).

    Chosen once at import, like the real platform detection, from PICAMERA2_FAKE_PLATFORM.
    """
    value = os.environ.get("PICAMERA2_FAKE_PLATFORM", "vc4").lower()
    if value not in ("vc4", "pisp"):
        raise ValueError(f"PICAMERA2_FAKE_PLATFORM must be vc4 or pisp, not {value!r}")
    return value


# ---------------------------------------------------------------------------------------------------------
# Frame code: sensor sequence number s as 32 cells along the bottom-left edge (same as the project's sim).


def frame_code_cell(width: int) -> int:
    return min(16, width // FRAME_CODE_BITS)


def draw_frame_code(image: np.ndarray, fmt: str, size: tuple[int, int], sequence: int) -> None:
    """Draw s into a shaped buffer view: YUV420 (h*3//2, stride) or RGB (h, w, 3|4)."""
    w, h = size
    c = frame_code_cell(w)
    if c == 0:
        return
    yuv = fmt in ("YUV420", "YVU420")
    for i in range(FRAME_CODE_BITS):
        value = 255 if (sequence >> (FRAME_CODE_BITS - 1 - i)) & 1 else 0
        x0, x1 = i * c, (i + 1) * c
        image[h - c : h, x0:x1] = value
    if yuv:
        # Chroma planes (each h/2 rows of stride/2) under the cells become neutral grey.
        stride = image.shape[1]
        chroma = image[h:].reshape(h, stride // 2)  # U rows then V rows, half-width each
        half = h // 2
        y0 = (h - c) // 2
        xc = (FRAME_CODE_BITS * c + 1) // 2
        chroma[y0:half, :xc] = 128
        chroma[half + y0 : h, :xc] = 128


def read_frame_code(image: np.ndarray, size: tuple[int, int] | None = None) -> int:
    """Read s back from an image: 2-D luma/grey (first h rows, w columns used) or (h, w, C) colour.

    Thresholds the mean of each cell's centre at 128, as any decoder of the sim's frames would.
    """
    if size is None:
        size = (image.shape[1], image.shape[0])
    w, h = size
    c = frame_code_cell(w)
    m = max(1, c // 4)
    value = 0
    for i in range(FRAME_CODE_BITS):
        cell = image[h - c + m : h - m, i * c + m : (i + 1) * c - m]
        bit = 1 if float(np.mean(cell)) >= 128 else 0
        value = (value << 1) | bit
    return value


def scene_rgb(size: tuple[int, int], sequence: int) -> np.ndarray:
    """The colours (h, w, 3) in R, G, B order that frame `sequence` shows before the frame code is drawn."""
    w, h = size
    x = np.arange(w, dtype=np.int32)[None, :] + (sequence * Scene.SHIFT_PER_FRAME) % 256
    y = np.arange(h, dtype=np.int32)[:, None]
    red = ((x + 2 * y) & 255).astype(np.uint8)
    return np.stack([red, 255 - red, ((x + 2 * y - 64) & 255).astype(np.uint8)], axis=2)


# Byte positions of R, G, B in each packed RGB format (picamera2 names are the reverse of byte order).
RGB_BYTE_ORDER = {"RGB888": (2, 1, 0), "BGR888": (0, 1, 2), "XRGB8888": (2, 1, 0), "XBGR8888": (0, 1, 2)}


class Scene:
    """Cheap moving content for one stream: a diagonal gradient shifted by 4 px per sensor frame.

    R = (x + 2y + 4s) & 255, G = 255 - R, B = R shifted by 64; luma (YUV420) = R; X bytes = 255.
    """

    SHIFT_PER_FRAME = 4

    def __init__(self, fmt: str, size: tuple[int, int]) -> None:
        self.fmt = fmt
        self.size = size
        w, h = size
        rgb = scene_rgb((w + 256, h), 0)
        self.pattern: np.ndarray | None
        if fmt in ("YUV420", "YVU420"):
            self.pattern = np.ascontiguousarray(rgb[:, :, 0])
        elif fmt in RGB_BYTE_ORDER:
            pattern = np.full((h, w + 256, 4 if fmt.startswith("X") else 3), 255, dtype=np.uint8)
            for channel, pos in enumerate(RGB_BYTE_ORDER[fmt]):
                pattern[:, :, pos] = rgb[:, :, channel]
            self.pattern = pattern
        else:
            self.pattern = None

    def render(self, image: np.ndarray, sequence: int) -> None:
        if self.pattern is None:
            return
        w, h = self.size
        off = (sequence * self.SHIFT_PER_FRAME) % 256
        if self.fmt in ("YUV420", "YVU420"):
            image[:h, :w] = self.pattern[:, off : off + w]
            image[h:] = 128
        else:
            image[:] = self.pattern[:, off : off + w]
        draw_frame_code(image, self.fmt, self.size, sequence)
