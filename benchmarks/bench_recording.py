"""Recording throughput: camera_core's whole pipeline vs bare PyAV on the same frames.

One sim camera at 1456x1088, unpaced (frames as fast as the pipeline takes them), recording on:
capture loop, frame-number burn-in, encoder queue and thread, .h264 file, timing CSV. Beside it,
in the same run, the bare tool: the same sim frames rendered and encoded by PyAV's libx264 with the
same settings in one plain loop, written to a file. Runs alternate so machine noise hits both.

    uv run python benchmarks/bench_recording.py [--frames 600] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from camera_core.config import Settings
from camera_core.recording.h264 import H264Encoder, H264Params
from camera_core.sources.sim import SimTexture
from camera_core.system import CameraSystem


def bare_pyav(settings: Settings, frames: int, out: Path) -> tuple[float, float]:
    """Render the sim frames and encode them with the same encoder settings; (frames per second,
    process CPU ms per frame: every thread, libx264's included)."""
    width, height = settings.frame_size
    texture = SimTexture(width, height, settings.sim_seed)
    params = default_recorder_params(settings)
    encoder = H264Encoder(params)
    start, cpu = time.perf_counter(), time.process_time()
    with out.open("wb") as f:
        for i in range(frames):
            for packet in encoder.encode(texture.render(i), "I420"):
                f.write(packet)
        for packet in encoder.flush():
            f.write(packet)
    return frames / (time.perf_counter() - start), (time.process_time() - cpu) * 1e3 / frames


def default_recorder_params(settings: Settings) -> H264Params:
    """The encoder settings camera_core would use, as plain PyAV (no niced worker threads)."""
    import dataclasses

    from camera_core.recording.factory import h264_params
    from camera_core.sources.sim import create_sim_sources

    source = create_sim_sources(settings)[0]
    params = h264_params(source, settings)
    return dataclasses.replace(params, worker_nice=0) if hasattr(params, "worker_nice") else params


def pipeline(settings: Settings, frames: int) -> tuple[float, int, float]:
    """Record `frames` frames through CameraSystem; frames per second from start to finalized
    files, encoder overflows, process CPU ms per recorded frame over the same span."""
    with CameraSystem(settings) as system:
        cam = system.cameras[0]
        start, cpu = time.perf_counter(), time.process_time()
        system.start_recording()
        version = 0
        while int(cam.recorder.stats()["frames_recorded"]) < frames:
            version, _ = cam.latest.wait_newer(version, 5.0)
        result = system.stop_recording()[0]
        elapsed, cpu_ms = time.perf_counter() - start, (time.process_time() - cpu) * 1e3
    return result.frames / elapsed, result.encoder_overflows, cpu_ms / result.frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=3)
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
        bare, ours, bare_cpu, ours_cpu = [], [], [], []
        for r in range(args.rounds):
            fps, cpu = bare_pyav(settings, args.frames, Path(tmp) / f"bare{r}.h264")
            bare.append(fps)
            bare_cpu.append(cpu)
            fps, overflows, cpu = pipeline(settings, args.frames)
            ours.append(fps)
            ours_cpu.append(cpu)
            print(
                f"round {r + 1}: bare PyAV {bare[-1]:6.1f} fps {bare_cpu[-1]:.3f} ms CPU/frame   "
                f"camera_core {fps:6.1f} fps {cpu:.3f} ms CPU/frame   overflows {overflows}"
            )
    b, o = statistics.median(bare), statistics.median(ours)
    w, h = settings.frame_size
    print(f"{w}x{h} {settings.h264_preset}, {args.frames} frames x {args.rounds} rounds (medians)")
    print(f"bare PyAV (render + encode + write): {b:.1f} fps, {statistics.median(bare_cpu):.3f} ms CPU per frame")
    print(f"camera_core pipeline (recording on): {o:.1f} fps, {statistics.median(ours_cpu):.3f} ms CPU per frame")
    print(f"ratio camera_core / bare: {o / b:.3f} fps (target >= 0.9)")
    ratios = [a / c for a, c in zip(ours_cpu, bare_cpu, strict=True)]
    print(f"CPU per frame camera_core / bare: {statistics.median(ratios):.3f} (per-round pairs; target <= 1.05)")


if __name__ == "__main__":
    main()
