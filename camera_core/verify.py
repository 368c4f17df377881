"""Check a recording against its timing CSV by decoding it: frames = rows, frame codes (sim and
the test fake) step by exactly 1 + dropped_since_last, and MP4 pts equal the rows' pts_us.
The `verify` command checks frame codes only where the session's manifest says a sim recorded it."""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import av

from camera_core.recording.timing_log import read_timing_csv, timing_csv_of
from camera_core.sources.framecode import read_code


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
        }


def decode_frames(video: Path, *, codes: bool = True) -> list[DecodedFrame]:
    """Every frame of a .h264 or .mp4, with its frame code and (MP4) pts in µs."""
    out: list[DecodedFrame] = []
    fmt = "h264" if video.suffix == ".h264" else None
    with av.open(str(video), format=fmt) as container:
        stream = container.streams.video[0]
        for i, frame in enumerate(container.decode(stream)):
            code = read_code(frame.to_ndarray(format="gray")) if codes else -1
            pts = None
            if fmt is None and frame.pts is not None and frame.time_base is not None:
                pts = round(frame.pts * frame.time_base * 1_000_000)
            out.append(DecodedFrame(i, code, pts))
    return out


def verify_recording(video: Path, csv_path: Path | None = None, *, check_codes: bool = True) -> VerifyReport:
    """Decode `video` and compare it with its timing rows. `check_codes` needs frames that carry a
    frame code (sim source, test fake)."""
    csv_path = csv_path or timing_csv_of(video)
    report = VerifyReport(video.name)
    rows = read_timing_csv(csv_path)
    frames = decode_frames(video, codes=check_codes)
    report.frames, report.rows = len(frames), len(rows)
    if report.frames != report.rows:
        report.problems.append(f"{report.frames} frames in the video but {report.rows} timing rows")
    for i, (frame, row) in enumerate(zip(frames, rows, strict=False)):
        if int(row["frame_number"]) != i:
            report.problems.append(f"row {i} has frame_number {row['frame_number']}")
        dropped = int(row["dropped_since_last"])
        report.drops_reported += dropped
        if check_codes and i > 0 and frame.code - frames[i - 1].code != 1 + dropped:
            report.problems.append(
                f"frame {i}: frame code went {frames[i - 1].code} -> {frame.code} but the row says {dropped} dropped"
            )
        if frame.pts_us is not None and abs(frame.pts_us - int(row["pts_us"])) > 1:
            report.problems.append(f"frame {i}: pts {frame.pts_us} µs but the row says {row['pts_us']} µs")
        if len(report.problems) > 20:
            report.problems.append("... (more problems not listed)")
            break
    return report


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
        description="Decode recordings and check them against their timing CSVs: frames = rows, "
        "frame_number = position, MP4 pts = pts_us, and (sim/test frames) frame codes step by 1 + drops.",
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
        report = verify_recording(video, check_codes=check_codes)
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
