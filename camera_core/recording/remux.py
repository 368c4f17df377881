"""H.264 to MP4 without re-encoding, each frame's pts from its timing row (microsecond time base),
then verified to hold every frame before the caller may delete the .h264.

The stream is indexed (annexb.py) and written (mp4_writer.py) with numpy, without PyAV, and the
check reads the written MP4's sample tables back (mp4_reader.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from fractions import Fraction
from pathlib import Path

import numpy as np

from camera_core.recording.annexb import ByteSource, index_source
from camera_core.recording.mp4_reader import Mp4ReadError, mp4_pts_us
from camera_core.recording.mp4_writer import Mp4WriteError, write_mp4
from camera_core.util.memory import release_free_memory

TIME_BASE = Fraction(1, 1_000_000)


class RemuxError(Exception):
    """The MP4 could not be written or does not hold every frame."""


def remux_to_mp4(h264_path: Path, pts_us: Sequence[int] | np.ndarray, mp4_path: Path) -> int:
    """Mux `h264_path` into `mp4_path` with the given per-frame pts (µs). Returns the frame count.

    Written to a temporary name and renamed only once verified, so a crash never leaves a partial
    .mp4 under the final name."""
    tmp = mp4_path.with_name(mp4_path.name + ".part")
    pts = np.asarray(pts_us, dtype=np.int64)
    try:
        with ByteSource(h264_path) as src:
            written = _write(src, h264_path, pts, tmp)
        release_free_memory()  # the index's and the writer's blocks go back before the check
        verify_mp4(tmp, pts)
        os.replace(tmp, mp4_path)
    except (Mp4WriteError, OSError) as exc:
        tmp.unlink(missing_ok=True)
        raise RemuxError(f"{h264_path.name}: {exc}") from exc
    except RemuxError:
        tmp.unlink(missing_ok=True)
        raise
    return written


def _write(src: ByteSource, h264_path: Path, pts: np.ndarray, tmp: Path) -> int:
    index = index_source(src)
    release_free_memory()
    if index.frames > pts.size:
        raise RemuxError(f"{h264_path.name} has more frames than its {pts.size} timing rows")
    if index.frames != pts.size:
        raise RemuxError(f"{h264_path.name} holds {index.frames} frames but there are {pts.size} timing rows")
    write_mp4(tmp, src, index, pts)
    return index.frames


def iter_mp4_pts_us(path: Path) -> Iterator[int]:
    """Presentation times (µs) of every frame of an MP4's video stream, in file order."""
    yield from mp4_pts_us(path).tolist()


def count_mp4_frames(path: Path) -> int:
    """Frames of an MP4's video track (from its sample tables)."""
    return int(mp4_pts_us(path).size)


def verify_mp4(path: Path, pts_us: Sequence[int] | np.ndarray) -> None:
    """Raise RemuxError unless the MP4 holds exactly these frames at these times (±1 µs)."""
    expected = np.asarray(pts_us, dtype=np.int64)
    try:
        found = mp4_pts_us(path)
    except (Mp4ReadError, OSError) as exc:
        raise RemuxError(f"{path.name}: {exc}") from exc
    if found.size > expected.size:
        raise RemuxError(f"{path.name} holds more than {expected.size} frames, expected {expected.size}")
    if found.size < expected.size:
        raise RemuxError(f"{path.name} holds {found.size} frames, expected {expected.size}")
    off = np.flatnonzero(np.abs(found - expected) > 1)
    if off.size:
        i = int(off[0])
        raise RemuxError(f"{path.name} frame {i} has pts {int(found[i])} µs, expected {int(expected[i])} µs")
