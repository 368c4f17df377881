"""Text overlays of the preview: its info lines and recording dot, drawn with OpenCV on BGR images
or straight on I420 planes (the preview renders in YUV). The frame number burned into recorded
frames is drawn without OpenCV (frames/burnin.py; re-exported here).

Nothing is ever drawn over the frame code (bottom-left cells, see frames/framecode.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, lru_cache

import cv2
import numpy as np

from camera_core.frames.burnin import burn_frame_number, frame_number_box
from camera_core.frames.overlay_style import InfoOverlay, OverlayStyle

__all__ = [
    "InfoOverlay",
    "OverlayStyle",
    "burn_frame_number",
    "draw_info_lines",
    "draw_info_lines_i420",
    "draw_recording_dot_i420",
    "frame_number_box",
    "ycbcr",
]

FONT = cv2.FONT_HERSHEY_SIMPLEX
RED_BGR = (0, 0, 255)


@cache
def ycbcr(bgr: tuple[int, int, int], full_range: bool) -> tuple[int, int, int]:
    """(Y, Cb, Cr) of a BGR colour in BT.601, full range (JPEG) or limited (video)."""
    b, g, r = bgr
    y = 0.299 * r + 0.587 * g + 0.114 * b
    cb, cr = 0.564 * (b - y), 0.713 * (r - y)
    if not full_range:
        y, cb, cr = 16 + y * 219 / 255, cb * 224 / 255, cr * 224 / 255
    return _byte(y), _byte(128 + cb), _byte(128 + cr)


def _byte(value: float) -> int:
    return min(255, max(0, round(value)))


@dataclass(frozen=True, slots=True)
class _Line:
    text: str
    origin: tuple[int, int]
    box: tuple[int, int, int, int]  # x0, y0, x1, y1: the dark band behind the text


_DIGITS = str.maketrans("123456789", "000000000")


@lru_cache(maxsize=256)
def _text_size(shape: str, scale: float, thickness: int) -> tuple[tuple[int, int], int]:
    return cv2.getTextSize(shape, FONT, scale, thickness)  # type: ignore[return-value]


def _layout(lines: list[str] | tuple[str, ...], width: int, height: int, style: OverlayStyle) -> list[_Line]:
    scale, thickness, margin, y, line_h = style.scaled(width)
    placed = []
    for text in lines:
        # Measured with every digit as 0 (all digits are as wide in this font): a line whose
        # numbers change every frame is measured once, not every frame.
        (tw, th), base = _text_size(text.translate(_DIGITS), scale, thickness)
        pad = max(1, th // 5)
        box = (max(0, margin - pad), max(0, y - th - pad), min(width, margin + tw + pad), min(height, y + base))
        placed.append(_Line(text, (margin, y), box))
        y += line_h
    return placed


def _band(placed: list[_Line]) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1): one band under all lines."""
    x0 = min(line.box[0] for line in placed)
    x1 = max(line.box[2] for line in placed)
    return x0, placed[0].box[1], x1, placed[-1].box[3]


def draw_info_lines(image: np.ndarray, lines: list[str] | tuple[str, ...], style: OverlayStyle) -> None:
    """The preview overlay on a BGR image or a luma plane: lines of text from the configured
    position on one band darkened to a quarter (a single cheap operation, where an outline would
    draw each line eight more times), so the text reads on any scene."""
    scale, thickness, _, _, _ = style.scaled(image.shape[1])
    color = style.color_bgr if image.ndim == 3 else 255
    placed = _layout(lines, image.shape[1], image.shape[0], style)
    if not placed:
        return
    x0, y0, x1, y1 = _band(placed)
    image[y0:y1, x0:x1] >>= 2
    for line in placed:
        cv2.putText(image, line.text, line.origin, FONT, scale, color, thickness, cv2.LINE_AA)


def draw_info_lines_i420(
    y: np.ndarray, u: np.ndarray, v: np.ndarray, lines: tuple[str, ...], style: OverlayStyle, full_range: bool
) -> None:
    """`draw_info_lines` on I420 planes, the band also made colourless; the text takes the style's
    colour in whichever range the planes use."""
    scale, thickness, _, _, _ = style.scaled(y.shape[1])
    ly, cb, cr = ycbcr(style.color_bgr, full_range)
    coloured = abs(cb - 128) > 2 or abs(cr - 128) > 2
    placed = _layout(lines, y.shape[1], y.shape[0], style)
    if not placed:
        return
    x0, y0, x1, y1 = _band(placed)
    y[y0:y1, x0:x1] >>= 2
    u[y0 // 2 : (y1 + 1) // 2, x0 // 2 : (x1 + 1) // 2] = 128
    v[y0 // 2 : (y1 + 1) // 2, x0 // 2 : (x1 + 1) // 2] = 128
    for line in placed:
        cv2.putText(y, line.text, line.origin, FONT, scale, ly, thickness, cv2.LINE_AA)
        if coloured:
            half = (line.origin[0] // 2, line.origin[1] // 2)
            cv2.putText(u, line.text, half, FONT, scale / 2, cb, max(1, thickness // 2), cv2.LINE_AA)
            cv2.putText(v, line.text, half, FONT, scale / 2, cr, max(1, thickness // 2), cv2.LINE_AA)


def _dot(width: int, height: int, style: OverlayStyle) -> tuple[tuple[int, int], int]:
    r = max(4, width // 60)
    _, _, x1, y1 = frame_number_box(width, style)
    return (x1 - r, min(height - 2 * r, y1 + 2 * r)), r


def draw_recording_dot_i420(y: np.ndarray, u: np.ndarray, v: np.ndarray, style: OverlayStyle, full_range: bool) -> None:
    """A red dot at the top right of the preview while recording, just below where the burned-in
    frame number sits, clear of the frame code along the bottom edge; on I420 planes (the colour
    planes at half size)."""
    (cx, cy), r = _dot(y.shape[1], y.shape[0], style)
    ly, cb, cr = ycbcr(RED_BGR, full_range)
    cv2.circle(y, (cx, cy), r, ly, -1, cv2.LINE_AA)
    cv2.circle(u, (cx // 2, cy // 2), max(1, (r + 1) // 2), cb, -1)
    cv2.circle(v, (cx // 2, cy // 2), max(1, (r + 1) // 2), cr, -1)
