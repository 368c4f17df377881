"""Text overlays: the frame number burned into recorded frames, and the preview's info lines.

Nothing is ever drawn over the frame code (bottom-left cells, see sources/framecode.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

FONT = cv2.FONT_HERSHEY_SIMPLEX


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


def frame_number_box(width: int, style: OverlayStyle, text: str = "#00000000") -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) of the burned-in frame number: top-right corner, sized for 8 digits."""
    scale, thickness, margin, _, _ = style.scaled(width)
    (tw, th), base = cv2.getTextSize(text, FONT, scale, thickness)
    pad = max(2, th // 4)
    x1 = width - margin
    x0 = max(0, x1 - tw - 2 * pad)
    return x0, margin, x1, margin + th + base + 2 * pad


def burn_frame_number(plane: np.ndarray, number: int, style: OverlayStyle) -> None:
    """Draw `#number` in a black box at the top right of a luma plane or BGR image, in place."""
    x0, y0, x1, y1, origin, scale, thickness = _number_layout(plane.shape[1], style)
    plane[y0:y1, x0:x1] = 0
    color = 255 if plane.ndim == 2 else style.color_bgr
    cv2.putText(plane, f"#{number}", origin, FONT, scale, color, thickness, cv2.LINE_AA)


@lru_cache(maxsize=16)
def _number_layout(width: int, style: OverlayStyle) -> tuple[int, int, int, int, tuple[int, int], float, int]:
    """The box, text origin, scale and thickness of the frame number, per frame width (measured
    once: the text measurements cost more than the drawing at 640x480)."""
    scale, thickness, _, _, _ = style.scaled(width)
    x0, y0, x1, y1 = frame_number_box(width, style)
    (_, th), base = cv2.getTextSize("#0", FONT, scale, thickness)
    pad = max(2, th // 4)
    return x0, y0, x1, y1, (x0 + pad, y1 - base - pad), scale, thickness


def draw_info_lines(image: np.ndarray, lines: list[str], style: OverlayStyle) -> None:
    """The preview overlay: lines of text from the configured position, each with a dark outline."""
    scale, thickness, margin, y, line_h = style.scaled(image.shape[1])
    for text in lines:
        # The outline is the text itself shifted by one pixel each way: a thicker stroke would
        # advance each character further (OpenCV adds the thickness) and drift off the text.
        for dx, dy in _OUTLINE_OFFSETS:
            cv2.putText(image, text, (margin + dx, y + dy), FONT, scale, (0, 0, 0), thickness, cv2.LINE_AA)
        cv2.putText(image, text, (margin, y), FONT, scale, style.color_bgr, thickness, cv2.LINE_AA)
        y += line_h


_OUTLINE_OFFSETS = [(dx, dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1) if dx or dy]


def draw_recording_dot(image: np.ndarray, style: OverlayStyle) -> None:
    """A red dot at the top right of the preview while recording, just below where the burned-in
    frame number sits, clear of the frame code along the bottom edge."""
    h, w = image.shape[:2]
    r = max(4, w // 60)
    _, _, x1, y1 = frame_number_box(w, style)
    cv2.circle(image, (x1 - r, min(h - 2 * r, y1 + 2 * r)), r, (0, 0, 255), -1, cv2.LINE_AA)
