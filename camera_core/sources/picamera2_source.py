"""Raspberry Pi CSI cameras through picamera2/libcamera: discovery, the video configuration, the
newest frame for the capture loop (copied out, buffer released at once), and per-frame sensor stats.

picamera2 is imported only inside `create_picamera2_sources`, after LIBCAMERA_LOG_LEVELS is set.
Only the lores (preview) stream is copied out of every frame; the main stream only for a frame a
snapshot asked for (`request_full_frame`). The source is an `EncoderHost`: recording runs on picamera2's own encoder (see
recording/picamera2_encoder.py) through a small public interface (request hooks, start/stop an
encoder). It owns the camera's single `pre_callback`, which counts every sensor frame and hands
each one to the registered request hooks (the recording pipeline numbers, burns in and gates the
frames it records there).

Threads: `read()` runs in the capture thread; `_pre_callback` runs in picamera2's camera loop
thread, which must never wait on anything slow.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

from camera_core.errors import CameraBusyError, NoCamerasError
from camera_core.frames.frame import VIDEO_BT601, Frame, YuvEncoding
from camera_core.frames.pool import BufferPool
from camera_core.sources.base import CameraInfo, CameraRequest, CameraSource, EncoderHost, RequestHook
from camera_core.sources.controls import ControlSettings, ControlState, check_offered
from camera_core.sources.lifecycle import LifecycleSource
from camera_core.sources.trigger import check_trigger_mode, trigger_period_us
from camera_core.sync import picamera2_sync
from camera_core.timing import DropCounter, RateMeter

if TYPE_CHECKING:
    from camera_core.config.settings import Settings

log = logging.getLogger(__name__)

#: The sensor the resolution presets were made for: any preset size is used as it is.
NATIVE_MODEL = "imx296"
#: FrameWallClock below this is in microseconds (RPi libcamera before v0.5.2+rpt20250903).
WALL_CLOCK_US_LIMIT = 10**17
#: The image of a frame whose main stream was not copied (see `request_full_frame`).
_NO_IMAGE = np.empty((0, 0), dtype=np.uint8)


def apply_libcamera_log_level(level: str) -> None:
    """libcamera reads LIBCAMERA_LOG_LEVELS when it starts, so this must run before picamera2 is
    imported. libcamera writes its log to stderr, which the CLI sends to session.log."""
    os.environ["LIBCAMERA_LOG_LEVELS"] = f"*:{level}"


@dataclass(frozen=True, slots=True)
class VideoPlan:
    """What to ask the camera for: the main (recording) size, the sensor mode, the frame rate."""

    main_size: tuple[int, int]
    lores_size: tuple[int, int]
    sensor: dict[str, Any]
    fps: float
    note: str = ""


def even(n: float) -> int:
    return max(2, int(n) & ~1)


def plan_video(
    model: str, modes: list[dict[str, Any]], size: tuple[int, int], preview: tuple[int, int], fps: float
) -> VideoPlan:
    """The main stream at the preset size on the IMX296; on another sensor the sensor mode nearest
    to the preset size (among those fast enough for `fps`) and the largest size of that mode's
    aspect ratio that fits the preset box. The lores (preview) stream is never larger than main."""
    width, height = even(size[0]), even(size[1])
    # A camera without raw Bayer modes (UVC, libcamera's virtual cameras) lists only {"format": name}.
    modes = [m for m in modes if "size" in m]
    fast_enough = [m for m in modes if float(m.get("fps") or 0) >= fps - 0.01]
    mode_fps = max((float(m.get("fps") or 0) for m in modes), default=0.0)
    note = ""
    if modes and not fast_enough:
        note = f"no sensor mode reaches {fps:g} fps; the fastest gives {mode_fps:g} fps"
    if model.lower().startswith(NATIVE_MODEL) or not modes:
        main = (width, height)
        sensor: dict[str, Any] = {}
        best_fps = mode_fps or fps
    else:
        candidates = fast_enough or modes

        def distance(mode: dict[str, Any]) -> tuple[float, float]:
            mw, mh = mode["size"]
            return (abs(mw - width) + abs(mh - height), -float(mode.get("fps") or 0))

        mode = min(candidates, key=distance)
        mw, mh = mode["size"]
        scale = min(width / mw, height / mh, 1.0)
        main = (even(mw * scale), even(mh * scale))
        sensor = {"output_size": tuple(mode["size"]), "bit_depth": mode["bit_depth"]}
        best_fps = float(mode.get("fps") or fps)
        if main != (width, height):
            note = (note + "; " if note else "") + (
                f"{model} has no {width}x{height} mode: sensor mode {mw}x{mh} is used, recording at {main[0]}x{main[1]}"
            )
    lores = (min(even(preview[0]), main[0]), min(even(preview[1]), main[1]))
    return VideoPlan(main, lores, sensor, min(fps, best_fps), note)


def yuv420_to_i420(buf: np.ndarray, width: int, height: int, out: np.ndarray | None = None) -> np.ndarray:
    """A tight I420 copy (h*3//2, w) of a picamera2 YUV420 array (h*3//2, stride) whose rows may be
    padded; the chroma planes have half the stride. Written into `out` when given."""
    stride = buf.shape[1]
    if out is None:
        out = np.empty((height * 3 // 2, width), dtype=np.uint8)
    if stride == width:
        out[:] = buf[: height * 3 // 2]
        return out
    out[:height] = buf[:height, :width]
    chroma = buf[height : height * 3 // 2].reshape(height, stride // 2)
    hw, quarter = height * width, (height // 2) * (width // 2)
    flat = out.reshape(-1)
    flat[hw : hw + quarter].reshape(height // 2, width // 2)[:] = chroma[: height // 2, : width // 2]
    flat[hw + quarter :].reshape(height // 2, width // 2)[:] = chroma[height // 2 :, : width // 2]
    return out


def request_metadata(request: Any) -> dict[str, Any]:
    """A completed request's metadata, converted once: picamera2's `get_metadata` builds a new dict
    from libcamera's control list on every call, and the pre_callback, the encoder's gate and the
    capture thread all need it. Kept on the request (the same object reaches all three)."""
    metadata = getattr(request, "camera_core_metadata", None)
    if metadata is None:
        metadata = request.get_metadata()
        with contextlib.suppress(AttributeError):  # a request class that takes no attributes
            request.camera_core_metadata = metadata
    return metadata


def is_software_h264(picamera2: ModuleType) -> bool:
    """True on a Pi 5: picamera2's H264Encoder is its libx264 (PyAV) encoder there."""
    encoders = picamera2.encoders
    return issubclass(encoders.H264Encoder, encoders.LibavH264Encoder)


def encoder_label(picamera2: ModuleType) -> str:
    if is_software_h264(picamera2):
        return "libx264 (picamera2 LibavH264Encoder via PyAV, software: no hardware H.264 on this Pi)"
    return "V4L2 hardware H.264 (picamera2 H264Encoder)"


class Picamera2Request(CameraRequest):
    """A completed request as request hooks see it, in pre_callback (camera loop thread)."""

    __slots__ = ("_p2", "_request", "_size", "extra", "frame_duration_us", "sensor_ns", "sequence", "wall_clock_ns")

    def __init__(self, p2: ModuleType, request: Any, metadata: dict[str, Any], size: tuple[int, int]) -> None:
        self._p2 = p2
        self._request = request
        self._size = size
        self.sensor_ns = int(metadata["SensorTimestamp"])
        self.frame_duration_us = float(metadata.get("FrameDuration") or 0.0)
        self.wall_clock_ns = wall_clock_ns(metadata)
        self.sequence = None
        self.extra: dict[str, Any] = {}

    @contextlib.contextmanager
    def luma(self) -> Iterator[np.ndarray]:
        width, height = self._size
        with self._p2.MappedArray(self._request, "main") as m:
            yield m.array[:height, :width]


def wall_clock_ns(metadata: dict[str, Any]) -> int | None:
    """FrameWallClock in ns; older RPi libcamera gives µs, told apart by magnitude."""
    value = metadata.get("FrameWallClock")
    if not value:
        return None
    value = int(value)
    return value * 1000 if value < WALL_CLOCK_US_LIMIT else value


class SensorStats:
    """Counts every frame the camera delivers (all pass pre_callback), so drops and the hardware
    rate are exact even when the capture loop takes only the newest frame."""

    def __init__(self) -> None:
        self.frames = 0
        self.drops = DropCounter()
        self.rate = RateMeter()

    def observe(self, sensor_ns: int, frame_duration_us: float) -> None:
        self.frames += 1
        self.drops.observe(sensor_ns, frame_duration_us * 1000.0)
        self.rate.add(sensor_ns)


class Picamera2Source(LifecycleSource, EncoderHost):
    """One CSI camera: a Picamera2 with main (YUV420, recording size) and lores (preview) streams."""

    def __init__(self, camera_id: int, picamera2: ModuleType, camera_info: dict[str, Any], settings: Settings) -> None:
        super().__init__(camera_id)
        self._p2 = picamera2
        self._global_info = camera_info
        self._settings = settings
        self.picam2: Any = None
        self.plan: VideoPlan | None = None
        self._info: CameraInfo | None = None
        self._encoder_label = ""
        self._yuv = VIDEO_BT601
        self._hooks: list[RequestHook] = []
        self._full_wanted = threading.Event()
        self._encoders: list[Any] = []
        self.stats = SensorStats()
        self._lock = threading.Lock()
        self._pending: Any = None  # the outstanding capture_request job
        self._completed: queue.Queue[Any] = queue.Queue()
        self.read_timeouts = 0
        self.sync_role = picamera2_sync.camera_role(settings.sync_role, camera_id)
        self.controls = ControlState(ControlSettings.from_settings(settings))
        self.trigger_period_us = trigger_period_us(settings.trigger_fps)
        self.last_sync: dict[str, Any] = {}  # SyncReady/SyncTimer of the newest frame

    @property
    def model(self) -> str:
        return str(self._global_info.get("Model", "unknown"))

    @property
    def info(self) -> CameraInfo:
        if self._info is None:
            width, height = self._settings.frame_size
            return CameraInfo(self.camera_id, "picamera2", self.model, width, height, self._settings.target_fps, "I420")
        return self._info

    def describe(self) -> str:
        return f"camera {self.camera_id} ({self.model}, {self._global_info.get('Id', '?')})"

    # -- lifecycle -------------------------------------------------------------------------------

    def _open(self) -> None:
        """Open and configure the camera; a camera that cannot be acquired is CAMERA_BUSY."""
        try:
            self.picam2 = self._p2.Picamera2(self.camera_id)
        except RuntimeError as exc:
            cause = exc.__cause__ or exc.__context__
            detail = f"{exc}" + (f" ({cause})" if cause else "")
            raise CameraBusyError(
                f"{self.describe()} could not be opened: {detail}. It is busy (another process such as "
                "rpicam-vid or a stale camera_core holds it) or failing (cable, power)."
            ) from exc
        self._configure()  # on failure, open() closes the camera again

    def _configure(self) -> None:
        s = self._settings
        modes: list[dict[str, Any]] = []
        if not self.model.lower().startswith(NATIVE_MODEL):
            modes = list(self.picam2.sensor_modes)  # re-configures the camera: only before start
        plan = plan_video(self.model, modes, s.frame_size, s.preview_size, s.target_fps)
        if plan.note:
            log.warning("cam%d: %s", self.camera_id, plan.note)
        if self.trigger_period_us is not None:
            check_trigger_mode(self.model, self.describe())
        duration_us = int(1e6 / plan.fps)
        manual = self.controls.wanted.libcamera_controls()
        check_offered(self.picam2.camera_controls, manual, self.describe())
        config = self.picam2.create_video_configuration(
            main={"size": plan.main_size, "format": "YUV420"},
            lores={"size": plan.lores_size, "format": "YUV420"},
            raw=None,
            buffer_count=s.picamera2_buffer_count,
            controls={
                "FrameDurationLimits": (duration_us, duration_us),
                **picamera2_sync.sync_controls(self.picam2, self.sync_role, s.sync_frames, self.describe()),
                **manual,
            },
            display=None,
            encode="main",
            sensor=plan.sensor,
        )
        self.picam2.configure(config)
        fps = self._cap_fps(plan.fps) if self.trigger_period_us is None else round(1e6 / self.trigger_period_us, 3)
        actual = self.picam2.camera_configuration()
        main = tuple(actual["main"]["size"])
        self._yuv = YuvEncoding.from_colour_space(actual.get("colour_space"))  # limited-range Rec709 mostly
        lores = tuple(actual["lores"]["size"])
        self.plan = replace(plan, main_size=main, lores_size=lores, fps=fps)
        self._main_pool = BufferPool((main[1] * 3 // 2, main[0]))
        self._lores_pool = BufferPool((lores[1] * 3 // 2, lores[0]))
        self._encoder_label = encoder_label(self._p2)
        self._info = CameraInfo(
            camera_id=self.camera_id,
            backend="picamera2",
            model=self.model,
            width=int(main[0]),
            height=int(main[1]),
            fps=fps,
            pixel_format="I420",
            location=str(self._global_info.get("Id", "")),
            encoder=self._encoder_label,
        )
        log.info(
            "cam%d: %s configured: main %dx%d YUV420, lores %dx%d, %.2f fps, %d buffers, sensor %s, encoder %s",
            self.camera_id,
            self.model,
            main[0],
            main[1],
            lores[0],
            lores[1],
            fps,
            s.picamera2_buffer_count,
            actual.get("sensor"),
            self._encoder_label,
        )

    def _cap_fps(self, fps: float) -> float:
        """The target fps, or the configured sensor mode's maximum when that is lower."""
        limits = self.picam2.camera_controls.get("FrameDurationLimits")
        if not limits or not limits[0]:
            return fps
        fastest = 1e6 / float(limits[0])
        if fps <= fastest + 0.01:
            return fps
        log.warning("cam%d: %s reaches %.2f fps at most here, not %g", self.camera_id, self.model, fastest, fps)
        duration_us = int(limits[0])
        self.picam2.set_controls({"FrameDurationLimits": (duration_us, duration_us)})
        return round(fastest, 2)

    def _start(self) -> None:
        with self._lock:
            self.picam2.pre_callback = self._pre_callback
            self.picam2.start()

    def _stop(self) -> None:
        with self._lock:
            # A capture job still waiting would keep stop() waiting behind it forever.
            self.picam2.cancel_all_and_flush()
            self._pending = None
            self.picam2.stop()
            self.picam2.pre_callback = None
            self._release_completed()

    def close(self) -> None:
        for encoder in list(self._encoders):
            log.warning("cam%d: closed while its encoder runs: stopping the encoder first", self.camera_id)
            try:
                self.stop_encoder(encoder)
            except Exception:
                log.exception("cam%d: stopping the encoder failed", self.camera_id)
        super().close()

    def _close(self) -> None:
        picam2, self.picam2 = self.picam2, None
        if picam2 is not None:
            picam2.close()
            log.info("cam%d: closed", self.camera_id)

    def restart(self, attempt: int) -> None:
        """Stop and start; close and reopen (from the second attempt) only while no encoder runs,
        since the encoder belongs to this Picamera2. The encoder keeps running: the recording
        begins its next file at a keyframe, and the frames lost meanwhile count as drops."""
        if self._encoders:
            self.stop()
            self.start()
        else:
            super().restart(attempt)

    def _release_completed(self) -> None:
        while True:
            try:
                job = self._completed.get_nowait()
            except queue.Empty:
                return
            with contextlib.suppress(Exception):
                job.get_result(timeout=0).release()

    # -- camera loop thread ----------------------------------------------------------------------

    def _pre_callback(self, request: Any) -> None:
        """Every delivered frame, before it is copied or encoded: stats, then the recorder."""
        metadata = request_metadata(request)
        sensor_ns = int(metadata["SensorTimestamp"])
        duration_us = self.frame_duration_us(metadata)
        self.stats.observe(sensor_ns, duration_us)
        if self.sync_role != "off":
            self.last_sync = picamera2_sync.sync_metadata(metadata)
        lock = self.controls.observe(metadata)
        if lock:
            self.picam2.set_controls(lock)  # takes effect a few frames later
            log.info("cam%d: controls locked at %s", self.camera_id, lock)
        hooks = self._hooks
        if hooks:
            assert self.plan is not None
            view = Picamera2Request(self._p2, request, metadata, self.plan.main_size)
            view.frame_duration_us = duration_us
            view.extra = picamera2_sync.row_metadata(metadata)
            if self.sync_role != "off" and "SyncReady" not in view.extra:
                view.extra["SyncReady"] = False  # sync on, not yet reported ready: not recorded
            for hook in hooks:
                try:
                    hook(view)
                except Exception:  # never into picamera2's camera loop: it would end
                    log.exception("cam%d: a request hook failed", self.camera_id)

    # -- capture thread --------------------------------------------------------------------------

    def _read(self, timeout: float) -> Frame | None:
        """The next frame picamera2 hands out (the newest completed one), copied out of the camera
        buffers, which go back to the camera at once."""
        with self._lock:
            if not self._running:
                return None
            if self._pending is None:
                self._pending = self.picam2.capture_request(signal_function=self._completed.put)
        try:
            job = self._completed.get(timeout=timeout)
        except queue.Empty:
            self.read_timeouts += 1
            return None
        with self._lock:
            self._pending = None
        request = job.get_result(timeout=0)
        try:
            return self._copy_frame(request)
        finally:
            request.release()

    def _copy_frame(self, request: Any) -> Frame:
        assert self.plan is not None
        metadata = request_metadata(request)
        (mw, mh), (lw, lh) = self.plan.main_size, self.plan.lores_size
        image = _NO_IMAGE
        if self._full_wanted.is_set():  # only a snapshot needs the full-size frame
            self._full_wanted.clear()
            with self._p2.MappedArray(request, "main", write=False) as m:
                image = yuv420_to_i420(m.array, mw, mh, self._main_pool.acquire())
        with self._p2.MappedArray(request, "lores", write=False) as m:
            lores = yuv420_to_i420(m.array, lw, lh, self._lores_pool.acquire())
        sensor_ns = int(metadata["SensorTimestamp"])
        return Frame(
            camera_id=self.camera_id,
            image=image,
            pixel_format="I420",
            sensor_timestamp_ns=sensor_ns,
            frame_duration_us=self.frame_duration_us(metadata),
            wall_clock_ns=wall_clock_ns(metadata),
            lores=lores,
            arrival_ns=time.monotonic_ns(),
            extra={
                **{k: metadata[k] for k in ("ExposureTime", "AnalogueGain") if k in metadata},
                **picamera2_sync.sync_metadata(metadata),
            },
            yuv=self._yuv,
        )

    # -- recording and status --------------------------------------------------------------------

    def request_full_frame(self) -> None:
        self._full_wanted.set()

    def encoder_host(self) -> EncoderHost:
        return self

    @property
    def encoder_label(self) -> str:
        return self._encoder_label or encoder_label(self._p2)

    @property
    def software_encoder(self) -> bool:
        return is_software_h264(self._p2)

    def frame_duration_us(self, metadata: dict[str, Any]) -> float:
        """What drops are counted against: the trigger period when triggered, else FrameDuration."""
        if self.trigger_period_us is not None:
            return self.trigger_period_us
        return float(metadata.get("FrameDuration") or 1e6 / self.info.fps)

    def set_controls(self, **changes: Any) -> None:
        controls = self.controls.change(**changes)
        check_offered(self.picam2.camera_controls, controls, self.describe())
        self.picam2.set_controls(controls)  # takes effect a few frames later
        log.info("cam%d: controls set: %s", self.camera_id, controls)

    def encoder_class(self) -> type:
        return self._p2.encoders.H264Encoder  # type: ignore[no-any-return]

    def output_class(self) -> type:
        return self._p2.outputs.Output  # type: ignore[no-any-return]

    def add_request_hook(self, hook: RequestHook) -> None:
        self._hooks = [*self._hooks, hook]  # replaced, never changed in place: pre_callback reads it

    def start_encoder(self, encoder: Any, output: Any) -> None:
        if self.picam2 is None:
            raise RuntimeError(f"cam{self.camera_id} is not open")
        self.picam2.start_encoder(encoder, output, name="main")
        self._encoders.append(encoder)

    def stop_encoder(self, encoder: Any) -> None:
        if encoder in self._encoders:
            self._encoders.remove(encoder)
        if self.picam2 is not None:
            self.picam2.stop_encoder(encoder)

    def status(self) -> dict[str, object]:
        """Sensor-level counts from every delivered frame (the capture loop may skip frames)."""
        return {
            "hardware_drops": self.stats.drops.total,
            "hardware_fps": round(self.stats.rate.fps, 2),
            "sensor_frames": self.stats.frames,
            "read_timeouts": self.read_timeouts,
            "encoder": self._encoder_label,
            "sync_role": self.sync_role,
            **picamera2_sync.status_fields(self.last_sync),
            "controls": self.controls.status(),
            "trigger_fps": self._settings.trigger_fps,
        }


def discover(picamera2: ModuleType, attempts: int, delay_s: float) -> list[dict[str, Any]]:
    """Picamera2.global_camera_info(), retried; NoCamerasError when it stays empty."""
    for attempt in range(1, attempts + 1):
        cameras = list(picamera2.Picamera2.global_camera_info())
        if cameras:
            for i, cam in enumerate(cameras):
                log.info("picamera2 camera %d: %s", i, cam)
            return cameras
        log.warning("picamera2 found no camera (attempt %d of %d)", attempt, attempts)
        if attempt < attempts:
            time.sleep(delay_s)
            manager = getattr(picamera2.Picamera2, "_cm", None)
            if manager is not None and not getattr(manager, "cameras", True) and hasattr(manager, "reset"):
                manager.reset()  # a fresh libcamera CameraManager enumerates the cameras again
    raise NoCamerasError(
        f"picamera2 found no camera after {attempts} attempt(s): check the ribbon cable, "
        "`rpicam-hello --list-cameras`, and camera_auto_detect/dtoverlay in config.txt"
    )


def import_picamera2(settings: Settings) -> ModuleType:
    apply_libcamera_log_level(settings.libcamera_log_level)
    module = importlib.import_module("picamera2")
    importlib.import_module("picamera2.encoders")
    importlib.import_module("picamera2.outputs")
    return module


def create_picamera2_sources(settings: Settings) -> list[CameraSource]:
    """One source per camera found. They are opened (and closed again on any failure) by the system."""
    picamera2 = import_picamera2(settings)
    cameras = discover(picamera2, settings.discovery_retry, settings.discovery_retry_delay)
    return [Picamera2Source(i, picamera2, info, settings) for i, info in enumerate(cameras)]
