"""CPU cost of recording on the real picamera2: camera_core vs a bare picamera2 script doing the same.

Both record the two virtual cameras (the kit in ../shared/virtual-cameras) at 1456x1088, 30 fps, with
the same configuration: main YUV420 at the recording size, lores YUV420 at the preview size, no raw
stream, camera_core's buffer count, `H264Encoder` (libx264 through PyAV, as on a Pi 5) with camera_core's
bitrate, keyframe interval, preset and threads, and a `FileOutput` with a pts file. The bare script does
nothing else; camera_core adds its capture loop (a copy of every frame it hands out), the burned-in frame
number, the per-frame timing CSV and its writer threads.

Each run is its own process; runs alternate (camera_core, bare, camera_core, ...). The CPU time (user +
system, from /proc) is taken over the same steady window of each run: from the first recorded frame plus
a settling second to `--window` seconds later, with the frames recorded in that window counted from the
files, and the resident memory (VmRSS) at the window's end. Start-up (imports, opening cameras) is
reported separately. `--root CHECKOUT` runs another camera_core checkout (to compare versions).

    PC2_KIT=$HOME/.cache/pc2kit ../shared/virtual-cameras/run_real.sh \\
        uv run --no-sync python benchmarks/bench_picamera2.py [--rounds 3] [--window 8] [--root CHECKOUT]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
SETTLE_S = 1.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a running process and its threads."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def rss_mb(pid: int) -> tuple[float, float]:
    """Resident memory of a running process, MB: (VmRSS, RssAnon). RssAnon leaves out the mapped
    pages of shared libraries (file-backed: reclaimable, and shared with other processes)."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["RssAnon"].split()[0]) / 1024


def lines_in(paths: list[Path]) -> int:
    total = 0
    for path in paths:
        try:
            with path.open("rb") as f:
                total += sum(1 for _ in f)
        except FileNotFoundError:
            pass
    return total


@dataclass(frozen=True, slots=True)
class Run:
    window_cpu_s: float
    window_frames: int
    startup_cpu_s: float
    total_cpu_s: float
    rss_mb: float  # at the end of the window
    anon_mb: float  # RssAnon at the end of the window

    @property
    def cpu_ms_per_frame(self) -> float:
        return 1000 * self.window_cpu_s / max(1, self.window_frames)


def measure(argv: list[str], out: Path, frame_files: str, window_s: float, timeout_s: float) -> Run:
    """Run `argv`; once both cameras' frame files exist (first frames recorded) and a settling second has
    passed, take CPU time and frame counts over `window_s`."""
    start = time.monotonic()
    log = out / "stderr.txt"
    with log.open("wb") as err:
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err, cwd=ROOT)
    try:
        while len(list(out.rglob(frame_files))) < 2:
            if proc.poll() is not None or time.monotonic() - start > timeout_s:
                raise RuntimeError(f"{argv[1]} never recorded: {log.read_text()[-2000:]}")
            time.sleep(0.05)
        startup = cpu_seconds(proc.pid)
        time.sleep(SETTLE_S)
        files = list(out.rglob(frame_files))
        cpu0, frames0 = cpu_seconds(proc.pid), lines_in(files)
        time.sleep(window_s)
        cpu1, frames1, (rss, anon) = cpu_seconds(proc.pid), lines_in(files), rss_mb(proc.pid)
        _, status, usage = os.wait4(proc.pid, 0)  # reaps it, with its whole CPU time
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            raise RuntimeError(f"{argv[1]} exited {proc.returncode}: {log.read_text()[-2000:]}")
        return Run(cpu1 - cpu0, frames1 - frames0, startup, usage.ru_utime + usage.ru_stime, rss, anon)
    finally:
        if proc.returncode is None:
            proc.kill()
            proc.wait()


def bare_main(out: Path, seconds: float) -> None:
    """The bare picamera2 script: two cameras, the same configuration and encoder, FileOutput with pts."""
    from picamera2 import Picamera2
    from picamera2.encoders import H264Encoder
    from picamera2.outputs import FileOutput

    from camera_core.config import Settings

    s = Settings()
    duration_us = int(1e6 / s.target_fps)
    cams = []
    for num in (0, 1):
        cam = Picamera2(num)
        cam.configure(
            cam.create_video_configuration(
                main={"size": s.frame_size, "format": "YUV420"},
                lores={"size": s.preview_size, "format": "YUV420"},
                raw=None,
                buffer_count=s.picamera2_buffer_count,
                controls={"FrameDurationLimits": (duration_us, duration_us)},
                display=None,
                encode="main",
            )
        )
        encoder = H264Encoder(
            bitrate=s.h264_bitrate_kbps * 1000 or None,
            repeat=True,
            iperiod=s.keyframe_interval,
            framerate=Fraction(s.target_fps).limit_denominator(1000),
        )
        encoder.preset, encoder.threads = s.h264_preset, s.h264_threads
        cam.start_recording(encoder, FileOutput(str(out / f"bare{num}.h264"), pts=str(out / f"bare{num}_pts.txt")))
        cams.append(cam)
    time.sleep(seconds)
    for cam in cams:
        cam.stop_recording()
        cam.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--window", type=float, default=8.0, help="seconds of recording measured per run")
    parser.add_argument("--root", type=Path, default=ROOT, help="the camera_core checkout to run (to compare versions)")
    parser.add_argument("--bare", type=Path, help=argparse.SUPPRESS)  # internal: run the bare script into DIR
    parser.add_argument("--seconds", type=float, default=0.0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare is not None:
        bare_main(args.bare, args.seconds)
        return
    if not os.environ.get("PC2_KIT"):
        sys.exit("run this under ../shared/virtual-cameras/run_real.sh with PC2_KIT set (see the docstring)")
    seconds = SETTLE_S + args.window + 4.0  # the recording outlasts the measured window
    ours: list[Run] = []
    bare: list[Run] = []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            out = Path(tmp) / f"core{r}"
            out.mkdir()
            core_argv = [sys.executable, str(args.root / "main_camera.py"), "--backend", "picamera2", "--mode", "headless",
                         "--resolution", "0", "--target-fps", "30", "--no-mp4", "--duration", f"{seconds:g}",
                         "--output-dir", str(out)]  # fmt: skip
            ours.append(measure(core_argv, out, "*_frame_timing.csv", args.window, 60))
            out = Path(tmp) / f"bare{r}"
            out.mkdir()
            bare_argv = [sys.executable, __file__, "--bare", str(out), "--seconds", f"{seconds:g}"]
            bare.append(measure(bare_argv, out, "*_pts.txt", args.window, 60))
            print(
                f"round {r + 1}: camera_core {ours[-1].window_cpu_s:5.2f} s CPU for {ours[-1].window_frames} frames "
                f"({ours[-1].cpu_ms_per_frame:5.2f} ms/frame, RSS {ours[-1].rss_mb:.0f} MB, anon {ours[-1].anon_mb:.0f})   bare picamera2 {bare[-1].window_cpu_s:5.2f} s CPU for "
                f"{bare[-1].window_frames} frames ({bare[-1].cpu_ms_per_frame:5.2f} ms/frame, RSS {bare[-1].rss_mb:.0f} MB, anon {bare[-1].anon_mb:.0f})",
                flush=True,
            )
    o = statistics.median(r.cpu_ms_per_frame for r in ours)
    b = statistics.median(r.cpu_ms_per_frame for r in bare)
    print(
        f"2 virtual cameras, 1456x1088 YUV420 at 30 fps, libx264 via picamera2's H264Encoder; {args.window:g} s window x {args.rounds} rounds (medians)"
    )
    print(
        f"start-up CPU: camera_core {statistics.median(r.startup_cpu_s for r in ours):.2f} s, bare {statistics.median(r.startup_cpu_s for r in bare):.2f} s"
    )
    print(f"bare picamera2 (H264Encoder + FileOutput with pts): {b:.2f} ms CPU per recorded frame")
    print(f"camera_core (recording, capture loop, burn-in, timing CSV): {o:.2f} ms CPU per recorded frame")
    ratios = [a.cpu_ms_per_frame / c.cpu_ms_per_frame for a, c in zip(ours, bare, strict=True)]
    print(
        f"ratio camera_core / bare: {o / b:.3f} (medians), {statistics.median(ratios):.3f} (per-round pairs; target <= 1.05)"
    )
    o_rss, b_rss = statistics.median(r.rss_mb for r in ours), statistics.median(r.rss_mb for r in bare)
    print(
        f"RSS at the end of the window: camera_core {o_rss:.0f} MB, bare {b_rss:.0f} MB, +{o_rss - b_rss:.0f} MB (target <= 30)"
    )
    o_anon, b_anon = statistics.median(r.anon_mb for r in ours), statistics.median(r.anon_mb for r in bare)
    print(f"of which anonymous (RssAnon): camera_core {o_anon:.0f} MB, bare {b_anon:.0f} MB, +{o_anon - b_anon:.0f} MB")
    print(f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
