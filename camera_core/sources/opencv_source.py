"""The OpenCV backend: USB/V4L2 cameras through cv2.VideoCapture, and video files replayed as cameras.

`opencv_devices` lists the cameras, comma-separated: a whole number is a camera index (0, 1, ...),
a path under /dev/ is a V4L2 device (/dev/video0), anything else is a video file path.

Timestamps (`sensor_timestamp_ns`, on CLOCK_BOOTTIME like libcamera's SensorTimestamp):
- USB camera: the V4L2 buffer timestamp (CAP_PROP_POS_MSEC of OpenCV's V4L2 backend, taken by the
  kernel when the frame was captured, CLOCK_MONOTONIC) moved onto CLOCK_BOOTTIME; where the backend
  gives no such timestamp (or one that is not on the monotonic clock), the CLOCK_BOOTTIME time at
  which OpenCV handed over the frame. `status()["timestamp_source"]` says which is used.
- Video file: decoded with PyAV; frame k is stamped `base + (pts_k - pts_0)` exactly, `base` being
  the CLOCK_BOOTTIME time playback began, so the gaps between frames are the file's own.
  `frame_duration_us` is the file's nominal frame period (the median pts step), so a gap in the
  file shows as dropped frames, as on a camera.

A replayed file is a finite camera: at its end `read()` returns None and `finished` becomes true.
With `opencv_file_wait_for_recording` it shows its first frame (paced, marked held, never recorded)
until a recording starts, so a recording holds the file from its first frame.
"""

from __future__ import annotations

import itertools
import logging
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import av
import cv2
import numpy as np

from camera_core.errors import CameraNotFoundError, ConfigError
from camera_core.frames.frame import Frame, PixelFormat
from camera_core.sources.base import CameraInfo, CameraSource
from camera_core.sources.lifecycle import LifecycleSource
from camera_core.sources.sim import boottime_ns

if TYPE_CHECKING:
    from camera_core.config.settings import Settings

log = logging.getLogger(__name__)

DEVICES_ALLOWED = (
    "a comma-separated list of camera indexes (0, 1, ...), V4L2 device paths (/dev/video0) "
    "or video file paths (clips/a.mp4)"
)
#: The frame's `extra` key marking a held (not yet playing) copy of a file's first frame.
HELD = "held"


@dataclass(frozen=True, slots=True)
class DeviceSpec:
    """One entry of `opencv_devices`."""

    kind: Literal["index", "device", "file"]
    target: int | str
    text: str

    @property
    def label(self) -> str:
        return f"USB camera index {self.target}" if self.kind == "index" else str(self.target)


def parse_devices(text: str, where: str = "settings") -> list[DeviceSpec]:
    """`opencv_devices` as DeviceSpecs; ConfigError naming the entry that is wrong."""
    if not text.strip():
        raise ConfigError(where, "opencv_devices", "is empty: no camera to open", DEVICES_ALLOWED)
    specs: list[DeviceSpec] = []
    for position, raw in enumerate(text.split(","), start=1):
        item = raw.strip()
        if not item:
            raise ConfigError(where, "opencv_devices", f"entry {position} is empty in '{text}'", DEVICES_ALLOWED)
        if item.lstrip("+-").isdigit():
            index = int(item)
            if index < 0:
                raise ConfigError(
                    where, "opencv_devices", f"entry {position} '{item}' is a negative camera index", DEVICES_ALLOWED
                )
            specs.append(DeviceSpec("index", index, item))
        elif item.startswith("/dev/"):
            specs.append(DeviceSpec("device", item, item))
        else:
            specs.append(DeviceSpec("file", str(Path(item).expanduser()), item))
    seen: set[int | str] = set()
    for position, spec in enumerate(specs, start=1):
        if spec.kind != "file" and spec.target in seen:
            raise ConfigError(
                where, "opencv_devices", f"entry {position} '{spec.text}' names a camera twice", DEVICES_ALLOWED
            )
        seen.add(spec.target)
    return specs


# -- USB / V4L2 cameras ---------------------------------------------------------------------------


class USBCameraSource(LifecycleSource):
    """A live camera through cv2.VideoCapture; BGR frames. `read()` blocks in OpenCV (driver timeout)."""

    def __init__(self, camera_id: int, spec: DeviceSpec, size: tuple[int, int], fps: float) -> None:
        super().__init__(camera_id)
        self.spec = spec
        self.requested_size = size
        self.requested_fps = fps
        self._cap: cv2.VideoCapture | None = None
        self._info: CameraInfo | None = None
        self._frame_duration_us = 1e6 / fps
        self._boot_minus_mono_ns = 0
        self._use_buffer_timestamps = False
        self.timestamp_source = "arrival (CLOCK_BOOTTIME)"
        self.delivered = 0
        self.failed_grabs = 0

    @property
    def info(self) -> CameraInfo:
        if self._info is None:
            w, h = self.requested_size
            return CameraInfo(self.camera_id, "opencv", "USB camera", w, h, self.requested_fps, "BGR", self.spec.label)
        return self._info

    def _open(self) -> None:
        label = self.spec.label
        if self.spec.kind == "device" and not Path(str(self.spec.target)).exists():
            raise CameraNotFoundError(f"cam{self.camera_id}: {label} does not exist (see `v4l2-ctl --list-devices`)")
        api = cv2.CAP_V4L2 if sys.platform.startswith("linux") else cv2.CAP_ANY
        cap = cv2.VideoCapture(self.spec.target, api)
        if not cap.isOpened():
            cap.release()
            raise CameraNotFoundError(
                f"cam{self.camera_id}: {label} could not be opened (not connected, busy in another program, "
                "or no permission: is the user in the 'video' group?)"
            )
        width, height = self.requested_size
        cap.set(
            cv2.CAP_PROP_FOURCC, cv2.VideoWriter.fourcc(*"MJPG")
        )  # full rate at large sizes; ignored if unsupported
        cap.set(cv2.CAP_PROP_FRAME_WIDTH, width)
        cap.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
        cap.set(cv2.CAP_PROP_FPS, self.requested_fps)
        ok, image = cap.read()
        if not ok or image is None:
            cap.release()
            raise CameraNotFoundError(f"cam{self.camera_id}: {label} opened but delivered no frame")
        fps = cap.get(cv2.CAP_PROP_FPS) or self.requested_fps
        backend = cap.getBackendName()
        self._cap = cap
        self._info = CameraInfo(
            self.camera_id, "opencv", f"USB camera ({backend})", image.shape[1], image.shape[0], fps, "BGR", label
        )
        self._frame_duration_us = 1e6 / fps
        self._boot_minus_mono_ns = boottime_ns() - time.monotonic_ns()
        self._use_buffer_timestamps = backend == "V4L2"
        if (image.shape[1], image.shape[0]) != (width, height) or abs(fps - self.requested_fps) > 0.01:
            log.warning(
                "cam%d: %s asked for %dx%d @ %.1f fps, got %dx%d @ %.1f fps",
                self.camera_id,
                label,
                width,
                height,
                self.requested_fps,
                image.shape[1],
                image.shape[0],
                fps,
            )

    def _timestamp_ns(self, arrival_ns: int) -> int:
        """The V4L2 buffer timestamp on CLOCK_BOOTTIME when it is there and plausible, else arrival."""
        assert self._cap is not None
        if self._use_buffer_timestamps:
            msec = self._cap.get(cv2.CAP_PROP_POS_MSEC)
            if msec > 0:
                stamp = round(msec * 1e6) + self._boot_minus_mono_ns
                if 0 <= arrival_ns - stamp < 1_000_000_000:
                    self.timestamp_source = "V4L2 buffer timestamp (CLOCK_MONOTONIC -> CLOCK_BOOTTIME)"
                    return stamp
            self._use_buffer_timestamps = False
            log.info("cam%d: no usable V4L2 buffer timestamps; using arrival times", self.camera_id)
        self.timestamp_source = "arrival (CLOCK_BOOTTIME)"
        return arrival_ns

    def _read(self, timeout: float) -> Frame | None:
        cap = self._cap
        if cap is None:
            return None
        if not cap.grab():
            self.failed_grabs += 1
            if self.failed_grabs == 1 or self.failed_grabs % 100 == 0:
                log.warning(
                    "cam%d: %s delivered no frame (%d times)", self.camera_id, self.spec.label, self.failed_grabs
                )
            self._stop_event.wait(min(timeout, 0.1))
            return None
        arrival = boottime_ns()
        ok, image = cap.retrieve()
        if not ok or image is None:
            self.failed_grabs += 1
            return None
        self.delivered += 1
        return Frame(
            camera_id=self.camera_id,
            image=image,
            pixel_format="BGR",
            sensor_timestamp_ns=self._timestamp_ns(arrival),
            frame_duration_us=self._frame_duration_us,
            sequence=self.delivered - 1,
            arrival_ns=time.monotonic_ns(),
        )

    def _close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None

    def status(self) -> dict[str, object]:
        return {"device": self.spec.label, "timestamp_source": self.timestamp_source, "failed_grabs": self.failed_grabs}


# -- video files replayed as cameras --------------------------------------------------------------


@dataclass(slots=True)
class _FileFrame:
    index: int
    offset_ns: int
    image: np.ndarray


def nominal_frame_period(path: Path, stream: av.video.stream.VideoStream, probe: int = 240) -> Fraction:
    """The file's frame period in seconds: the median pts step of its first `probe` packets, so gaps
    (missing frames) and variable rates do not skew it; else its stated rate; else 1/25 s."""
    pts: list[int] = []
    try:
        with av.open(str(path)) as probe_container:
            for packet in probe_container.demux(video=stream.index):
                if packet.pts is not None:
                    pts.append(packet.pts)
                if len(pts) >= probe:
                    break
    except av.FFmpegError:
        pts = []
    pts.sort()
    steps = sorted(b - a for a, b in itertools.pairwise(pts) if b > a)
    if steps and stream.time_base:
        return steps[len(steps) // 2] * Fraction(stream.time_base)
    rate = stream.guessed_rate or stream.average_rate
    if rate:
        return 1 / Fraction(rate)
    log.warning("%s states no frame rate; assuming 25 fps", path.name)
    return Fraction(1, 25)


class VideoFileSource(LifecycleSource):
    """A video file as a camera: its real frames, at its own rate (or unpaced), stamped from its pts."""

    def __init__(self, camera_id: int, path: Path, *, realtime: bool = True, wait_for_recording: bool = True) -> None:
        super().__init__(camera_id)
        self.path = path
        self.paced = realtime
        self.wait_for_recording = wait_for_recording
        self._container: av.container.InputContainer | None = None
        self._frames: Iterator[av.VideoFrame] | None = None
        self._info: CameraInfo | None = None
        self._time_base = Fraction(1, 1)
        self._first_pts: int | None = None
        self._last_offset_ns = 0
        self._period_ns = 0
        self._frame_duration_us = 0.0
        self._format: PixelFormat = "I420"
        self._first: _FileFrame | None = None
        self._pending: _FileFrame | None = None
        self._lock = threading.Lock()
        self._holding = False
        self._held_count = 0
        self._hold_t0 = 0
        self._last_held_ns: int | None = None
        self._base_ns = 0
        self._finished = threading.Event()
        self._decoded = 0
        self.delivered = 0

    @property
    def info(self) -> CameraInfo:
        if self._info is None:
            return CameraInfo(self.camera_id, "opencv", "video file", 0, 0, 0.0, self._format, str(self.path))
        return self._info

    @property
    def finished(self) -> bool:
        """True once every frame of the file has been delivered; `read()` then returns None."""
        return self._finished.is_set()

    def wait_finished(self, timeout: float | None = None) -> bool:
        """Block until the end of the file was reached (True) or `timeout` passed (False)."""
        return self._finished.wait(timeout)

    def _open(self) -> None:
        where = f"cam{self.camera_id}: video file {self.path}"
        if not self.path.is_file():
            raise CameraNotFoundError(f"{where} not found")
        try:
            container = av.open(str(self.path))
        except (av.FFmpegError, OSError) as exc:
            raise CameraNotFoundError(f"{where} cannot be opened as a video: {exc}") from exc
        if not container.streams.video:
            container.close()
            raise CameraNotFoundError(f"{where} has no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        self._time_base = Fraction(stream.time_base or Fraction(1, 1_000_000))
        period_s = nominal_frame_period(self.path, stream)
        self._container, self._frames = container, iter(container.decode(stream))
        self._period_ns = round(period_s * 1_000_000_000)
        width, height = stream.codec_context.width, stream.codec_context.height
        self._format = "I420" if width % 2 == 0 and height % 2 == 0 else "BGR"
        first = self._decode_next()
        if first is None:  # the container is closed by open() (_close)
            raise CameraNotFoundError(f"{where} holds no decodable frame")
        rows, width = first.image.shape[:2]
        height = rows * 2 // 3 if self._format == "I420" else rows
        self._first = self._pending = first
        fps = float(1 / period_s)
        self._frame_duration_us = float(period_s * 1_000_000)
        self._info = CameraInfo(
            self.camera_id, "opencv", "video file (PyAV)", width, height, fps, self._format, str(self.path)
        )

    def _decode_next(self) -> _FileFrame | None:
        """The next frame of the file, or None at its end (a decode error ends the file, logged)."""
        assert self._frames is not None
        try:
            vf = next(self._frames)
        except StopIteration:
            return None
        except av.FFmpegError:
            log.exception("cam%d: %s: decoding failed after %d frames", self.camera_id, self.path.name, self._decoded)
            return None
        if vf.pts is None:
            offset = self._last_offset_ns + self._period_ns if self._decoded else 0
        else:
            if self._first_pts is None:
                self._first_pts = vf.pts
            offset = round((vf.pts - self._first_pts) * self._time_base * 1_000_000_000)
        self._last_offset_ns = offset
        self._decoded += 1
        image = vf.to_ndarray(format="yuv420p" if self._format == "I420" else "bgr24")
        return _FileFrame(self._decoded - 1, offset, np.ascontiguousarray(image))

    def _start(self) -> None:
        now = boottime_ns()
        with self._lock:
            self._holding = self.wait_for_recording
            self._hold_t0 = self._base_ns = now

    def release_hold(self) -> None:
        """Start playing (a recording starts): the next real frame is the file's first, one frame
        period after the last held copy, so the camera's cadence goes on without a gap."""
        with self._lock:
            if not self._holding:
                return
            self._holding = False
            last = self._last_held_ns
            self._base_ns = boottime_ns() if last is None else last + self._period_ns
        log.info("cam%d: %s starts playing", self.camera_id, self.path.name)

    def _wait_until(self, due_ns: int, timeout: float) -> bool:
        """Pace to `due_ns`; False when the wait was cut short (timeout or stop)."""
        wait_s = (due_ns - boottime_ns()) / 1e9
        if wait_s > timeout:
            self._stop_event.wait(timeout)
            return False
        return not (wait_s > 0 and self._stop_event.wait(wait_s))

    def _read_held(self, due_ns: int, timeout: float) -> Frame | None:
        assert self._first is not None
        if not self._wait_until(due_ns, timeout):
            with self._lock:
                self._held_count -= 1  # not delivered: its slot comes again
                self._last_held_ns = None if self._held_count == 0 else due_ns - self._period_ns
            return None
        return Frame(
            camera_id=self.camera_id,
            image=self._first.image.copy(),
            pixel_format=self._format,
            sensor_timestamp_ns=due_ns,
            frame_duration_us=self._frame_duration_us,
            sequence=None,
            arrival_ns=time.monotonic_ns(),
            extra={HELD: True},
        )

    def _read(self, timeout: float) -> Frame | None:
        if self._finished.is_set():
            return None
        with self._lock:
            if self._holding:
                due = self._hold_t0 + self._held_count * self._period_ns
                self._held_count += 1
                self._last_held_ns = due
                held = True
            else:
                held = False
        if held:
            return self._read_held(due, timeout)
        item = self._pending if self._pending is not None else self._decode_next()
        self._pending = item
        if item is None:
            if not self._finished.is_set():
                log.info("cam%d: end of %s after %d frames", self.camera_id, self.path.name, self.delivered)
            self._finished.set()
            return None
        due = self._base_ns + item.offset_ns
        if self.paced and not self._wait_until(due, timeout):
            return None
        self._pending = None
        self.delivered += 1
        return Frame(
            camera_id=self.camera_id,
            image=item.image,
            pixel_format=self._format,
            sensor_timestamp_ns=due,
            frame_duration_us=self._frame_duration_us,
            sequence=item.index,
            arrival_ns=time.monotonic_ns(),
        )

    def _close(self) -> None:
        if self._container is not None:
            self._container.close()
            self._container, self._frames = None, None

    def holds_frame(self, frame: Frame) -> bool:
        """The held copies of the first frame, shown before a recording starts, are never recorded."""
        return bool(frame.extra.get(HELD))

    def on_recording_started(self) -> None:
        """A recording starts the held file's playback."""
        if self.wait_for_recording:
            self.release_hold()

    def status(self) -> dict[str, object]:
        return {
            "file": str(self.path),
            "frames_delivered": self.delivered,
            "holding": self._holding,
            "finished": self.finished,
            "realtime": self.paced,
            "timestamp_source": "file pts",
        }


# -- factory --------------------------------------------------------------------------------------


def create_opencv_sources(settings: Settings) -> list[CameraSource]:
    """One source per `opencv_devices` entry, camera ids in list order. Nothing is opened here."""
    sources: list[CameraSource] = []
    for camera_id, spec in enumerate(parse_devices(settings.opencv_devices)):
        if spec.kind == "file":
            sources.append(
                VideoFileSource(
                    camera_id,
                    Path(str(spec.target)),
                    realtime=settings.opencv_file_realtime,
                    wait_for_recording=settings.opencv_file_wait_for_recording,
                )
            )
        else:
            sources.append(USBCameraSource(camera_id, spec, settings.frame_size, settings.target_fps))
    return sources
