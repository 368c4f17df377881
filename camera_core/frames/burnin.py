"""The frame number burned into recorded frames: `#number`, white on a black box at the top right,
drawn from a small bitmap font with numpy alone (no OpenCV on the recording path: importing it
costs about 40 MB of shared pages in every camera process).

The glyphs are 5x7 cells, each cell `cell` pixels square, so the strokes are `cell` pixels wide and
survive H.264 at any bitrate; the box is sized for 8 digits. Nothing is ever drawn over the frame
code (bottom-left cells, see frames/framecode.py)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from camera_core.frames.overlay_style import OverlayStyle

#: 5x7 glyphs of "#0123456789", one string of 7 rows of 5 cells each.
_FONT_ROWS = {
    "#": (".#.#.", ".#.#.", "#####", ".#.#.", "#####", ".#.#.", ".#.#."),
    "0": (".###.", "#...#", "#..##", "#.#.#", "##..#", "#...#", ".###."),
    "1": ("..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###."),
    "2": (".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####"),
    "3": ("#####", "...#.", "..#..", "...#.", "....#", "#...#", ".###."),
    "4": ("...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#."),
    "5": ("#####", "#....", "####.", "....#", "....#", "#...#", ".###."),
    "6": ("..##.", ".#...", "#....", "####.", "#...#", "#...#", ".###."),
    "7": ("#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#..."),
    "8": (".###.", "#...#", "#...#", ".###.", "#...#", "#...#", ".###."),
    "9": (".###.", "#...#", "#...#", ".####", "....#", "...#.", ".##.."),
}
_CHARS = "#0123456789"
_INDEX = {c: i for i, c in enumerate(_CHARS)}
_CELLS_W, _CELLS_H = 5, 7
_ADVANCE = _CELLS_W + 1  # one blank cell between glyphs
_BOX_DIGITS = 8


def glyph_cell(width: int, style: OverlayStyle) -> int:
    """Pixels per glyph cell for a frame `width` wide (the text is about as tall as the preview's)."""
    scale = style.scaled(width)[0]
    return max(1, round(scale * 10 / 3))


@dataclass(frozen=True, slots=True)
class _Layout:
    box: tuple[int, int, int, int]  # x0, y0, x1, y1
    text_x: int
    text_y: int
    glyphs: np.ndarray  # (len(_CHARS), height, advance) of 0 / 255
    glyphs_bgr: np.ndarray  # the same in the style's colour, (len(_CHARS), height, advance, 3)


def frame_number_box(width: int, style: OverlayStyle) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) of the burned-in frame number: top-right corner, sized for 8 digits."""
    return _layout(width, style).box


def burn_frame_number(plane: np.ndarray, number: int, style: OverlayStyle) -> None:
    """Draw `#number` in a black box at the top right of a luma plane or BGR image, in place
    (digits past the box's 8 are cut off)."""
    layout = _layout(plane.shape[1], style)
    x0, y0, x1, y1 = layout.box
    plane[y0:y1, x0:x1] = 0
    table = layout.glyphs if plane.ndim == 2 else layout.glyphs_bgr
    height, advance = table.shape[1:3]
    rows = plane[layout.text_y : layout.text_y + height]
    x = layout.text_x
    for char in f"#{number}":
        room = min(advance, x1 - x)
        if room <= 0:
            break
        rows[:, x : x + room] = table[_INDEX[char], :, :room]
        x += advance


@lru_cache(maxsize=16)
def _layout(width: int, style: OverlayStyle) -> _Layout:
    """The box, text position and scaled glyphs for a frame width (made once per width)."""
    cell = glyph_cell(width, style)
    margin = style.scaled(width)[2]
    pad = max(2, cell)
    text_w = ((1 + _BOX_DIGITS) * _ADVANCE - 1) * cell
    x1 = width - margin
    x0 = max(0, x1 - text_w - 2 * pad)
    box = (x0, margin, x1, margin + _CELLS_H * cell + 2 * pad)
    cells = np.array(
        [[[ch == "#" for ch in row] + [False] for row in _FONT_ROWS[c]] for c in _CHARS], dtype=np.uint8
    )  # (chars, 7, 6)
    glyphs = np.ascontiguousarray(cells.repeat(cell, axis=1).repeat(cell, axis=2) * np.uint8(255))
    colour = np.array(style.color_bgr, dtype=np.uint16)
    glyphs_bgr = (glyphs[..., None].astype(np.uint16) * colour // 255).astype(np.uint8)
    return _Layout(box, x0 + pad, margin + pad, glyphs, glyphs_bgr)
