"""Recording throughput and CPU per frame: camera_core's whole pipeline vs bare PyAV on the same frames.

One sim camera (default 1456x1088), unpaced (frames as fast as the pipeline takes them), recording
on: capture loop, frame-number burn-in, encoder queue and thread, .h264 file, timing CSV. Beside it,
in the same run, two bare loops: the same sim frames rendered and encoded by PyAV's libx264 with the
same settings and written to a file; and the same fed by the sim camera's own `read`. Runs alternate
so machine noise hits all of them. CPU (process time, every thread) is taken over the same steady
span on every side: the `--frames` frames after the first `--warmup`, so camera_core's start and
finalization (printed apart) and the encoder's start and flush are outside it.

    uv run python benchmarks/bench_recording.py [--frames 600] [--rounds 3] [--preset 5] [--warmup 60]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from camera_core.config import Settings
from camera_core.recording.factory import h264_params
from camera_core.recording.libx264 import H264Encoder
from camera_core.sources.sim import SimTexture
from camera_core.system import CameraSystem


def bare_pyav(settings: Settings, frames: int, out: Path, warmup: int, *, source: bool = False) -> tuple[float, float]:
    """Render the sim frames and encode them with the same encoder settings; (frames per second,
    process CPU ms per frame: every thread, libx264's included), over `frames` frames after
    `warmup` frames, so the encoder's start and flush are outside the span as for camera_core.

    With `source`, the frames come from the sim camera's own `read` (its timestamps, metadata and
    frame objects, what any camera costs before recording) instead of the bare texture render."""
    from camera_core.sources.sim import create_sim_sources

    width, height = settings.frame_size
    texture = SimTexture(width, height, settings.sim_seed)
    camera = create_sim_sources(settings)[0]
    encoder = H264Encoder(h264_params(camera, settings))
    if source:
        camera.open()
        camera.start()
    try:
        with out.open("wb") as f:
            for i in range(warmup + frames):
                if i == warmup:
                    start, cpu = time.perf_counter(), time.process_time()
                if source:
                    frame = camera.read(timeout=1.0)
                    assert frame is not None
                    image = frame.image
                else:
                    image = texture.render(i)
                for packet in encoder.encode(image, "I420"):
                    f.write(packet)
            elapsed, cpu_s = time.perf_counter() - start, time.process_time() - cpu
            for packet in encoder.flush():
                f.write(packet)
    finally:
        if source:
            camera.stop()
            camera.close()
    return frames / elapsed, cpu_s * 1e3 / frames


def pipeline(settings: Settings, frames: int, warmup: int) -> tuple[float, int, float, float]:
    """Record through CameraSystem; over the `frames` frames after the first `warmup` (so starting
    and finalizing the files are outside the span, as the encoder's start and flush are for the
    bare loop): frames per second and process CPU ms per frame; then encoder overflows and the CPU
    ms of starting + stopping (file checksums, manifest) for the whole take."""
    with CameraSystem(settings) as system:
        cam = system.cameras[0]
        cpu_begin = time.process_time()
        system.start_recording()

        def wait_for(count: int) -> int:
            version = 0
            while (recorded := int(cam.recorder.stats()["frames_recorded"])) < count:
                version, _ = cam.latest.wait_newer(version, 5.0)
            return recorded

        first = wait_for(warmup)
        start, cpu = time.perf_counter(), time.process_time()
        last = wait_for(first + frames)
        elapsed, cpu_s = time.perf_counter() - start, time.process_time() - cpu
        result = system.stop_recording()[0]
        total_cpu = time.process_time() - cpu_begin
    per_frame = cpu_s / (last - first)
    overhead_ms = (total_cpu - per_frame * result.frames) * 1e3
    return (last - first) / elapsed, result.encoder_overflows, per_frame * 1e3, overhead_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=60, help="frames before the measured span")
    parser.add_argument("--preset", type=int, default=0, help="resolution preset (0: 1456x1088, 5: 640x480)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            camera_backend="sim",
            sim_cameras=1,
            sim_realtime=False,
            resolution_preset=args.preset,
            show_preview=False,
            output_dir=tmp,
            log_level="warning",
        )
        bare, ours, bare_cpu, ours_cpu, read_cpu = [], [], [], [], []
        for r in range(args.rounds):
            fps, cpu = bare_pyav(settings, args.frames, Path(tmp) / f"bare{r}.h264", args.warmup)
            bare.append(fps)
            bare_cpu.append(cpu)
            fps, overflows, cpu, overhead = pipeline(settings, args.frames, args.warmup)
            ours.append(fps)
            ours_cpu.append(cpu)
            _, cpu_read = bare_pyav(settings, args.frames, Path(tmp) / f"read{r}.h264", args.warmup, source=True)
            read_cpu.append(cpu_read)
            print(
                f"round {r + 1}: bare PyAV {bare[-1]:6.1f} fps {bare_cpu[-1]:.3f} ms CPU/frame   "
                f"camera_core {fps:6.1f} fps {cpu:.3f} ms CPU/frame   overflows {overflows}   "
                f"start + stop {overhead:.0f} ms CPU   bare PyAV on the sim camera's read {cpu_read:.3f} ms CPU/frame"
            )
    b, o = statistics.median(bare), statistics.median(ours)
    w, h = settings.frame_size
    print(f"{w}x{h} {settings.h264_preset}, {args.frames} frames after {args.warmup} x {args.rounds} rounds (medians)")
    print(f"bare PyAV (render + encode + write): {b:.1f} fps, {statistics.median(bare_cpu):.3f} ms CPU per frame")
    print(f"bare PyAV fed by the sim camera's read: {statistics.median(read_cpu):.3f} ms CPU per frame")
    print(f"camera_core pipeline (recording on): {o:.1f} fps, {statistics.median(ours_cpu):.3f} ms CPU per frame")
    print(f"ratio camera_core / bare: {o / b:.3f} fps (target >= 0.9)")
    ratios = [a / c for a, c in zip(ours_cpu, bare_cpu, strict=True)]
    print(f"CPU per frame camera_core / bare: {statistics.median(ratios):.3f} (per-round pairs; target <= 1.05)")
    ratios = [a / c for a, c in zip(ours_cpu, read_cpu, strict=True)]
    print(f"CPU per frame camera_core / bare on the camera's read: {statistics.median(ratios):.3f} (per-round pairs)")
    print(f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
