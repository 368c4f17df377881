"""H.264 to MP4 without re-encoding, each frame's pts from its timing row (microsecond time base),
then verified to hold every frame before the caller may delete the .h264."""

from __future__ import annotations

import os
from collections.abc import Sequence
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


def mp4_pts_us(path: Path) -> list[int]:
    """Presentation times (µs) of every packet of an MP4's video stream, in file order."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        tb = stream.time_base
        if tb is None:
            raise ValueError(f"{path}: its video stream has no time base")
        return [round(p.pts * tb * 1_000_000) for p in container.demux(stream) if p.size and p.pts is not None]


def verify_mp4(path: Path, pts_us: Sequence[int]) -> None:
    """Raise RemuxError unless the MP4 holds exactly these frames at these times (±1 µs)."""
    found = mp4_pts_us(path)
    if len(found) != len(pts_us):
        raise RemuxError(f"{path.name} holds {len(found)} frames, expected {len(pts_us)}")
    bad = next((i for i, (a, b) in enumerate(zip(found, pts_us, strict=True)) if abs(a - b) > 1), None)
    if bad is not None:
        raise RemuxError(f"{path.name} frame {bad} has pts {found[bad]} µs, expected {pts_us[bad]} µs")
