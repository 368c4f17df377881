"""Fake libcamera.properties: the enums picamera2 compares camera_properties against."""

from __future__ import annotations

from enum import IntEnum


class LocationEnum(IntEnum):
    CameraFront = 0
    CameraBack = 1
    CameraExternal = 2


class draft:
    class ColorFilterArrangementEnum(IntEnum):
        RGGB = 0
        GRBG = 1
        GBRG = 2
        BGGR = 3
        RGB = 4
        MONO = 5
