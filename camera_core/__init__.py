"""camera_core: multi-camera recording with exact per-frame timing.

import camera_core
with camera_core.CameraSystem(camera_core.Settings(camera_backend="sim")) as system:
    system.start_recording()
    ...

The names below are imported on first use (PEP 562), so `import camera_core` and the tools
(`python -m camera_core report ...`) start without loading numpy, OpenCV or PyAV until needed.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from camera_core.version import __version__

#: public name -> module that defines it
_LAZY: dict[str, str] = {
    "CameraSystem": "camera_core.system",
    "Settings": "camera_core.config.settings",
    "load_settings": "camera_core.config.loader",
}

__all__ = ["CameraSystem", "Settings", "__version__", "load_settings"]

if TYPE_CHECKING:
    from camera_core.config.loader import load_settings
    from camera_core.config.settings import Settings
    from camera_core.system import CameraSystem


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'camera_core' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
