"""SensorFormat: parse a raw format name such as SRGGB10_CSI2P (as picamera2's sensor_format.py)."""

from __future__ import annotations

import re


class SensorFormat:
    def __init__(self, fmt_string: str) -> None:
        pixels, _, packing = fmt_string.partition("_")
        self.packing: str | None = packing or None
        if self.packing in ("PISP_COMP1", "PISP_COMP2"):
            self.bit_depth = 16
        else:
            match = re.search(r"\d+$", pixels)
            if match is None:
                raise ValueError(f"Not a raw sensor format: {fmt_string}")
            self.bit_depth = int(match.group())
        order = re.search("[RGB]+", pixels)
        if order is None:
            raise ValueError(f"Not a raw sensor format: {fmt_string}")
        self.bayer_order = order.group()

    @property
    def mono(self) -> bool:
        return self.bayer_order == "R"

    @property
    def unpacked(self) -> str:
        return f"{'' if self.mono else 'S'}{self.bayer_order}{self.bit_depth}"

    @property
    def format(self) -> str:
        return self.unpacked + (f"_{self.packing}" if self.packing else "")

    def __repr__(self) -> str:
        return self.format

    def __str__(self) -> str:
        return self.format

    def __eq__(self, other: object) -> bool:
        if isinstance(other, SensorFormat | str):
            return str(self) == str(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(str(self))
