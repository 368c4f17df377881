"""Raspberry Pi smoke test: record every camera through picamera2 for a few seconds and check the result.

For a Pi owner after installing (docs/pi_setup.md). Per camera it reports frames in the video and
rows in the timing CSV (they must be equal), drops from sensor-timestamp gaps, the measured fps,
and which H.264 encoder picamera2 used (V4L2 hardware on a Pi 4, libx264 on a Pi 5). It also takes
a snapshot while recording. Exit code 0 = PASS, 1 = FAIL, 2 = no camera / camera busy.

    python benchmarks/pi_smoke.py                      # on the Pi: 10 s, preset 0, 30 fps
    python benchmarks/pi_smoke.py --seconds 30 --fps 60 --resolution 0
    uv run python benchmarks/pi_smoke.py --fake        # anywhere: against the picamera2 test fake

`--fake` loads tests/fakes (two simulated IMX296 cameras; PICAMERA2_FAKE_PLATFORM=vc4|pisp picks
Pi 4 or Pi 5 behaviour) and also checks the frame codes the fake draws into every frame.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from camera_core.config import Settings  # noqa: E402
from camera_core.errors import CameraCoreError  # noqa: E402
from camera_core.recording.timing_log import read_timing_csv  # noqa: E402
from camera_core.system import CameraSystem  # noqa: E402
from camera_core.tools.verify import verify_recording  # noqa: E402


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=10.0, help="recording length (default 10)")
    p.add_argument("--fps", type=float, default=30.0, help="target fps (default 30)")
    p.add_argument("--resolution", type=int, default=0, help="resolution preset 0-7 (default 0: 1456x1088)")
    p.add_argument("--output-dir", default="", help="where the session folder goes (default: a temporary folder)")
    p.add_argument("--mp4", action="store_true", help="also convert to MP4 (checks the remux too)")
    p.add_argument("--json", default="", help="also write the report as JSON to this file")
    p.add_argument("--fake", action="store_true", help="use the picamera2 fake from tests/fakes (no Pi needed)")
    return p.parse_args(argv)


def camera_report(directory: Path, result: Any, target_fps: float, check_codes: bool) -> dict[str, Any]:
    video = directory / result.video
    rows = read_timing_csv(directory / result.timing_csv) if result.timing_csv else []
    verify = verify_recording(video, directory / result.timing_csv, check_codes=check_codes)
    stamps = [int(r["sensor_timestamp_ns"]) for r in rows]
    span_s = (stamps[-1] - stamps[0]) / 1e9 if len(stamps) > 1 else 0.0
    fps = (len(stamps) - 1) / span_s if span_s > 0 else 0.0
    problems = list(verify.problems) + list(result.errors)
    if fps and fps < 0.9 * target_fps:
        problems.append(f"measured {fps:.2f} fps, below 90% of the target {target_fps:g}")
    return {
        "camera_id": result.camera_id,
        "video": result.video,
        "frames": verify.frames,
        "rows": verify.rows,
        "drops": result.hardware_drops,
        "drop_percent": round(100.0 * result.hardware_drops / max(1, result.hardware_drops + len(rows)), 3),
        "fps": round(fps, 3),
        "resolution": f"{result.width}x{result.height}",
        "encoder": result.encoder,
        "problems": problems,
        "passed": verify.frames == verify.rows > 0 and not problems,
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    if args.fake:
        sys.path.insert(0, str(ROOT / "tests" / "fakes"))
        from picamera2 import _fake  # type: ignore[import-not-found]

        _fake.configure_fake(cameras=[{"Model": "imx296", "size": (1456, 1088), "fps": 60.38}] * 2)
    output_dir = args.output_dir or tempfile.mkdtemp(prefix="pi_smoke_")
    settings = Settings(
        camera_backend="picamera2",
        mode="headless",
        output_dir=output_dir,
        session_prefix="pi_smoke",
        resolution_preset=args.resolution,
        target_fps=args.fps,
        show_preview=False,
        disable_mp4_conversion=not args.mp4,
    )
    started = time.monotonic()
    with CameraSystem(settings) as system:
        system.start_recording()
        time.sleep(args.seconds / 2)
        snapshots = system.take_snapshot()
        time.sleep(args.seconds / 2)
        results = system.stop_recording()
        directory = system.session.directory if system.session else Path(output_dir)
    cameras = [camera_report(directory, r, args.fps, check_codes=args.fake) for r in results]
    return {
        "session": str(directory),
        "fake": args.fake,
        "seconds": round(time.monotonic() - started, 2),
        "snapshots": [p.name for p in snapshots],
        "cameras": cameras,
        "passed": bool(cameras) and len(snapshots) == len(cameras) and all(c["passed"] for c in cameras),
    }


def print_report(report: dict[str, Any]) -> None:
    print(f"session: {report['session']}{'  (picamera2 fake)' if report['fake'] else ''}")
    print(f"{'cam':>3} {'size':>10} {'frames':>7} {'rows':>7} {'drops':>6} {'fps':>8}  encoder")
    for c in report["cameras"]:
        print(
            f"{c['camera_id']:>3} {c['resolution']:>10} {c['frames']:>7} {c['rows']:>7} {c['drops']:>6} "
            f"{c['fps']:>8.2f}  {c['encoder']}"
        )
        for problem in c["problems"]:
            print(f"    problem: {problem}")
    print(f"snapshots while recording: {len(report['snapshots'])}")
    print("PASS" if report["passed"] else "FAIL")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        report = run(args)
    except CameraCoreError as exc:
        print(f"{exc.code}: {exc}", file=sys.stderr)
        return 2
    print_report(report)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    return 0 if report["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
