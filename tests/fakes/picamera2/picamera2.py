"""Picamera2, faked: same public API, configs, threads and request flow as picamera2/picamera2.py."""
# ruff: noqa: B006, B008
# (the create_*/capture_* signatures keep picamera2's own mutable and call defaults)

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import Enum
from functools import partial
from typing import Any, TypedDict, TypeVar, cast

import libcamera
import numpy as np

from . import formats
from ._fake import STATE, SensorMode
from ._sensor import MAX_FRAME_DURATION_US, FakeCamera, FakeRequest, StreamConfig
from .configuration import CameraConfiguration
from .controls import Controls
from .encoders import Encoder
from .job import Job
from .outputs import FileOutput
from .platform import Platform, get_platform
from .previews import NullPreview
from .request import CompletedRequest, Helpers
from .sensor_format import SensorFormat

T = TypeVar("T")
_log = logging.getLogger(__name__)


class Preview(Enum):
    """Preview types; in the fake every one of them is the NullPreview event loop."""

    NULL = NullPreview
    DRM = NullPreview
    QT = NullPreview
    QTGL = NullPreview


class GlobalCameraInfo(TypedDict):
    Model: str
    Location: int
    Rotation: int
    Id: str
    Num: int


@dataclass(frozen=True)
class ControlInfo:
    """Like libcamera.ControlInfo."""

    min: Any
    max: Any
    default: Any


_CFA = {"RGGB": 0, "GRBG": 1, "GBRG": 2, "BGGR": 3}


class CameraManager:
    """picamera2's process-wide camera manager (`Picamera2._cm`) as far as applications reach it: `cameras`,
    the open Picamera2 objects by camera number, and `reset()`, which makes a fresh libcamera CameraManager
    that enumerates the cameras again (the fake enumerates them on every call anyway; `resets` counts)."""

    def __init__(self) -> None:
        self.cameras: dict[int, Picamera2] = {}
        self._lock = threading.Lock()
        self.resets = 0

    def add(self, index: int, camera: Picamera2) -> None:
        with self._lock:
            self.cameras[index] = camera

    def cleanup(self, index: int) -> None:
        with self._lock:
            del self.cameras[index]

    def reset(self) -> None:
        with self._lock:
            self.resets += 1


class Picamera2:
    """A fake Raspberry Pi camera: frames come from a sensor thread, are processed on an event loop thread."""

    platform = get_platform()
    _cm = CameraManager()
    _raw_stream_ignore_list = ("bit_depth", "crop_limits", "exposure_limits", "fps", "unpacked")

    @staticmethod
    def global_camera_info() -> list[GlobalCameraInfo]:
        with STATE.lock:
            specs = list(STATE.cameras)
        cameras = [
            cast(
                GlobalCameraInfo,
                {"Model": s.model, "Location": s.location, "Rotation": s.rotation, "Id": STATE.camera_id(i), "Num": i},
            )
            for i, s in enumerate(specs)
        ]
        return sorted(cameras, key=lambda cam: ("/usb" not in cam["Id"], cam["Id"]), reverse=True)

    def __init__(
        self, camera_num: int = 0, verbose_console: int | None = None, tuning: Any = None, allocator: Any = None
    ) -> None:
        tuning_file = None
        if tuning is not None:
            if isinstance(tuning, str):
                os.environ["LIBCAMERA_RPI_TUNING_FILE"] = tuning
            else:
                tuning_file = tempfile.NamedTemporaryFile("w")  # noqa: SIM115 - kept open like the real one
                json.dump(tuning, tuning_file)
                tuning_file.flush()
                os.environ["LIBCAMERA_RPI_TUNING_FILE"] = tuning_file.name
        else:
            os.environ.pop("LIBCAMERA_RPI_TUNING_FILE", None)
        self._preview: NullPreview | None = None
        self.is_open = False
        self._notify = threading.Event()  # stands in for the notifyme pipe
        camera_num = self.global_camera_info()[camera_num]["Num"]  # IndexError for a missing camera
        self.camera_idx = camera_num
        self.request_lock = threading.Lock()
        self._requestslock = threading.Lock()
        self._requests: list[CompletedRequest] = []
        self.verbose_console = verbose_console
        self._reset_flags()
        self.helpers = Helpers(self)
        try:
            self._open_camera()
            self.preview_configuration_ = CameraConfiguration(self.create_preview_configuration(), self)
            self.preview_configuration_.enable_raw()
            self.still_configuration_ = CameraConfiguration(self.create_still_configuration(), self)
            self.still_configuration_.enable_raw()
            self.video_configuration_ = CameraConfiguration(self.create_video_configuration(), self)
            self.video_configuration_.enable_raw()
        except Exception as e:
            _log.error("Camera __init__ sequence did not complete.")
            raise RuntimeError("Camera __init__ sequence did not complete.") from e
        finally:
            if tuning_file is not None:
                tuning_file.close()
        atexit.register(self.close)
        self.allocator = allocator
        STATE.instances.add(self)

    def _reset_flags(self) -> None:
        self.camera: FakeCamera | None = None
        self.camera_ctrl_info: dict[str, tuple[str, ControlInfo]] = {}
        self.camera_config: dict[str, Any] = {}
        self.libcamera_config: dict[str, Any] = {}
        self.streams: list[Any] = []
        self.stream_map: dict[str, Any] = {}
        self.started = False
        self.stop_count = 0
        self.configure_count = 0
        self.frames = 0
        self._job_list: list[Job[Any]] = []
        self.options: dict[str, Any] = {}
        self._encoders: set[Encoder] = set()
        self.pre_callback: Callable[[CompletedRequest], None] | None = None
        self.post_callback: Callable[[CompletedRequest], None] | None = None
        self.completed_requests: list[CompletedRequest] = []
        self.lock = threading.Lock()  # protects _job_list and completed_requests
        self._event_loop_running = False
        self._preview_stopped = threading.Event()
        self.camera_properties_: dict[str, Any] = {}
        self.controls = Controls(self)
        self.sensor_modes_: list[dict[str, Any]] = []
        self._max_queue_len = 0
        self._frame_drops = 0
        self._buffers: dict[str, list[np.ndarray]] = {}
        self.display_stream_name: str | None = None
        self.encode_stream_name: str | None = None

    # -- configuration objects ------------------------------------------------------------------------------
    @property
    def preview_configuration(self) -> CameraConfiguration:
        return self.preview_configuration_

    @preview_configuration.setter
    def preview_configuration(self, value: Any) -> None:
        self.preview_configuration_ = CameraConfiguration(value, self)

    @property
    def still_configuration(self) -> CameraConfiguration:
        return self.still_configuration_

    @still_configuration.setter
    def still_configuration(self, value: Any) -> None:
        self.still_configuration_ = CameraConfiguration(value, self)

    @property
    def video_configuration(self) -> CameraConfiguration:
        return self.video_configuration_

    @video_configuration.setter
    def video_configuration(self, value: Any) -> None:
        self.video_configuration_ = CameraConfiguration(value, self)

    @property
    def camera_properties(self) -> dict[str, Any]:
        return {} if self.camera is None else self.camera_properties_

    @property
    def camera_controls(self) -> dict[str, tuple[Any, Any, Any]]:
        return {k: (v[1].min, v[1].max, v[1].default) for k, v in self.camera_ctrl_info.items()}

    def __enter__(self) -> Picamera2:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()

    # -- opening --------------------------------------------------------------------------------------------
    def _open_camera(self) -> None:
        with STATE.lock:
            if not STATE.cameras:
                raise RuntimeError("Camera(s) not found (Do not forget to disable legacy camera with raspi-config).")
            spec = STATE.cameras[self.camera_idx]
        self.camera = FakeCamera(self.camera_idx, spec)
        self._refresh_controls_and_properties()
        self._raw_modes = [{"format": spec.raw_format(m), "size": m.size} for m in spec.modes]
        native = self._raw_modes[0]
        for mode in self._raw_modes[1:]:
            if mode["size"][0] * mode["size"][1] > native["size"][0] * native["size"][1]:
                native = mode
        self.sensor_resolution = native["size"]
        self.sensor_format = native["format"]
        self.camera.acquire()  # raises when busy or when the fake says this camera fails
        self.camera.on_complete = self._request_completed
        self.is_open = True
        Picamera2._cm.add(self.camera_idx, self)

    def _refresh_controls_and_properties(self) -> None:
        assert self.camera is not None
        spec, mode = self.camera.spec, self.camera.mode
        w, h = spec.size
        crop = (0, 0, w, h)
        min_dur = self.camera.min_frame_duration_us()
        info = {
            "AeEnable": (False, True, True),
            "AeExposureMode": (0, 3, 0),
            "AeMeteringMode": (0, 3, 0),
            "AeConstraintMode": (0, 3, 0),
            "AeFlickerMode": (0, 1, 0),
            "AeFlickerPeriod": (100, 1000000, None),
            "AwbEnable": (False, True, None),
            "AwbMode": (0, 7, 0),
            "AnalogueGain": (1.0, 16.0, None),
            "AnalogueGainMode": (0, 1, 0),
            "ExposureTime": (29, MAX_FRAME_DURATION_US, 20000),
            "ExposureTimeMode": (0, 1, 0),
            "ExposureValue": (-8.0, 8.0, 0.0),
            "ColourGains": (0.0, 32.0, None),
            "ColourTemperature": (100, 100000, None),
            "Brightness": (-1.0, 1.0, 0.0),
            "Contrast": (0.0, 32.0, 1.0),
            "Saturation": (0.0, 32.0, 1.0),
            "Sharpness": (0.0, 16.0, 1.0),
            "NoiseReductionMode": (0, 4, 0),
            "FrameDurationLimits": (min_dur, MAX_FRAME_DURATION_US, 33333),
            "ScalerCrop": ((0, 0, 64, 64), crop, crop),
            "StatsOutputEnable": (False, True, False),
            "SyncMode": (0, 2, 0),
            "SyncFrames": (1, 1000000, 100),
        }
        if not spec.sync:
            del info["SyncMode"], info["SyncFrames"]
        self.camera_ctrl_info = {k: (k, ControlInfo(*v)) for k, v in info.items()}
        bayer = SensorFormat(spec.raw_format(mode))
        self.camera_properties_ = {
            "Model": spec.model,
            "Location": spec.location,
            "Rotation": spec.rotation,
            "PixelArraySize": spec.size,
            "PixelArrayActiveAreas": [crop],
            "ScalerCropMaximum": crop,
            "UnitCellSize": spec.unit_cell_size,
            "ColorFilterArrangement": 5 if bayer.mono else _CFA.get(bayer.bayer_order, 0),
            "SystemDevices": (20749, 20737, 20738, 20739),
            "SensorSensitivity": 1.0,
        }

    def _is_rpi_camera(self) -> bool:
        return "ColorFilterArrangement" in self.camera_properties

    @property
    def sensor_modes(self) -> list[dict[str, Any]]:
        """Each mode as picamera2 reports it; the first read re-configures the camera once per mode."""
        if self.sensor_modes_:
            return self.sensor_modes_
        assert self.camera is not None
        if self.camera.spec.raw_formats:  # no Bayer modes: picamera2 can only quote the format names
            self.sensor_modes_ = [{"format": name} for name in self.camera.spec.raw_formats]
            return self.sensor_modes_
        modes = []
        for raw in self._raw_modes:
            fmt = SensorFormat(raw["format"])
            mode: dict[str, Any] = {
                "format": fmt,
                "unpacked": fmt.unpacked,
                "bit_depth": fmt.bit_depth,
                "size": raw["size"],
            }
            self.configure(self.create_preview_configuration(raw={"format": raw["format"], "size": raw["size"]}))
            mode["fps"] = round(1e6 / self.camera_controls["FrameDurationLimits"][0], 2)
            mode["crop_limits"] = self.camera_controls["ScalerCrop"][1]
            mode["exposure_limits"] = tuple(i for i in self.camera_controls["ExposureTime"] if i != 0)
            modes.append(mode)
        self.sensor_modes_ = modes
        return modes

    # -- preview / event loop -------------------------------------------------------------------------------
    def attach_preview(self, preview: NullPreview) -> None:
        if self._preview:
            raise RuntimeError("Preview is already running")
        self._preview = preview
        self._event_loop_running = True

    def start_preview(self, preview: Any = None, **kwargs: Any) -> None:
        if self._event_loop_running:
            raise RuntimeError("An event loop is already running")
        if preview is True or preview is False or preview is None:
            preview = NullPreview(**kwargs)
        elif isinstance(preview, Preview):
            preview = preview.value(**kwargs)
        self._preview_stopped.clear()
        preview.start(self)

    def detach_preview(self) -> None:
        self._preview = None
        self._event_loop_running = False
        self._preview_stopped.set()

    def stop_preview(self) -> None:
        if self._preview is None:
            raise RuntimeError("No preview specified.")
        try:
            self._preview.stop()
            self._preview_stopped.wait()
        except Exception as e:
            raise RuntimeError("Unable to stop preview.") from e

    def close(self) -> None:
        atexit.unregister(self.close)
        if self._preview:
            self.stop_preview()
        if not self.is_open:
            return
        self.stop()
        assert self.camera is not None
        self.camera.on_complete = None
        self.camera.release()
        Picamera2._cm.cleanup(self.camera_idx)
        self.is_open = False
        self.streams = []
        self.stream_map = {}
        self.camera = None
        self.camera_ctrl_info = {}
        self.camera_config = {}
        self.libcamera_config = {}
        self.preview_configuration_ = CameraConfiguration({}, self)
        self.still_configuration_ = CameraConfiguration({}, self)
        self.video_configuration_ = CameraConfiguration({}, self)
        _log.info("Camera closed successfully.")

    # -- configurations -------------------------------------------------------------------------------------
    @staticmethod
    def _make_initial_stream_config(
        stream_config: dict[str, Any], updates: dict[str, Any] | None, ignore_list: tuple[str, ...] = ()
    ) -> dict[str, Any] | None:
        if updates is None:
            return None
        valid = ("format", "size", "stride", "preserve_ar")
        for key, value in updates.items():
            if isinstance(value, SensorFormat):
                value = str(value)
            if key in valid:
                stream_config[key] = value
            elif key not in ignore_list:
                raise ValueError(f"Bad key {key!r}: valid stream configuration keys are {valid}")
        return stream_config

    @staticmethod
    def _add_display_and_encode(config: dict[str, Any], display: str | None, encode: str | None) -> None:
        if display is not None and config.get(display) is None:
            raise RuntimeError(f"Display stream {display} was not defined")
        if encode is not None and config.get(encode) is None:
            raise RuntimeError(f"Encode stream {encode} was not defined")
        config["display"] = display
        config["encode"] = encode

    def _create_configuration(
        self,
        use_case: str,
        main_default: dict[str, Any],
        main: dict[str, Any],
        lores: dict[str, Any] | None,
        raw: dict[str, Any] | None,
        transform: Any,
        colour_space: Any,
        buffer_count: int,
        controls: dict[str, Any],
        default_controls: dict[str, Any],
        display: str | None,
        encode: str | None,
        queue: bool,
        sensor: dict[str, Any] | None,
    ) -> dict[str, Any]:
        if self.camera is None:
            raise RuntimeError("Camera not opened")
        if not self._is_rpi_camera():
            raw = None
            sensor = None
        main_cfg = self._make_initial_stream_config(main_default, main)
        assert main_cfg is not None
        self.align_stream(main_cfg, optimal=False)
        lores_cfg = self._make_initial_stream_config(
            {"format": "YUV420", "size": main_cfg["size"], "preserve_ar": False}, lores
        )
        if lores_cfg is not None:
            self.align_stream(lores_cfg, optimal=False)
        raw_cfg = self._make_initial_stream_config(
            {"format": self.sensor_format, "size": main_cfg["size"]}, raw, self._raw_stream_ignore_list
        )
        if colour_space is None:
            small = main_cfg["size"][0] < 1280 or main_cfg["size"][1] < 720
            colour_space = libcamera.ColorSpace.Smpte170m() if small else libcamera.ColorSpace.Rec709()
        if "NoiseReductionMode" in self.camera_controls and "FrameDurationLimits" in self.camera_controls:
            controls = default_controls | controls
        config = {
            "use_case": use_case,
            "transform": transform,
            "colour_space": colour_space,
            "buffer_count": buffer_count,
            "queue": queue,
            "main": main_cfg,
            "lores": lores_cfg,
            "raw": raw_cfg,
            "controls": controls,
            "sensor": sensor,
        }
        self._add_display_and_encode(config, display, encode)
        return config

    def create_preview_configuration(
        self,
        main: dict[str, Any] = {},
        lores: dict[str, Any] | None = None,
        raw: dict[str, Any] | None = {},
        transform: Any = libcamera.Transform(),
        colour_space: Any = libcamera.ColorSpace.Sycc(),
        buffer_count: int = 4,
        controls: dict[str, Any] = {},
        display: str | None = "main",
        encode: str | None = "main",
        queue: bool = True,
        sensor: dict[str, Any] | None = {},
        use_case: str = "preview",
    ) -> dict[str, Any]:
        """Make a configuration suitable for camera preview (XBGR8888 640x480, 4 buffers, 12 fps minimum)."""
        nr = libcamera.controls.draft.NoiseReductionModeEnum.Minimal
        return self._create_configuration(
            use_case,
            {"format": "XBGR8888", "size": (640, 480), "preserve_ar": True},
            main,
            lores,
            raw,
            transform,
            colour_space,
            buffer_count,
            controls,
            {"NoiseReductionMode": nr, "FrameDurationLimits": (100, 83333)},
            display,
            encode,
            queue,
            sensor,
        )

    def create_still_configuration(
        self,
        main: dict[str, Any] = {},
        lores: dict[str, Any] | None = None,
        raw: dict[str, Any] | None = {},
        transform: Any = libcamera.Transform(),
        colour_space: Any = libcamera.ColorSpace.Sycc(),
        buffer_count: int = 1,
        controls: dict[str, Any] = {},
        display: str | None = None,
        encode: str | None = None,
        queue: bool = True,
        sensor: dict[str, Any] | None = {},
        use_case: str = "still",
    ) -> dict[str, Any]:
        """Make a configuration suitable for still capture (BGR888 at full sensor size, 1 buffer)."""
        nr = libcamera.controls.draft.NoiseReductionModeEnum.HighQuality
        return self._create_configuration(
            use_case,
            {"format": "BGR888", "size": self.sensor_resolution, "preserve_ar": True},
            main,
            lores,
            raw,
            transform,
            colour_space,
            buffer_count,
            controls,
            {"NoiseReductionMode": nr, "FrameDurationLimits": (100, 1000000 * 1000)},
            display,
            encode,
            queue,
            sensor,
        )

    def create_video_configuration(
        self,
        main: dict[str, Any] = {},
        lores: dict[str, Any] | None = None,
        raw: dict[str, Any] | None = {},
        transform: Any = libcamera.Transform(),
        colour_space: Any = None,
        buffer_count: int = 6,
        controls: dict[str, Any] = {},
        display: str | None = "main",
        encode: str | None = "main",
        queue: bool = True,
        sensor: dict[str, Any] | None = {},
        use_case: str = "video",
    ) -> dict[str, Any]:
        """Make a configuration suitable for video (XBGR8888 1280x720, 6 buffers, 30 fps)."""
        nr = libcamera.controls.draft.NoiseReductionModeEnum.Fast
        return self._create_configuration(
            use_case,
            {"format": "XBGR8888", "size": (1280, 720), "preserve_ar": True},
            main,
            lores,
            raw,
            transform,
            colour_space,
            buffer_count,
            controls,
            {"NoiseReductionMode": nr, "FrameDurationLimits": (33333, 33333)},
            display,
            encode,
            queue,
            sensor,
        )

    def check_stream_config(self, stream_config: Any, name: str) -> None:
        if type(stream_config) is not dict:
            raise RuntimeError(name + " stream should be a dictionary")
        for key in ("format", "size"):
            if key not in stream_config:
                raise RuntimeError(f"{key} not found in {name} stream")
        fmt = stream_config["format"]
        if type(fmt) is not str:
            raise RuntimeError("format in " + name + " stream should be a string")
        if name == "raw":
            if not formats.is_raw(fmt):
                raise RuntimeError("Unrecognised raw format " + fmt)
        elif not formats.is_YUV(fmt) and not formats.is_RGB(fmt) and fmt != "MJPEG":
            raise RuntimeError("Bad format " + fmt + " in stream " + name)
        size = stream_config["size"]
        if type(size) is not tuple or len(size) != 2:
            raise RuntimeError("size in " + name + " stream should be (width, height)")
        if size[0] % 2 or size[1] % 2:
            raise RuntimeError("width and height should be even")

    def check_camera_config(self, camera_config: dict[str, Any]) -> None:
        for name in ("colour_space", "transform", "main", "lores", "raw"):
            if name not in camera_config:
                raise RuntimeError(f"{name!r} key expected in camera configuration")
        if not isinstance(camera_config["colour_space"], libcamera.ColorSpace):
            raise RuntimeError("Colour space has incorrect type")
        if not isinstance(camera_config["transform"], libcamera.Transform):
            raise RuntimeError("Transform has incorrect type")
        if camera_config.get("sensor") is not None:
            bad_keys = set(camera_config["sensor"]).difference({"bit_depth", "output_size"})
            if bad_keys:
                raise RuntimeError(f"Unexpected keys {bad_keys} in sensor configuration")
        self.check_stream_config(camera_config["main"], "main")
        if camera_config["lores"] is not None:
            self.check_stream_config(camera_config["lores"], "lores")
            main_w, main_h = camera_config["main"]["size"]
            lores_w, lores_h = camera_config["lores"]["size"]
            if lores_w > main_w or lores_h > main_h:
                raise RuntimeError("lores stream dimensions may not exceed main stream")
            if Picamera2.platform == Platform.VC4 and not formats.is_YUV(camera_config["lores"]["format"]):
                raise RuntimeError("lores stream must be YUV")
        if camera_config["raw"] is not None:
            self.check_stream_config(camera_config["raw"], "raw")

    @staticmethod
    def align_stream(stream_config: dict[str, Any], optimal: bool = True) -> None:
        if optimal:
            align = 32 if Picamera2.platform == Platform.VC4 else 64
            if stream_config["format"] in ("YUV420", "YVU420"):
                align *= 2
            elif stream_config["format"] in ("XBGR8888", "XRGB8888", "RGB161616", "BGR161616"):
                align //= 2
        else:
            align = 2
        w, h = stream_config["size"]
        stream_config["size"] = (w - w % align, h - h % 2)

    @staticmethod
    def align_configuration(config: dict[str, Any], optimal: bool = True) -> None:
        Picamera2.align_stream(config["main"], optimal=optimal)
        if config.get("lores") is not None:
            Picamera2.align_stream(config["lores"], optimal=optimal)

    def _choose_mode(self, camera_config: dict[str, Any]) -> SensorMode:
        """libcamera's mode scoring, as picamera2 copies it."""
        assert self.camera is not None
        sensor = camera_config.get("sensor") or {}
        raw = camera_config.get("raw")
        if sensor.get("bit_depth") is not None:
            bit_depth = sensor["bit_depth"]
        elif raw is not None and "format" in raw:
            bit_depth = SensorFormat(raw["format"]).bit_depth
        else:
            bit_depth = SensorFormat(self.sensor_format).bit_depth
        if sensor.get("output_size") is not None:
            out = sensor["output_size"]
        elif raw is not None and "size" in raw:
            out = raw["size"]
        else:
            out = camera_config["main"]["size"]

        def score_format(desired: float, actual: float) -> float:
            score = desired - actual
            return -score / 4 if score < 0 else score * 2

        def score(mode: SensorMode) -> float:
            s = score_format(out[0], mode.size[0]) + score_format(out[1], mode.size[1])
            s += 1500 * score_format(out[0] / out[1], mode.size[0] / mode.size[1])
            return s + 500 * abs(bit_depth - mode.bit_depth)

        return min(self.camera.spec.modes, key=score)

    def _stream_align_bytes(self) -> int:
        return 32 if Picamera2.platform == Platform.VC4 else 64

    def configure_(self, camera_config: Any) -> None:
        if self.started:
            raise RuntimeError("Camera must be stopped before configuring")
        assert self.camera is not None
        initial_config = camera_config
        if isinstance(camera_config, str):
            camera_config = {"still": self.still_configuration, "video": self.video_configuration}.get(
                camera_config, self.preview_configuration
            )
        if isinstance(camera_config, dict):
            camera_config = camera_config.copy()
        elif isinstance(camera_config, CameraConfiguration):
            camera_config = camera_config.make_dict()
        else:
            raise TypeError("Invalid type for `camera_config` given")
        if camera_config["raw"] is not None:
            if camera_config["raw"].get("format") is None:
                camera_config["raw"]["format"] = self.sensor_format
            if camera_config["raw"].get("size") is None:
                camera_config["raw"]["size"] = camera_config["main"]["size"]
        if not self._is_rpi_camera():
            camera_config["raw"] = None
        self.libcamera_config = {}
        self.camera_config = {}
        self.check_camera_config(camera_config)

        # "validate": the raw stream becomes the chosen sensor mode; every stream gets stride/framesize.
        mode = self._choose_mode(camera_config)
        spec = self.camera.spec
        if camera_config["raw"] is not None:
            raw = camera_config["raw"]
            raw["size"] = mode.size
            if SensorFormat(raw["format"]).bit_depth != mode.bit_depth:
                raw["format"] = spec.raw_format(mode)
        stream_cfgs: list[StreamConfig] = []
        for name in ("main", "lores", "raw"):
            stream = camera_config[name]
            if stream is None:
                continue
            stride, framesize = formats.stride_and_framesize(
                stream["format"], stream["size"], self._stream_align_bytes(), stream.get("stride")
            )
            stream["stride"], stream["framesize"] = stride, framesize
            stream_cfgs.append(StreamConfig(name, stream["format"], tuple(stream["size"]), stride, framesize))
        camera_config["sensor"] = {"bit_depth": mode.bit_depth, "output_size": mode.size}
        self.camera.configure(mode, stream_cfgs)
        self._refresh_controls_and_properties()

        self.stream_map = {"main": None, "lores": None, "raw": None}
        for stream in self.camera.streams:
            self.stream_map[stream.configuration.name] = stream
        self.streams = list(self.camera.streams)
        self.display_stream_name = camera_config["display"]
        self.encode_stream_name = camera_config["encode"]
        self._max_queue_len = 1 if camera_config["queue"] and camera_config["buffer_count"] > 1 else 0
        self._buffers = {
            s.configuration.name: [
                np.zeros(s.configuration.frame_size, dtype=np.uint8) for _ in range(camera_config["buffer_count"])
            ]
            for s in self.camera.streams
        }
        self.libcamera_config = {"mode": mode, "streams": stream_cfgs}
        self.camera_config = camera_config
        if initial_config == "still":
            self.still_configuration.update(camera_config)
        elif initial_config == "video":
            self.video_configuration.update(camera_config)
        elif isinstance(initial_config, str):
            self.preview_configuration.update(camera_config)
        self.controls = Controls(self, controls=self.camera_config["controls"])
        self.configure_count += 1

    def configure(self, camera_config: Any = None) -> None:
        """Configure the camera (default: the 'preview' configuration). Raises if the camera is started."""
        self.configure_("preview" if camera_config is None else camera_config)

    def camera_configuration(self) -> dict[str, Any]:
        return self.camera_config

    def stream_configuration(self, name: str = "main") -> dict[str, Any]:
        return self.camera_config[name]

    # -- start / stop -------------------------------------------------------------------------------------
    def _make_requests(self) -> list[FakeRequest]:
        assert self.camera is not None
        count = min(len(bufs) for bufs in self._buffers.values())
        by_name = {s.configuration.name: s for s in self.camera.streams}
        return [
            FakeRequest(self.camera_idx, {by_name[n]: bufs[i] for n, bufs in self._buffers.items()})
            for i in range(count)
        ]

    def start_(self) -> tuple[bool, None]:
        if not self.camera_config:
            raise RuntimeError("Camera has not been configured")
        if self.started:
            return (True, None)
        assert self.camera is not None
        controls = self.controls.get_libcamera_controls()
        for name in ("ExposureTime", "AnalogueGain"):
            if controls.get(name) is not None:
                controls[name + "Mode"] = 0 if controls[name] == 0 else 1
        self.controls = Controls(self)
        for request in self._make_requests():
            self.camera.queue_request(request)
        self.camera.start(controls)
        self.started = True
        return (True, None)

    def start(self, config: Any = None, show_preview: Any = False) -> None:
        """Start the camera (configuring it first if needed) and the event loop thread."""
        if not self.camera_config and config is None:
            config = "preview"
        if config is not None:
            self.configure(config)
        if not self.camera_config:
            raise RuntimeError("Camera has not been configured")
        if show_preview is not None and not self._event_loop_running:
            self.start_preview(show_preview)
        self.start_()

    def cancel_all_and_flush(self) -> None:
        with self.lock:
            for job in self._job_list:
                job.cancel()
            self._job_list = []

    def stop_(self, request: Any = None) -> tuple[bool, None]:
        if self.started:
            assert self.camera is not None
            self.stop_count += 1
            self.camera.stop()
            self.started = False
            with self._requestslock:
                unseen, self._requests = self._requests, []
            for r in unseen:
                r.release()
            while self.completed_requests:
                self.completed_requests.pop(0).release()
        return (True, None)

    def stop(self) -> None:
        """Stop the camera. Running encoders are not stopped (see stop_recording)."""
        if not self.started:
            return
        if self._preview is not None and self._event_loop_running:
            self.dispatch_functions([self.stop_], wait=True, immediate=True)
        else:
            self.stop_()

    def set_controls(self, controls: dict[str, Any] | Controls) -> None:
        """Queue controls; they go out with the next request recycled to the camera."""
        self.controls.set_controls(controls)

    # -- the request flow (runs on the event loop thread) ------------------------------------------------
    def _request_completed(self, request: FakeRequest) -> None:
        """Called by the sensor thread, like CameraManager.handle_request."""
        completed = CompletedRequest(request, self)
        with self._requestslock:
            self._requests.append(completed)
        self._notify.set()

    def process_requests(self, display: Any) -> None:
        with self._requestslock:
            new_requests, self._requests = self._requests, []
        requests = []
        for req in new_requests:
            assert req.request is not None
            if req.request.frame_status == "Success":
                requests.append(req)
            else:
                req.release()
        self.frames += len(requests)
        with self.lock:
            for req in requests:
                req.acquire()
            self.completed_requests += requests
            display_request = None
            if requests:
                display_request = requests[-1]
                display_request.acquire()
                display_request.display = True
            if self.pre_callback:
                for req in requests:
                    self.pre_callback(req)
            finished_jobs = []
            while self._job_list:
                if self._job_list[0].execute():
                    finished_jobs.append(self._job_list.pop(0))
                else:
                    break
            for req in requests:
                if self.post_callback:
                    self.post_callback(req)
                for encoder in self._encoders:
                    if encoder.name in self.stream_map:
                        encoder.encode(encoder.name, req)
                req.release()
            while len(self.completed_requests) > self._max_queue_len:
                self.completed_requests.pop(0).release()
        if display_request is not None:
            if (
                display_request.configure_count == self.configure_count
                and display_request.config.get("display") is not None
                and display_request.display
            ):
                display.render_request(display_request)
            display_request.release()
        for job in finished_jobs:
            job.signal()

    def _run_process_requests(self) -> None:
        self._notify.set()

    def wait(self, job: Job[T], timeout: float | None = None) -> T:
        return job.get_result(timeout=timeout)

    def dispatch_functions(
        self,
        functions: list[Callable[[], tuple[bool, Any]]],
        wait: Any,
        signal_function: Callable[[Job[Any]], None] | None = None,
        immediate: bool = False,
    ) -> Any:
        """Queue a job for the event loop. wait: None/True block, False returns the Job, a number is a timeout."""
        if wait is None:
            wait = signal_function is None
        timeout = None if wait is True else wait
        with self.lock:
            only_job = not self._job_list
            job: Job[Any] = Job(functions, signal_function)
            self._job_list.append(job)
            if only_job and (self.completed_requests or immediate):
                self._run_process_requests()
        return job.get_result(timeout=timeout) if wait else job

    def set_frame_drops_(self, num_frames: int) -> tuple[bool, None]:
        self._frame_drops = num_frames
        return (True, None)

    def drop_frames_(self) -> tuple[bool, None]:
        while self.completed_requests:
            if self._frame_drops == 0:
                return (True, None)
            self.completed_requests.pop(0).release()
            self._frame_drops -= 1
        return (False, None)

    def drop_frames(self, num_frames: int, wait: Any = None, signal_function: Any = None) -> Any:
        functions = [partial(self.set_frame_drops_, num_frames), self.drop_frames_]
        return self.dispatch_functions(functions, wait, signal_function, immediate=True)

    def wait_for_timestamp_(self, timestamp_ns: int | None) -> tuple[bool, None]:
        if not timestamp_ns:
            return (True, None)
        while self.completed_requests:
            md = self.completed_requests[0].get_metadata()
            if md["SensorTimestamp"] - 1000 * md["ExposureTime"] >= timestamp_ns:
                return (True, None)
            self.completed_requests.pop(0).release()
        return (False, None)

    # -- captures -----------------------------------------------------------------------------------------
    def _with_next_request(self, fn: Callable[[CompletedRequest], Any]) -> tuple[bool, Any]:
        if not self.completed_requests:
            return (False, None)
        request = self.completed_requests.pop(0)
        try:
            return (True, fn(request))
        finally:
            request.release()

    def capture_request_(self) -> tuple[bool, CompletedRequest | None]:
        if not self.completed_requests:
            return (False, None)
        return (True, self.completed_requests.pop(0))

    def capture_request(self, wait: Any = None, signal_function: Any = None, flush: Any = None) -> Any:
        """The next completed request; the caller holds it and must release() it."""
        if flush is True:
            flush = time.monotonic_ns()
        functions = [partial(self.wait_for_timestamp_, flush), self.capture_request_]
        return self.dispatch_functions(functions, wait, signal_function)

    @contextlib.contextmanager
    def captured_request(self, wait: Any = None, flush: Any = None) -> Iterator[CompletedRequest]:
        request = self.capture_request(wait=wait, flush=flush)
        try:
            yield request
        finally:
            request.release()

    def capture_metadata(self, wait: Any = None, signal_function: Any = None) -> Any:
        return self.dispatch_functions(
            [partial(self._with_next_request, lambda r: r.get_metadata())], wait, signal_function
        )

    def capture_buffer(self, name: str = "main", wait: Any = None, signal_function: Any = None) -> Any:
        return self.dispatch_functions(
            [partial(self._with_next_request, lambda r: r.make_buffer(name))], wait, signal_function
        )

    def capture_buffers(
        self,
        names: list[str] = ["main"],
        wait: Any = None,
        signal_function: Any = None,
    ) -> Any:
        def fn(r: CompletedRequest) -> Any:
            return ([r.make_buffer(n) for n in names], r.get_metadata())

        return self.dispatch_functions([partial(self._with_next_request, fn)], wait, signal_function)

    def capture_array(self, name: str = "main", wait: Any = None, signal_function: Any = None) -> Any:
        return self.dispatch_functions(
            [partial(self._with_next_request, lambda r: r.make_array(name))], wait, signal_function
        )

    def capture_arrays(
        self,
        names: list[str] = ["main"],
        wait: Any = None,
        signal_function: Any = None,
    ) -> Any:
        def fn(r: CompletedRequest) -> Any:
            return ([r.make_array(n) for n in names], r.get_metadata())

        return self.dispatch_functions([partial(self._with_next_request, fn)], wait, signal_function)

    def capture_file(
        self,
        file_output: Any,
        name: str = "main",
        format: str | None = None,
        wait: Any = None,
        signal_function: Any = None,
        exif_data: dict[str, Any] | None = None,
    ) -> Any:
        """Save the next frame as JPEG (the fake's only file format); returns its metadata."""

        def fn(r: CompletedRequest) -> Any:
            r.save(name, file_output, format=format, exif_data=exif_data)
            return r.get_metadata()

        return self.dispatch_functions([partial(self._with_next_request, fn)], wait, signal_function)

    # -- encoders -----------------------------------------------------------------------------------------
    def start_encoder(
        self,
        encoder: Encoder | None = None,
        output: Any = None,
        pts: Any = None,
        quality: Any = None,
        name: str | None = None,
    ) -> None:
        _encoder = encoder
        if _encoder is None:
            if len(self._encoders) > 1:
                raise RuntimeError("Multiple possible encoders, need to pass encoder")
            if len(self._encoders) == 1:
                _encoder = next(iter(self._encoders))
        if _encoder is None:
            raise RuntimeError("No encoder specified")
        if output is not None:
            if isinstance(output, str):
                output = FileOutput(output, pts=pts)
            _encoder.output = output
        streams = self.camera_configuration()
        if not streams:
            raise RuntimeError("Camera has not been configured")
        if name is None:
            name = self.encode_stream_name
        if name is None or streams.get(name) is None:
            raise RuntimeError(f"Encode stream {name} was not defined")
        _encoder.name = name
        _encoder.width, _encoder.height = streams[name]["size"]
        _encoder.format = streams[name]["format"]
        _encoder.stride = streams[name]["stride"]
        min_frame_duration = max(self.camera_ctrl_info["FrameDurationLimits"][1].min, 33333)
        with contextlib.suppress(AttributeError):
            if _encoder.framerate is None:
                _encoder.framerate = 1000000 / min_frame_duration
        _encoder.start(quality=quality)
        with self.lock:
            self._encoders.add(_encoder)

    def stop_encoder(self, encoders: Encoder | list[Encoder] | set[Encoder] | None = None) -> None:
        if encoders is None:
            remove = list(self._encoders)
        elif isinstance(encoders, Encoder):
            remove = [encoders]
        else:
            remove = list(encoders)
        for encoder in remove:
            encoder.stop()
        with self.lock:
            for encoder in remove:
                self._encoders.remove(encoder)

    @property
    def encoders(self) -> set[Encoder]:
        return self._encoders

    @encoders.setter
    def encoders(self, value: Encoder | set[Encoder]) -> None:
        if isinstance(value, Encoder):
            self._encoders.add(value)
        elif isinstance(value, set):
            self._encoders.update(value)
        else:
            raise RuntimeError("Must pass Encoder or set of")

    def start_recording(
        self,
        encoder: Encoder,
        output: Any,
        pts: Any = None,
        config: Any = None,
        quality: Any = None,
        name: str | None = None,
    ) -> None:
        if not self.camera_config and config is None:
            config = "video"
        if config is not None:
            self.configure(config)
        self.start_encoder(encoder, output, pts=pts, quality=quality, name=name)
        self.start()

    def stop_recording(self) -> None:
        self.stop()
        self.stop_encoder()

    def set_overlay(self, overlay: Any) -> None:
        if self._preview:
            self._preview.set_overlay(overlay)
