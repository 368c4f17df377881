"""CPU and memory of camera_core recording through picamera2 against a bare picamera2 script doing
the same: two cameras, the same video configuration (main YUV420 + lores), `H264Encoder` to a
file with a pts file. Runs alternate in one run; each is its own process, measured from /proc
between "recording" and SECONDS later (start-up and shutdown are left out).

Needs the real picamera2 (a Pi, or libcamera's virtual cameras with the kit of
../shared/virtual-cameras):

    PC2_KIT=... run_real.sh uv run --no-sync python benchmarks/bench_picamera2_recording.py [--seconds 10] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TICKS = os.sysconf("SC_CLK_TCK")

BARE = r"""
import sys, time
from fractions import Fraction
from picamera2 import Picamera2
from picamera2.encoders import H264Encoder
from picamera2.outputs import FileOutput
out, w, h, fps, pw, ph = sys.argv[1], *map(int, sys.argv[2:7])
cams = []
for i in range(2):
    cam = Picamera2(i)
    cfg = cam.create_video_configuration(main={"size": (w, h), "format": "YUV420"},
        lores={"size": (pw, ph), "format": "YUV420"}, raw=None, buffer_count=6,
        controls={"FrameDurationLimits": (int(1e6 / fps),) * 2}, display=None, encode="main")
    cam.configure(cfg)
    cam.start()
    enc = H264Encoder(bitrate=None, repeat=True, iperiod=fps, framerate=Fraction(fps))
    cam.start_encoder(enc, FileOutput(f"{out}/cam{i}.h264", pts=f"{out}/cam{i}.pts"), name="main")
    cams.append(cam)
print("recording", flush=True)
try:
    while True:
        time.sleep(1)
except KeyboardInterrupt:
    pass
for cam in cams:
    cam.stop_recording()
    cam.close()
"""


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def measure(cmd: list[str], ready: callable, seconds: float) -> tuple[float, float]:  # type: ignore[valid-type]
    """CPU seconds and RSS (MB) of the process over `seconds` of recording."""
    proc = subprocess.Popen(
        cmd,
        cwd=cmd[1].rsplit("/", 1)[0] if cmd[1].endswith(".py") else ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not ready(proc):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{cmd[1]} did not start recording")
            time.sleep(0.05)
        time.sleep(1.0)  # past the encoders' start
        start = cpu_s(proc.pid)
        time.sleep(seconds)
        cpu, rss = cpu_s(proc.pid) - start, rss_mb(proc.pid)
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
        return cpu, rss
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--resolution", type=int, default=0, help="camera_core resolution preset (0 = 1456x1088)")
    parser.add_argument("--root", type=Path, default=ROOT, help="the camera_core checkout to run (to compare versions)")
    args = parser.parse_args()
    from camera_core.config import Settings

    s = Settings(resolution_preset=args.resolution)
    (w, h), (pw, ph), fps = s.frame_size, s.preview_size, int(s.target_fps)
    bare_cpu, ours_cpu, bare_rss, ours_rss = [], [], [], []
    for r in range(args.rounds):
        with tempfile.TemporaryDirectory() as tmp:
            cmd = [sys.executable, "-c", BARE, tmp, str(w), str(h), str(fps), str(pw), str(ph)]
            lines: list[str] = []

            def bare_ready(proc: subprocess.Popen[str], lines: list[str] = lines) -> bool:
                assert proc.stdout is not None
                lines.append(proc.stdout.readline())
                return "recording" in lines[-1]

            cpu, rss = measure(cmd, bare_ready, args.seconds)
            bare_cpu.append(cpu)
            bare_rss.append(rss)
        with tempfile.TemporaryDirectory() as tmp:
            cmd = [sys.executable, str(args.root / "main_camera.py"), "--mode", "headless", "--backend", "picamera2"]
            cmd += ["--resolution", str(args.resolution), "--output-dir", tmp, "--no-preview"]

            def ours_ready(proc: subprocess.Popen[str], tmp: str = tmp) -> bool:
                logs = list(Path(tmp).glob("session_*/session.log"))
                return bool(logs) and logs[0].read_text().count("recording to") >= 2

            cpu, rss = measure(cmd, ours_ready, args.seconds)
            ours_cpu.append(cpu)
            ours_rss.append(rss)
        print(
            f"round {r + 1}: bare picamera2 {bare_cpu[-1]:.2f} s CPU, {bare_rss[-1]:.0f} MB   "
            f"camera_core {ours_cpu[-1]:.2f} s CPU, {ours_rss[-1]:.0f} MB"
        )
    b, o = statistics.median(bare_cpu), statistics.median(ours_cpu)
    print(f"two cameras {w}x{h} at {fps} fps, {args.seconds:g} s of recording x {args.rounds} rounds (medians)")
    print(
        f"bare picamera2 (H264Encoder + FileOutput with pts): {b:.2f} s CPU, {statistics.median(bare_rss):.0f} MB RSS"
    )
    print(
        f"camera_core (headless, picamera2 backend):          {o:.2f} s CPU, {statistics.median(ours_rss):.0f} MB RSS"
    )
    print(
        f"ratio camera_core / bare: {o / b:.3f} CPU (target <= 1.05), "
        f"{statistics.median(ours_rss) - statistics.median(bare_rss):+.0f} MB RSS (target <= +30)"
    )


if __name__ == "__main__":
    main()
