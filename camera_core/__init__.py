"""camera_core: multi-camera recording with exact per-frame timing.

import camera_core
with camera_core.CameraSystem(camera_core.Settings(camera_backend="sim")) as system:
    system.start_recording()
    ...
"""

__version__ = "0.1.0"

from camera_core.config import Settings, load_settings
from camera_core.system import CameraSystem

__all__ = ["CameraSystem", "Settings", "__version__", "load_settings"]
