"""What the preview window draws over the camera's processed preview: a short-lived message line.

Drawn on a copy of the preview image, never on a recorded frame, and kept clear of the frame code
(bottom rows); the recording dot sits at the top right (overlay.draw_recording_dot_i420)."""

from __future__ import annotations

import cv2
import numpy as np

from camera_core.frames.framecode import cell_size

FONT = cv2.FONT_HERSHEY_SIMPLEX


def message_band(width: int, height: int) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) of the message line: the whole width, just above the frame-code rows."""
    code_rows = max(cell_size(width), height // 20)  # the code's cells, also when upscaled
    line_h = max(14, round(height * 0.09))
    y1 = max(line_h, height - code_rows - 2)
    return 0, y1 - line_h, width, y1


def draw_message(image: np.ndarray, text: str) -> None:
    """Draw `text` on a dark band at the bottom of `image` (BGR, in place), shrunk to fit."""
    h, w = image.shape[:2]
    x0, y0, x1, y1 = message_band(w, h)
    band = image[y0:y1, x0:x1]
    band >>= 2  # a quarter of the brightness
    pad = max(2, (y1 - y0) // 6)
    avail_w, avail_h = x1 - x0 - 2 * pad, y1 - y0 - 2 * pad
    (tw, th), base = cv2.getTextSize(text, FONT, 1.0, 1)
    scale = max(0.25, min(avail_h / (th + base), avail_w / max(1, tw)))
    while len(text) > 4 and cv2.getTextSize(text, FONT, scale, 1)[0][0] > avail_w:
        text = text[:-4] + "..."
    base = cv2.getTextSize(text, FONT, scale, 1)[1]
    cv2.putText(image, text, (x0 + pad, y1 - pad - base), FONT, scale, (255, 255, 255), 1, cv2.LINE_AA)
