"""H.264 to MP4 without re-encoding, each frame's pts from its timing row (microsecond time base),
then verified to hold every frame before the caller may delete the .h264."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from fractions import Fraction
from pathlib import Path

import av

TIME_BASE = Fraction(1, 1_000_000)


class RemuxError(Exception):
    """The MP4 could not be written or does not hold every frame."""


def remux_to_mp4(h264_path: Path, pts_us: Sequence[int], mp4_path: Path) -> int:
    """Mux `h264_path` into `mp4_path` with the given per-frame pts (µs). Returns the frame count.

    Written to a temporary name and renamed only once verified, so a crash never leaves a partial
    .mp4 under the final name."""
    tmp = mp4_path.with_name(mp4_path.name + ".part")
    written = 0
    try:
        with av.open(str(h264_path), format="h264") as src, av.open(str(tmp), "w", format="mp4") as dst:
            in_stream = src.streams.video[0]
            out_stream = dst.add_stream_from_template(in_stream)
            out_stream.time_base = TIME_BASE
            for packet in src.demux(in_stream):
                if packet.size == 0:
                    continue
                if written >= len(pts_us):
                    raise RemuxError(f"{h264_path.name} has more frames than its {len(pts_us)} timing rows")
                packet.pts = packet.dts = pts_us[written]
                packet.time_base = TIME_BASE
                packet.stream = out_stream
                dst.mux(packet)
                written += 1
        if written != len(pts_us):
            raise RemuxError(f"{h264_path.name} holds {written} frames but there are {len(pts_us)} timing rows")
        verify_mp4(tmp, pts_us)
        os.replace(tmp, mp4_path)
    except (av.FFmpegError, OSError) as exc:
        tmp.unlink(missing_ok=True)
        raise RemuxError(f"{h264_path.name}: {exc}") from exc
    except RemuxError:
        tmp.unlink(missing_ok=True)
        raise
    return written


def iter_mp4_pts_us(path: Path) -> Iterator[int]:
    """Presentation times (µs) of every packet of an MP4's video stream, in file order, one at a
    time (a 10-hour file has a million: no list of them is kept)."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        tb = stream.time_base
        if tb is None:
            raise ValueError(f"{path}: its video stream has no time base")
        # pts * tb in µs, rounded half up, in integers (a Fraction per packet costs microseconds)
        num, den = tb.numerator * 1_000_000, tb.denominator
        for p in container.demux(stream):
            if p.size and p.pts is not None:
                yield (2 * p.pts * num + den) // (2 * den)


def verify_mp4(path: Path, pts_us: Sequence[int]) -> None:
    """Raise RemuxError unless the MP4 holds exactly these frames at these times (±1 µs)."""
    found = 0
    for found, pts in enumerate(iter_mp4_pts_us(path), start=1):
        if found > len(pts_us):
            break
        expected = pts_us[found - 1]
        if abs(pts - expected) > 1:
            raise RemuxError(f"{path.name} frame {found - 1} has pts {pts} µs, expected {expected} µs")
    if found > len(pts_us):
        raise RemuxError(f"{path.name} holds more than {len(pts_us)} frames, expected {len(pts_us)}")
    if found < len(pts_us):
        raise RemuxError(f"{path.name} holds {found} frames, expected {len(pts_us)}")
