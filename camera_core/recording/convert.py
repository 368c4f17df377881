"""`python -m camera_core convert SESSION_DIR`: turn a session's .h264 files into MP4s later,
each frame's pts from its timing CSV; the .h264 is removed only once the MP4 is verified."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from camera_core.recording.remux import RemuxError, remux_to_mp4
from camera_core.recording.timing_log import timing_csv_of
from camera_core.util.memory import release_free_memory
from camera_core.util.timing_csv import TimingCsvError, read_int_column


def convert_file(h264: Path, keep: bool = False) -> Path:
    csv_path = timing_csv_of(h264)
    if not csv_path.exists():
        raise RemuxError(f"{h264.name}: no timing CSV {csv_path.name}; the frame times are unknown")
    try:
        pts = read_int_column(csv_path, "pts_us")
    except TimingCsvError as exc:
        raise RemuxError(str(exc)) from exc
    release_free_memory()  # the CSV parser's blocks go back before the video is indexed
    mp4 = h264.with_suffix(".mp4")
    remux_to_mp4(h264, pts, mp4)
    if not keep:
        h264.unlink()
    return mp4


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m camera_core convert", description=__doc__)
    parser.add_argument("paths", nargs="+", type=Path, help="session folders or .h264 files")
    parser.add_argument("--keep", action="store_true", help="keep the .h264 files")
    args = parser.parse_args(argv)
    files: list[Path] = []
    for p in args.paths:
        if p.is_dir():
            files.extend(sorted(p.glob("*.h264")))
        elif p.suffix == ".h264" and p.exists():
            files.append(p)
        else:
            print(f"convert: {p}: not a session folder or .h264 file", file=sys.stderr)
            return 2
    failures = 0
    for h264 in files:
        if h264.stat().st_size == 0:
            failures += 1
            print(
                f"convert: {h264.name}: empty (no frames; a crash at a segment switch leaves one): "
                "`python -m camera_core recover SESSION_DIR` removes it",
                file=sys.stderr,
            )
            continue
        try:
            mp4 = convert_file(h264, keep=args.keep)
        except RemuxError as exc:
            failures += 1
            print(f"convert: {exc}", file=sys.stderr)
        except OSError as exc:
            failures += 1
            print(f"convert: {h264.name}: cannot convert ({exc.strerror or exc}); .h264 kept", file=sys.stderr)
        else:
            print(f"{h264.name} -> {mp4.name}")
    if not files:
        print("convert: no .h264 files found", file=sys.stderr)
    return 1 if failures else 0
