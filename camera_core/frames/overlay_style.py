"""What overlays look like and say (plain data, no drawing): the text style, scaled per frame width,
and a preview's info lines. Drawing lives in frames/burnin.py (the recorded frame number, numpy only) and
overlay.py (the preview's text, OpenCV)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class OverlayStyle:
    font_scale_base: float = 0.6
    thickness_base: int = 1
    color_bgr: tuple[int, int, int] = (255, 255, 255)
    margin_left: int = 10
    line_start_y: int = 30

    def scaled(self, width: int) -> tuple[float, int, int, int, int]:
        """Font scale, thickness, margin, first baseline and line height for a frame `width` wide
        (the base values are for 640 px)."""
        k = width / 640.0
        scale = self.font_scale_base * k
        thickness = max(1, round(self.thickness_base * k))
        line_h = max(8, round(28 * self.font_scale_base / 0.6 * k))
        return scale, thickness, round(self.margin_left * k), round(self.line_start_y * k), line_h


@dataclass(frozen=True, slots=True)
class InfoOverlay:
    """What a camera's preview says: its info lines, and whether it records (red dot, "REC")."""

    lines: tuple[str, ...]
    recording: bool
