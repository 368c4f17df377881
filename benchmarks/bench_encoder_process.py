"""CPU per recorded frame with libx264 in the recorder (`encoder_process = false`) against libx264 in
a worker process (`encoder_process = true`: the frame copied into shared memory, the packet sent
back over a pipe), alternating in one run, beside a bare PyAV loop on the same frames.

One unpaced sim camera (frames as fast as the pipeline takes them), recording on. CPU is every
thread of this process plus, for the worker, every thread of the worker process (from /proc), over
the same `--frames` frames after `--warmup` frames, so starting and finalizing are outside the span.
The worker is measured at nice 0 here (`--nice`), so it is not slowed by anything else running.

    uv run python benchmarks/bench_encoder_process.py [--frames 600] [--rounds 3] [--preset 0]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from camera_core.config import Settings
from camera_core.recording.encoder_process import ProcessStage
from camera_core.recording.factory import h264_params
from camera_core.recording.libx264 import H264Encoder
from camera_core.sources.sim import SimTexture, create_sim_sources
from camera_core.system import CameraSystem

TICK_S = 1 / os.sysconf("SC_CLK_TCK")


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of every thread of `pid`."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * TICK_S


def bare_pyav(settings: Settings, frames: int, warmup: int, out: Path) -> float:
    """ms CPU per frame: render the sim frames, encode with the same settings, write the file."""
    width, height = settings.frame_size
    texture = SimTexture(width, height, settings.sim_seed)
    encoder = H264Encoder(h264_params(create_sim_sources(settings)[0], settings))
    with out.open("wb") as f:
        for i in range(warmup + frames):
            if i == warmup:
                cpu = time.process_time()
            for packet in encoder.encode(texture.render(i), "I420"):
                f.write(packet)
        cpu_s = time.process_time() - cpu
        for packet in encoder.flush():
            f.write(packet)
    return cpu_s * 1e3 / frames


def recorded(settings: Settings, frames: int, warmup: int) -> tuple[float, float, int]:
    """(ms CPU per frame in this process, in the worker process, overflows) over the span."""
    with CameraSystem(settings) as system:
        cam = system.cameras[0]
        system.start_recording()

        def wait_for(count: int) -> int:
            version = 0
            while (done := int(cam.recorder.stats()["frames_recorded"])) < count:
                version, _ = cam.latest.wait_newer(version, 5.0)
            return done

        stage = getattr(cam.recorder, "stage", None)
        pid = stage.pid if isinstance(stage, ProcessStage) else None
        first = wait_for(warmup)
        cpu, worker = time.process_time(), process_cpu_s(pid) if pid else 0.0
        last = wait_for(first + frames)
        cpu_s, worker_s = time.process_time() - cpu, (process_cpu_s(pid) - worker) if pid else 0.0
        result = system.stop_recording()[0]
    n = last - first
    return cpu_s * 1e3 / n, worker_s * 1e3 / n, result.encoder_overflows


def copy_ms(settings: Settings, repeat: int = 200) -> float:
    """Wall ms of one frame copied into a shared ring slot (what the recorder adds per frame)."""
    width, height = settings.frame_size
    image = SimTexture(width, height, 0).render(0)
    ring = np.empty((8, *image.shape), np.uint8)
    start = time.perf_counter()
    for i in range(repeat):
        np.copyto(ring[i % 8], image)
    return (time.perf_counter() - start) * 1e3 / repeat


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=60)
    parser.add_argument("--preset", type=int, default=0, help="resolution preset (0: 1456x1088, 5: 640x480)")
    parser.add_argument("--nice", type=int, default=0, help="encoder_process_nice for the worker")
    args = parser.parse_args()
    load = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        base = {
            "camera_backend": "sim",
            "sim_cameras": 1,
            "sim_realtime": False,
            "resolution_preset": args.preset,
            "show_preview": False,
            "output_dir": tmp,
            "log_level": "warning",
        }
        inproc = Settings(**base)  # type: ignore[arg-type]
        worker = Settings(**base, encoder_process=True, encoder_process_nice=args.nice)  # type: ignore[arg-type]
        bare, ours, split, ratios = [], [], [], []
        for r in range(args.rounds):
            bare.append(bare_pyav(inproc, args.frames, args.warmup, Path(tmp) / f"bare{r}.h264"))
            ours.append(recorded(inproc, args.frames, args.warmup)[0])
            parent, child, overflows = recorded(worker, args.frames, args.warmup)
            split.append((parent, child))
            ratios.append((parent + child) / ours[-1])
            print(
                f"round {r + 1}: bare PyAV {bare[-1]:.3f}   in-process {ours[-1]:.3f}   "
                f"worker process {parent + child:.3f} (recorder {parent:.3f} + worker {child:.3f})   "
                f"ms CPU per frame; overflows {overflows}"
            )
    w, h = inproc.frame_size
    parent = statistics.median(p for p, _ in split)
    child = statistics.median(c for _, c in split)
    print(f"{w}x{h}, {args.frames} frames after {args.warmup}, {args.rounds} rounds (medians), load {load[0]:.1f}")
    print(f"bare PyAV:                {statistics.median(bare):.3f} ms CPU per frame")
    print(f"encoder in the recorder:  {statistics.median(ours):.3f} ms CPU per frame")
    print(f"encoder in a worker:      {parent + child:.3f} ms (recorder {parent:.3f} + worker {child:.3f})")
    print(f"worker / in the recorder: {statistics.median(ratios):.3f} (per-round pairs)")
    print(f"one frame copied into a ring slot: {copy_ms(inproc):.3f} ms")


if __name__ == "__main__":
    main()
