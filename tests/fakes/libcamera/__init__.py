"""Minimal fake of libcamera's Python bindings: what picamera2 users import (Transform, ColorSpace, controls)."""

from __future__ import annotations

from dataclasses import dataclass

from . import controls, properties

__all__ = ["ColorSpace", "ControlType", "Rectangle", "Size", "Transform", "controls", "properties"]


class Transform:
    """libcamera.Transform(hflip=0, vflip=0, transpose=0, rotation=0)."""

    def __init__(self, hflip: int = 0, vflip: int = 0, transpose: int = 0, rotation: int = 0) -> None:
        self.hflip = bool(hflip)
        self.vflip = bool(vflip)
        self.transpose = bool(transpose)
        if rotation % 360 == 180:
            self.hflip, self.vflip = not self.hflip, not self.vflip

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Transform):
            return NotImplemented
        return (self.hflip, self.vflip, self.transpose) == (other.hflip, other.vflip, other.transpose)

    def __hash__(self) -> int:
        return hash((self.hflip, self.vflip, self.transpose))

    def __repr__(self) -> str:
        return f"<libcamera.Transform '{self}'>"

    def __str__(self) -> str:
        names = [n for n, on in (("hflip", self.hflip), ("vflip", self.vflip), ("transpose", self.transpose)) if on]
        return "/".join(names) if names else "identity"


class ColorSpace:
    """libcamera.ColorSpace with the named constructors picamera2 uses."""

    def __init__(self, primaries: str, transfer_function: str, ycbcr_encoding: str, range_: str) -> None:
        self.primaries = primaries
        self.transferFunction = transfer_function
        self.ycbcrEncoding = ycbcr_encoding
        self.range = range_

    def _key(self) -> tuple[str, str, str, str]:
        return (self.primaries, self.transferFunction, self.ycbcrEncoding, self.range)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ColorSpace):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"<libcamera.ColorSpace '{self}'>"

    def __str__(self) -> str:
        for name in ("Raw", "Sycc", "Smpte170m", "Rec709", "Rec2020"):
            if getattr(ColorSpace, name)() == self:
                return name
        return "/".join(self._key())

    @staticmethod
    def Raw() -> ColorSpace:
        return ColorSpace("Raw", "Linear", "None", "Full")

    @staticmethod
    def Sycc() -> ColorSpace:
        return ColorSpace("Rec709", "Srgb", "Rec601", "Full")

    @staticmethod
    def Smpte170m() -> ColorSpace:
        return ColorSpace("Smpte170m", "Rec709", "Rec601", "Limited")

    @staticmethod
    def Rec709() -> ColorSpace:
        return ColorSpace("Rec709", "Rec709", "Rec709", "Limited")

    @staticmethod
    def Rec2020() -> ColorSpace:
        return ColorSpace("Rec2020", "Rec709", "Rec2020", "Limited")


@dataclass(frozen=True)
class Size:
    width: int
    height: int

    def to_tuple(self) -> tuple[int, int]:
        return (self.width, self.height)


@dataclass(frozen=True)
class Rectangle:
    x: int
    y: int
    width: int
    height: int

    def to_tuple(self) -> tuple[int, int, int, int]:
        return (self.x, self.y, self.width, self.height)


class ControlType:
    Rectangle = "Rectangle"
    Size = "Size"
