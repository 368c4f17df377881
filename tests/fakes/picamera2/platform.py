"""Platform detection: VC4 (Pi 4 and earlier) or PISP (Pi 5), fixed at import from PICAMERA2_FAKE_PLATFORM."""

from __future__ import annotations

from enum import Enum

from ._fake import fake_platform


class Platform(Enum):
    VC4 = 0
    PISP = 1


_platform = Platform.PISP if fake_platform() == "pisp" else Platform.VC4


def get_platform() -> Platform:
    return _platform
