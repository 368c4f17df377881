"""The burned-in frame number (camera_core/frames/burnin.py): drawn without OpenCV, every digit told
apart (the recording tests read it back from decoded video)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from camera_core.frames.burnin import burn_frame_number, frame_number_box
from camera_core.frames.overlay_style import OverlayStyle


def box_of(number: int, size: tuple[int, int], style: OverlayStyle) -> np.ndarray:
    plane = np.full((size[1], size[0]), 128, np.uint8)
    burn_frame_number(plane, number, style)
    x0, y0, x1, y1 = frame_number_box(size[0], style)
    return plane[y0:y1, x0:x1].astype(np.int16)


def one_digit_changed(number: int) -> list[int]:
    text = str(number)
    return [int(text[:i] + d + text[i + 1 :]) for i in range(len(text)) for d in "0123456789" if d != text[i]]


@pytest.mark.parametrize("size", [(320, 240), (640, 480), (1456, 1088), (1920, 1080)])
def test_each_digit_reads_back(size: tuple[int, int]) -> None:
    style = OverlayStyle()
    for number in (0, 7, 1234567, 89012345):
        drawn = box_of(number, size, style)
        # every digit in every place is told apart: changing any one of them changes whole glyph cells
        for other in one_digit_changed(number):
            assert np.count_nonzero(box_of(other, size, style) != drawn) >= 2 * (size[0] // 640 + 1) ** 2


def test_drawn_only_inside_its_box_white_on_black() -> None:
    style = OverlayStyle()
    plane = np.full((480, 640), 128, np.uint8)
    burn_frame_number(plane, 12345678, style)
    x0, y0, x1, y1 = frame_number_box(640, style)
    outside = plane.copy()
    outside[y0:y1, x0:x1] = 128
    assert (outside == 128).all()
    assert set(np.unique(plane[y0:y1, x0:x1])) == {0, 255}


def test_bgr_image_gets_the_style_colour() -> None:
    style = OverlayStyle(color_bgr=(0, 255, 255))
    image = np.zeros((480, 640, 3), np.uint8)
    burn_frame_number(image, 5, style)
    drawn = image[(image != 0).any(axis=2)]
    assert len(drawn) and (drawn == (0, 255, 255)).all()


def test_recording_path_does_not_import_opencv() -> None:
    """No module of the recording path (system, sources, recorder, headless and slave modes) imports
    cv2 while being imported: OpenCV costs about 40 MB per camera process, needed only for windows,
    the preview stream and the OpenCV source."""
    code = (
        "import builtins, sys\n"
        "importers = set()\n"
        "real = builtins.__import__\n"
        "def spy(name, globals=None, *args, **kwargs):\n"
        "    if name == 'cv2' and globals and globals.get('__name__', '').startswith('camera_core'):\n"
        "        importers.add(globals['__name__'])\n"
        "    return real(name, globals, *args, **kwargs)\n"
        "builtins.__import__ = spy\n"
        "import camera_core.system, camera_core.recording.factory, camera_core.sources.picamera2_source\n"
        "import camera_core.modes.headless, camera_core.modes.slave, camera_core.commands.preview\n"
        "print(','.join(sorted(importers)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    importers = set(filter(None, out.stdout.strip().split(",")))
    assert importers == set(), importers
