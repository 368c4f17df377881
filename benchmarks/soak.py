"""Soak: two paced sim cameras at 30 fps recording for N minutes, in segments; prints drops, frames
not recorded, RSS at the start and the end, and the verification of every file (frames = rows,
frame codes continuous within and across files).

    uv run python benchmarks/soak.py [--minutes 10] [--resolution 0] [--segment-seconds 60] [--keep DIR]

Exit code 0 when nothing was dropped or left unrecorded, every file verified and RSS grew < 5 MB.

RSS is sampled every second. The heap fills to a plateau in the first segment rotations (frame
buffers and a fresh encoder per segment); growth is the median of the last minute minus the median
of the second minute (runs shorter than 3 minutes: last third minus first third), so one sample
taken mid-rotation does not decide it. The single readings at the start and the end are printed too.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import av

from camera_core.config import Settings
from camera_core.frames.framecode import read_code
from camera_core.system import CameraSystem
from camera_core.tools.verify import verify_recording

RSS_LIMIT_MB = 5.0
SETTLE_S = 10.0  # RSS "at the start" is taken once buffers, encoders and caches have filled


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class RssSampler:
    """RSS once a second on a thread of its own: (seconds since start, MB)."""

    def __init__(self) -> None:
        self.samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._started = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            self.samples.append((time.monotonic() - self._started, rss_mb()))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def window(self, start_s: float, end_s: float) -> float:
        values = [mb for t, mb in self.samples if start_s <= t < end_s]
        return statistics.median(values) if values else float("nan")

    def growth(self) -> tuple[float, float, str]:
        """(early median, late median, how the windows were chosen)."""
        total = self.samples[-1][0] if self.samples else 0.0
        if total >= 180:
            return self.window(60, 120), self.window(total - 60, total + 1), "minute 2 vs the last minute"
        third = total / 3
        return self.window(0, third), self.window(2 * third, total + 1), "first third vs last third"

    def slope_mb_per_hour(self, skip_s: float = 60.0) -> float:
        """Least-squares slope of RSS over time after the first skip_s seconds, in MB per hour."""
        points = [(t, mb) for t, mb in self.samples if t >= skip_s]
        if len(points) < 2:
            return float("nan")
        return statistics.linear_regression([t for t, _ in points], [mb for _, mb in points]).slope * 3600


def progress(system: CameraSystem, started: float) -> str:
    cams = system.status()["cameras"]
    parts = [
        f"cam{c['camera_id']} {c['frames_recorded']} rec, {c['hardware_drops']} drops, "
        f"{c['encoder_overflows']} overflows, queue {c['encoder_queue']}"
        for c in cams
    ]
    return (
        f"[{(time.monotonic() - started) / 60:5.1f} min] RSS {rss_mb():6.1f} MB, {pool_buffers(system)}  "
        + "; ".join(parts)
    )


def pool_buffers(system: CameraSystem) -> str:
    """The sim cameras' frame buffer pools: buffers held (the most frames ever in flight at once)."""
    sizes = []
    for cam in system.cameras:
        texture = getattr(cam.source, "_texture", None)
        sizes.append(str(len(texture.pool)) if texture is not None else "?")
    return f"frame buffers {'/'.join(sizes)}"


def verify_all(folder: Path, recordings: list[dict[str, object]]) -> int:
    """Print one line per file; returns the number of problems."""
    problems = 0
    for rec in recordings:
        last_code: int | None = None
        for seg in rec["segments"]:  # type: ignore[attr-defined]
            video, csv_path = folder / seg["video"], folder / seg["timing_csv"]
            report = verify_recording(video, csv_path)
            first = first_code(video)
            boundary = ""
            first_drop = report_first_drop(csv_path)
            if last_code is not None and first is not None:
                step = first - last_code
                boundary = f", boundary code step {step}"
                if step != 1 + first_drop:
                    report.problems.append(f"frame code {last_code} -> {first} across the boundary")
            if first is not None and report.ok:
                # verified: the codes step by 1 + dropped_since_last, so the last code follows
                last_code = first + report.frames - 1 + report.drops_reported - first_drop
            status = "ok" if report.ok else "FAILED " + "; ".join(report.problems[:3])
            print(
                f"  {seg['video']}: {report.frames} frames = {report.rows} rows, {report.drops_reported} drops{boundary}: {status}"
            )
            problems += 0 if report.ok else 1
    return problems


def first_code(video: Path) -> int | None:
    """The frame code of a file's first frame (decodes one frame only)."""
    with av.open(str(video), format="h264" if video.suffix == ".h264" else None) as container:
        for frame in container.decode(video=0):
            return read_code(frame.to_ndarray(format="gray"))
    return None


def report_first_drop(csv_path: Path) -> int:
    with csv_path.open() as f:
        f.readline()
        return int(f.readline().split(",")[3])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--resolution", type=int, default=0, help="resolution preset 0-7 (0 = 1456x1088)")
    parser.add_argument("--segment-seconds", type=float, default=60.0)
    parser.add_argument("--keep", type=Path, default=None, help="keep the session in this folder")
    parser.add_argument("--every", type=float, default=60.0, help="seconds between progress lines")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="soak_") as tmp:
        out = args.keep or Path(tmp)
        settings = Settings(
            camera_backend="sim",
            sim_cameras=2,
            sim_realtime=True,
            target_fps=30.0,
            resolution_preset=args.resolution,
            segment_seconds=args.segment_seconds,
            show_preview=False,
            output_dir=str(out),
            min_free_space_mb=100,
            stop_free_space_mb=50,
        )
        system = CameraSystem(settings)
        with system:
            started = time.monotonic()
            rss_begin_recording = rss_mb()
            system.start_recording()
            sampler = RssSampler()
            done = threading.Event()
            done.wait(min(SETTLE_S, args.minutes * 60))
            rss_start = rss_mb()
            print(
                f"RSS at recording start {rss_begin_recording:.1f} MB, after {SETTLE_S:.0f} s {rss_start:.1f} MB",
                flush=True,
            )
            end = started + args.minutes * 60
            while not done.wait(max(0.0, min(args.every, end - time.monotonic()))) and time.monotonic() < end:
                print(progress(system, started), flush=True)
            status = system.status()
            rss_end = rss_mb()
            sampler.stop()
            results = system.stop_recording()
        assert system.session is not None
        folder = system.session.directory
        elapsed = time.monotonic() - started
        print(
            f"\nsoak: {elapsed / 60:.1f} min, 2 sim cameras at 30 fps, {settings.frame_size[0]}x{settings.frame_size[1]}"
        )
        drops = overflows = 0
        for r, cam in zip(results, status["cameras"], strict=True):
            expected = r.duration_s * r.fps
            drops += r.hardware_drops
            overflows += r.encoder_overflows
            print(
                f"cam{r.camera_id}: {r.frames} frames in {len(r.segments)} files over {r.duration_s:.1f} s "
                f"(expected {expected:.0f}), hardware drops {r.hardware_drops}, not recorded (encoder queue full) "
                f"{r.encoder_overflows}, captured {cam['frames_captured']}"
            )
        early, late, windows = sampler.growth()
        growth = late - early
        print(
            f"RSS single readings: at recording start {rss_begin_recording:.1f} MB, after {SETTLE_S:.0f} s {rss_start:.1f} MB, at the end {rss_end:.1f} MB"
        )
        print(
            f"RSS medians ({windows}): {early:.1f} MB -> {late:.1f} MB, growth {growth:+.1f} MB (limit {RSS_LIMIT_MB} MB)"
        )
        half = sampler.samples[-1][0] / 2 if sampler.samples else 0.0
        print(
            f"RSS trend (least squares): after the first minute {sampler.slope_mb_per_hour():+.2f} MB/h, "
            f"second half {sampler.slope_mb_per_hour(half):+.2f} MB/h (a pool that has reached the most frames "
            "ever in flight at once stays there: growth early, none after, is a plateau)"
        )
        print("verification:")
        problems = verify_all(folder, [r.as_dict() for r in results])
        ok = drops == 0 and overflows == 0 and problems == 0 and growth < RSS_LIMIT_MB
        print(f"soak: {'PASS' if ok else 'FAIL'} (drops {drops}, not recorded {overflows}, files failing {problems})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
