"""Camera sources. Backends are looked up by name and imported only when used."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable

from camera_core.config.settings import Settings
from camera_core.errors import ConfigError
from camera_core.frames.frame import Frame
from camera_core.sources.base import CameraInfo, CameraSource

log = logging.getLogger(__name__)

#: backend name -> "module:function" taking (settings) and returning the opened sources
BACKEND_FACTORIES: dict[str, str] = {
    "sim": "camera_core.sources.sim:create_sim_sources",
    "picamera2": "camera_core.sources.picamera2_source:create_picamera2_sources",
    "opencv": "camera_core.sources.opencv_source:create_opencv_sources",
}


def picamera2_available() -> bool:
    try:
        importlib.import_module("picamera2")
    except Exception:  # ImportError, or "No module named libcamera" inside it
        return False
    return True


def resolve_backend(settings: Settings, warnings: list[str]) -> str:
    """The backend to use; `auto` is picamera2 where it imports, else sim (with a warning)."""
    if settings.camera_backend != "auto":
        return settings.camera_backend
    from camera_core.sources.picamera2_source import apply_libcamera_log_level

    apply_libcamera_log_level(settings.libcamera_log_level)  # before picamera2 is first imported
    if picamera2_available():
        return "picamera2"
    message = "picamera2 is not available here: using simulated cameras (backend sim)"
    warnings.append(message)
    log.warning(message)
    return "sim"


def create_sources(settings: Settings, warnings: list[str]) -> list[CameraSource]:
    backend = resolve_backend(settings, warnings)
    if settings.sync_role != "off" and backend == "opencv":
        raise ConfigError(
            "settings",
            "sync_role",
            f"'{settings.sync_role}' is not possible with OpenCV cameras (USB cameras and video files cannot be synced)",
            "off with --backend opencv; sync works with picamera2 and sim cameras",
        )
    module_name, _, func_name = BACKEND_FACTORIES[backend].partition(":")
    factory: Callable[[Settings], list[CameraSource]] = getattr(importlib.import_module(module_name), func_name)
    return factory(settings)


__all__ = ["BACKEND_FACTORIES", "CameraInfo", "CameraSource", "Frame", "create_sources", "resolve_backend"]
