"""Fake picamera2 for tests on machines without a Raspberry Pi camera.

Put tests/fakes on sys.path and `import picamera2` gets this package. The test API is picamera2._fake
(configure_fake, reset_fake, stall_camera, read_frame_code). See docs/picamera2_fake.md.
"""

from concurrent.futures import TimeoutError

import libcamera

from . import _fake
from .configuration import CameraConfiguration, StreamConfiguration
from .controls import Controls
from .job import CancelledError
from .picamera2 import Picamera2, Preview
from .platform import Platform, get_platform
from .request import CompletedRequest, MappedArray
from .sensor_format import SensorFormat

__all__ = [
    "CameraConfiguration",
    "CancelledError",
    "CompletedRequest",
    "Controls",
    "MappedArray",
    "Picamera2",
    "Platform",
    "Preview",
    "SensorFormat",
    "StreamConfiguration",
    "TimeoutError",
    "_fake",
    "get_platform",
    "libcamera",
]
