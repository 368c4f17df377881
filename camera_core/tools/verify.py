"""Check a recording against its timing CSV: frames = rows, frame codes (sim and the test fake) step
by exactly 1 + dropped_since_last, and MP4 pts equal the rows' pts_us.
The `verify` command checks frame codes only where the session's manifest says a sim recorded it.

Recordings up to FULL_DECODE_FRAMES frames (and any with `full=True`, `--full`) are decoded frame by
frame. Longer ones are counted exactly without decoding (the .h264's start-code index, the MP4's
sample tables: every frame, every pts) and their frame codes are checked on a sample: the keyframes
of up to SAMPLED_KEYFRAMES evenly spread groups of pictures, plus every frame of the last group."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from camera_core.frames.framecode import read_code
from camera_core.recording.timing_log import timing_csv_of
from camera_core.util.timing_csv import Column, TimingCsvError, read_columns


@dataclass(slots=True)
class DecodedFrame:
    index: int
    code: int
    pts_us: int | None


@dataclass(slots=True)
class VerifyReport:
    video: str
    frames: int = 0
    rows: int = 0
    drops_reported: int = 0
    problems: list[str] = field(default_factory=list)
    #: frames whose code was checked; None: every frame was decoded (no sample)
    codes_sampled: int | None = None

    @property
    def ok(self) -> bool:
        return not self.problems and self.frames == self.rows

    def as_dict(self) -> dict[str, object]:
        return {
            "video": self.video,
            "frames": self.frames,
            "rows": self.rows,
            "drops": self.drops_reported,
            "ok": self.ok,
            "problems": list(self.problems),
            "frame_codes_sampled": self.codes_sampled,
        }


def iter_frames(video: Path, *, codes: bool = True) -> Iterator[DecodedFrame]:
    """Every frame of a .h264 or .mp4 as it is decoded, with its frame code and (MP4) pts in µs."""
    import av

    fmt = "h264" if video.suffix == ".h264" else None
    with av.open(str(video), format=fmt) as container:
        stream = container.streams.video[0]
        for i, frame in enumerate(container.decode(stream)):
            code = read_code(frame.to_ndarray(format="gray")) if codes else -1
            pts = None
            if fmt is None and frame.pts is not None and frame.time_base is not None:
                pts = round(frame.pts * frame.time_base * 1_000_000)
            yield DecodedFrame(i, code, pts)


def decode_frames(video: Path, *, codes: bool = True) -> list[DecodedFrame]:
    """Every frame of a .h264 or .mp4, with its frame code and (MP4) pts in µs."""
    return list(iter_frames(video, codes=codes))


#: The timing columns the check reads (only these: a 10-hour CSV stays a few arrays).
VERIFY_COLUMNS = [Column("frame_number"), Column("dropped_since_last"), Column("pts_us")]
MAX_PROBLEMS = 20


#: Recordings up to this many frames are decoded frame by frame unless told otherwise.
FULL_DECODE_FRAMES = 10_000
#: Keyframes decoded (evenly spread) to check a longer recording's frame codes.
SAMPLED_KEYFRAMES = 300


def verify_recording(
    video: Path, csv_path: Path | None = None, *, check_codes: bool = True, full: bool | None = None
) -> VerifyReport:
    """Compare `video` with its timing rows. `check_codes` needs frames that carry a frame code (sim
    source, test fake). `full`: decode every frame (None: only when it holds at most
    FULL_DECODE_FRAMES frames; longer ones are counted exactly and their codes sampled)."""
    csv_path = csv_path or timing_csv_of(video)
    report = VerifyReport(video.name)
    try:
        table = read_columns(csv_path, VERIFY_COLUMNS)
    except TimingCsvError as exc:
        report.problems.append(f"timing CSV unreadable: {exc}")
        return report
    numbers, drops, pts = (table[c.name].data for c in VERIFY_COLUMNS)
    report.rows = table.rows
    if full is not True:
        from camera_core.recording.sampled_frames import FrameSampler

        sampler = FrameSampler.open(video)
        if full is False or sampler.frames > FULL_DECODE_FRAMES:
            _verify_sampled(report, sampler, numbers, drops, pts, check_codes)
            return report
    _verify_every_frame(report, video, numbers, drops, pts, check_codes)
    return report


def _verify_sampled(
    report: VerifyReport, sampler: object, numbers: Any, drops: Any, pts: Any, check_codes: bool
) -> None:
    from camera_core.recording.sampled_frames import FrameSampler

    assert isinstance(sampler, FrameSampler)
    report.frames = sampler.frames
    n = min(report.frames, report.rows)
    numbers, drops, pts = (np.asarray(a)[:n].astype(np.int64) for a in (numbers, drops, pts))
    report.drops_reported = int(drops.sum())
    for i in np.flatnonzero(numbers != np.arange(n))[:MAX_PROBLEMS].tolist():
        report.problems.append(f"row {i} has frame_number {numbers[i]}")
    if sampler.pts_us is not None:
        for i in np.flatnonzero(np.abs(sampler.pts_us[:n] - pts) > 1)[:MAX_PROBLEMS].tolist():
            report.problems.append(f"frame {i}: pts {int(sampler.pts_us[i])} µs but the row says {pts[i]} µs")
    report.codes_sampled = 0
    if check_codes and n:
        # frame i's code is frame 0's plus i plus the drops the rows report after frame 0
        steps = np.cumsum(1 + drops) - (1 + drops[0])
        base: int | None = None
        for i, image in sampler.sample_codes(SAMPLED_KEYFRAMES, limit=n):
            code = read_code(image)
            report.codes_sampled += 1
            if base is None:
                base = code - int(steps[i])
                continue
            if code != base + int(steps[i]) and len(report.problems) <= MAX_PROBLEMS:
                report.problems.append(f"frame {i}: frame code {code}, but the rows' drops say {base + int(steps[i])}")
    if len(report.problems) > MAX_PROBLEMS:
        del report.problems[MAX_PROBLEMS:]
        report.problems.append("... (more problems not listed)")
    if report.frames != report.rows:
        report.problems.insert(0, f"{report.frames} frames in the video but {report.rows} timing rows")


def _verify_every_frame(
    report: VerifyReport, video: Path, numbers: Any, drops: Any, pts: Any, check_codes: bool
) -> None:
    previous_code = 0
    comparing = True
    for i, frame in enumerate(iter_frames(video, codes=check_codes)):
        report.frames = i + 1
        if not comparing or i >= report.rows:
            continue
        if numbers[i] != i:
            report.problems.append(f"row {i} has frame_number {numbers[i]}")
        dropped = drops[i]
        report.drops_reported += dropped
        if check_codes and i > 0 and frame.code - previous_code != 1 + dropped:
            report.problems.append(
                f"frame {i}: frame code went {previous_code} -> {frame.code} but the row says {dropped} dropped"
            )
        previous_code = frame.code
        if frame.pts_us is not None and abs(frame.pts_us - pts[i]) > 1:
            report.problems.append(f"frame {i}: pts {frame.pts_us} µs but the row says {pts[i]} µs")
        if len(report.problems) > MAX_PROBLEMS:
            report.problems.append("... (more problems not listed)")
            comparing = False
    if report.frames != report.rows:
        report.problems.insert(0, f"{report.frames} frames in the video but {report.rows} timing rows")


#: Backends whose frames carry a frame code (the sim draws one into every frame).
CODED_BACKENDS = frozenset({"sim"})


def recording_backend(video: Path) -> str | None:
    """The backend that recorded `video`, from the session's manifest.json beside it: the camera of the
    recording (or segment) with this file name, else the camera its name says (camN_...), else the one
    backend all the session's cameras share."""
    manifest_path = video.parent / "manifest.json"
    try:
        manifest = json.loads(manifest_path.read_text())
    except (OSError, ValueError):
        return None
    backends = {int(c["camera_id"]): str(c["backend"]) for c in manifest.get("cameras", []) if "backend" in c}
    names = {video.name, video.with_suffix(".h264").name, video.with_suffix(".mp4").name}
    for rec in manifest.get("recordings", []):
        files = {rec.get("video")} | {seg.get("video") for seg in rec.get("segments", [])}
        if names & files and int(rec.get("camera_id", -1)) in backends:
            return backends[int(rec["camera_id"])]
    named = re.match(r"cam(\d+)_", video.name)  # a file the manifest does not list yet (killed session)
    if named and int(named[1]) in backends:
        return backends[int(named[1])]
    return next(iter(backends.values())) if len(set(backends.values())) == 1 else None


def code_check_decision(video: Path, forced: bool | None) -> tuple[bool, str]:
    """Whether to check frame codes in `video`, and why (printed with the verdict)."""
    if forced is not None:
        return forced, "frame codes checked (--codes)" if forced else "frame codes not checked (--no-codes)"
    backend = recording_backend(video)
    if backend in CODED_BACKENDS:
        return True, f"frame codes checked ({backend} frames carry them)"
    if backend is None:
        return False, "frame codes not checked: no manifest.json beside it names the backend (--codes checks them)"
    return False, f"frame codes not checked: recorded by {backend}, whose frames carry none"


def main(argv: list[str]) -> int:
    """`python -m camera_core verify PATH...`: check recordings (files or session folders)."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m camera_core verify",
        description="Check recordings against their timing CSVs: frames = rows, frame_number = position, "
        "MP4 pts = pts_us, and (sim/test frames) frame codes step by 1 + drops. Recordings of up to "
        f"{FULL_DECODE_FRAMES:,} frames are decoded frame by frame; longer ones are counted exactly without "
        f"decoding (every frame, every pts) and their frame codes checked on a sample: the keyframes of up to "
        f"{SAMPLED_KEYFRAMES} evenly spread groups of pictures plus the whole last group (--full decodes every frame).",
    )
    parser.add_argument("paths", nargs="+", type=Path, help=".h264/.mp4 files or session folders")
    codes = parser.add_mutually_exclusive_group()
    codes.add_argument(
        "--codes",
        dest="codes",
        action="store_const",
        const=True,
        help="check frame codes whatever recorded it (default: only for sim recordings, from manifest.json)",
    )
    codes.add_argument("--no-codes", dest="codes", action="store_const", const=False, help="never check frame codes")
    parser.add_argument("--json", action="store_true", help="one JSON object per recording")
    parser.add_argument(
        "--full",
        action="store_true",
        default=None,
        help=f"decode every frame (default: only recordings of up to {FULL_DECODE_FRAMES:,} frames)",
    )
    args = parser.parse_args(argv)
    videos: list[Path] = []
    for p in args.paths:
        if p.is_dir():
            videos += sorted(v for v in p.iterdir() if v.suffix in (".h264", ".mp4"))
        elif p.suffix in (".h264", ".mp4") and p.exists():
            videos.append(p)
        else:
            print(f"verify: {p}: not a recording or a session folder", file=sys.stderr)
            return 2
    if not videos:
        print("verify: no recordings found", file=sys.stderr)
        return 2
    failed = 0
    for video in videos:
        if not timing_csv_of(video).exists():
            print(f"verify: {video.name}: no timing CSV beside it", file=sys.stderr)
            failed += 1
            continue
        check_codes, checked = code_check_decision(video, args.codes)
        report = verify_recording(video, check_codes=check_codes, full=args.full)
        if check_codes and report.codes_sampled is not None:
            checked = (
                f"frame codes checked: {report.codes_sampled:,} of {report.frames:,} "
                "(sampled; --full decodes every frame)"
            )
        failed += not report.ok
        if args.json:
            print(json.dumps({**report.as_dict(), "frame_codes_checked": check_codes}))
        else:
            verdict = "ok" if report.ok else "FAILED"
            print(
                f"{video.name}: {verdict}: {report.frames} frames, {report.rows} rows, {report.drops_reported} drops; "
                f"checked frames = rows, frame numbers{', pts' if video.suffix == '.mp4' else ''}; {checked}"
            )
            for problem in report.problems:
                print(f"  {problem}")
    return 1 if failed else 0
