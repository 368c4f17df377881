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
    """Render the sim frames and encode them with the same encoder settings: frames per second and
    CPU ms per frame (all threads of the process)."""
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
    return frames / (time.perf_counter() - start), (time.process_time() - cpu) * 1000 / frames


def default_recorder_params(settings: Settings) -> H264Params:
    from camera_core.sources.sim import create_sim_sources

    source = create_sim_sources(settings)[0]
    try:
        from camera_core.recording.factory import h264_params
    except ImportError:  # camera_core before the recording pipeline (to compare with it)
        from camera_core.system import default_recorder  # type: ignore[attr-defined]

        return default_recorder(source, settings, clock=None).params  # type: ignore[no-any-return]
    return h264_params(source, settings)


def pipeline(settings: Settings, frames: int) -> tuple[float, float, int]:
    """Record `frames` frames through CameraSystem: frames per second from start to finalized files,
    CPU ms per frame (capture and encoding threads included), overflows."""
    with CameraSystem(settings) as system:
        cam = system.cameras[0]
        start, cpu = time.perf_counter(), time.process_time()
        system.start_recording()
        version = 0
        while int(cam.recorder.stats()["frames_recorded"]) < frames:
            version, _ = cam.latest.wait_newer(version, 5.0)
        result = system.stop_recording()[0]
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    return result.frames / elapsed, cpu * 1000 / result.frames, result.encoder_overflows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            camera_backend="sim",
            sim_cameras=1,
            sim_realtime=False,
            resolution_preset=0,
            show_preview=False,
            output_dir=tmp,
            log_level="warning",
        )
        bare, ours, bare_cpu, our_cpu = [], [], [], []
        for r in range(args.rounds):
            fps, cpu = bare_pyav(settings, args.frames, Path(tmp) / f"bare{r}.h264")
            bare.append(fps)
            bare_cpu.append(cpu)
            fps, cpu, overflows = pipeline(settings, args.frames)
            ours.append(fps)
            our_cpu.append(cpu)
            print(
                f"round {r + 1}: bare PyAV {bare[-1]:6.1f} fps {bare_cpu[-1]:5.2f} ms CPU/frame   "
                f"camera_core {fps:6.1f} fps {cpu:5.2f} ms CPU/frame   overflows {overflows}"
            )
    b, o = statistics.median(bare), statistics.median(ours)
    bc, oc = statistics.median(bare_cpu), statistics.median(our_cpu)
    print(f"1456x1088 {settings.h264_preset}, {args.frames} frames x {args.rounds} rounds (medians)")
    print(f"bare PyAV (render + encode + write): {b:.1f} fps, {bc:.2f} ms CPU per frame")
    print(f"camera_core pipeline (recording on): {o:.1f} fps, {oc:.2f} ms CPU per frame")
    print(f"ratio camera_core / bare: {o / b:.3f} fps (target >= 0.9), {oc / bc:.3f} CPU per frame")


if __name__ == "__main__":
    main()
