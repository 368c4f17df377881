"""Fake libcamera.controls: the enums picamera2 applications pass to set_controls (values as libcamera's)."""

from __future__ import annotations

from enum import IntEnum


class AeExposureModeEnum(IntEnum):
    Normal = 0
    Short = 1
    Long = 2
    Custom = 3


class AeMeteringModeEnum(IntEnum):
    CentreWeighted = 0
    Spot = 1
    Matrix = 2
    Custom = 3


class AwbModeEnum(IntEnum):
    Auto = 0
    Incandescent = 1
    Tungsten = 2
    Fluorescent = 3
    Indoor = 4
    Daylight = 5
    Cloudy = 6
    Custom = 7


class AfModeEnum(IntEnum):
    Manual = 0
    Auto = 1
    Continuous = 2


class ExposureTimeModeEnum(IntEnum):
    Auto = 0
    Manual = 1


class AnalogueGainModeEnum(IntEnum):
    Auto = 0
    Manual = 1


class draft:
    class NoiseReductionModeEnum(IntEnum):
        Off = 0
        Fast = 1
        HighQuality = 2
        Minimal = 3
        ZSL = 4


class rpi:
    class SyncModeEnum(IntEnum):
        Off = 0
        Server = 1
        Client = 2
