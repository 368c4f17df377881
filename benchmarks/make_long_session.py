"""Builds a long session (default: 10 hours, two cameras at 30 fps, 1,080,000 rows each) in the
project's exact format, for bench_long_session.py: per camera a raw .h264 with one frame per row and
its timing CSV (the recorder's columns and number formats), and a manifest.json like the one a
clean stop writes. `--crashed` leaves it as a killed process would: manifest "complete": false with
no recordings listed, a half-written packet at the end of each .h264 and a torn last CSV row.

The video is a short libx264 clip (one group of pictures, every keyframe carrying SPS/PPS as the
recorder's) repeated to the full frame count: a valid stream every tool demuxes and decodes frame by
frame, built in seconds. Its frames are small (64x48), so the files stay near 100 MB each; the
CSVs are full size (about 100 MB each). Timestamps carry jitter and a few drops so the report
has real work.

    uv run python benchmarks/make_long_session.py OUT_DIR [--hours 10] [--cameras 2] [--crashed]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import socket
import time
from pathlib import Path

import numpy as np

from camera_core.recording.libx264 import H264Encoder, H264Params
from camera_core.recording.timing_log import COLUMNS, TIMING_CSV_SUFFIX

WIDTH, HEIGHT, GOP = 64, 48, 30
ROWS_PER_WRITE = 100_000
#: Sensor clock (CLOCK_BOOTTIME) and wall clock at the first frame.
SENSOR_START_NS = 202_371_460_847
WALL_START_NS = 1_796_101_275_896_077_323


def gop_packets() -> list[bytes]:
    """One group of pictures of a slowly changing image, encoded as the recorder encodes."""
    encoder = H264Encoder(H264Params(WIDTH, HEIGHT, 30.0, keyframe_interval=GOP, threads=1))
    packets: list[bytes] = []
    for i in range(GOP):
        image = np.full((HEIGHT * 3 // 2, WIDTH), 128, np.uint8)
        image[:HEIGHT] = 16 + 6 * i
        packets += encoder.encode(image, "I420")
    packets += encoder.flush()
    if len(packets) != GOP:
        raise RuntimeError(f"the encoder gave {len(packets)} packets for {GOP} frames")
    return packets


def write_video(path: Path, frames: int, packets: list[bytes]) -> None:
    gop = b"".join(packets)
    whole, rest = divmod(frames, GOP)
    with path.open("wb") as f:
        for start in range(0, whole, 1000):
            f.write(gop * min(1000, whole - start))
        f.write(b"".join(packets[:rest]))


def timing_arrays(camera_id: int, frames: int, fps: float) -> dict[str, np.ndarray]:
    """Per row: sensor time with ±40 µs jitter, a one- to three-frame drop every ~2 hours of
    frames, the wall clock a fixed offset away (the second camera 0.4 ms later)."""
    rng = np.random.default_rng(camera_id)
    period = 1e9 / fps
    steps = np.ones(frames, dtype=np.int64)
    steps[0] = 0
    drop_rows = rng.choice(np.arange(1, frames), size=max(1, frames // 200_000), replace=False)
    steps[drop_rows] += rng.integers(1, 4, size=drop_rows.size)
    index = np.cumsum(steps)
    sensor = SENSOR_START_NS + camera_id * 400_000 + np.round(index * period).astype(np.int64)
    sensor += rng.integers(-40_000, 40_000, size=frames)
    dropped = steps - 1
    dropped[0] = 0
    wall = sensor - SENSOR_START_NS + WALL_START_NS
    return {
        "frame_number": np.arange(frames, dtype=np.int64),
        "write_time_unix": (wall + 2_500_000) / 1e9,
        "sensor_timestamp_ns": sensor,
        "dropped_since_last": dropped,
        "total_hardware_drops": np.cumsum(dropped),
        "wall_clock_ns": wall,
        "pts_us": np.round((sensor - sensor[0]) / 1000).astype(np.int64),
        "sensor_sequence": index + 1,
    }


def write_csv(path: Path, cols: dict[str, np.ndarray], fps: float) -> None:
    """The recorder's format (timing_log.format_row): integers, write time to µs, duration to ns, and
    the sync and exposure columns empty (as a recording without them writes them): 13 fields a row."""
    duration = f"{1e6 / fps:.3f}"
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write(",".join(COLUMNS) + "\n")
        for start in range(0, cols["frame_number"].size, ROWS_PER_WRITE):
            part = {k: v[start : start + ROWS_PER_WRITE].tolist() for k, v in cols.items()}
            f.writelines(
                f"{n},{w:.6f},{s},{d},{t},{c},{p},{duration},{q},,,,\n"
                for n, w, s, d, t, c, p, q in zip(
                    part["frame_number"],
                    part["write_time_unix"],
                    part["sensor_timestamp_ns"],
                    part["dropped_since_last"],
                    part["total_hardware_drops"],
                    part["wall_clock_ns"],
                    part["pts_us"],
                    part["sensor_sequence"],
                    strict=True,
                )
            )


def file_entry(path: Path) -> dict[str, object]:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 22):
            digest.update(block)
    return {"name": path.name, "bytes": path.stat().st_size, "sha256": digest.hexdigest()}


def recording_entry(camera_id: int, base: str, cols: dict[str, np.ndarray], fps: float, folder: Path) -> dict:
    video, csv_name = f"{base}.h264", f"{base}{TIMING_CSV_SUFFIX}"
    sensor, wall = cols["sensor_timestamp_ns"], cols["wall_clock_ns"]
    files = [file_entry(folder / video), file_entry(folder / csv_name)]
    common = {
        "frames": int(sensor.size),
        "hardware_drops": int(cols["dropped_since_last"].sum()),
        "first_sensor_timestamp_ns": int(sensor[0]),
        "last_sensor_timestamp_ns": int(sensor[-1]),
        "first_wall_clock_ns": int(wall[0]),
        "duration_s": round((int(sensor[-1]) - int(sensor[0])) / 1e9 + 1 / fps, 6),
        "files": files,
        "errors": [],
    }
    segment = {"index": 1, "video": video, "timing_csv": csv_name, "container": "h264", "split_reason": "start"}
    return {
        "camera_id": camera_id,
        "basename": base,
        "video": video,
        "timing_csv": csv_name,
        "container": "h264",
        **common,
        "encoder_overflows": 0,
        "width": WIDTH,
        "height": HEIGHT,
        "fps": fps,
        "encoder": "libx264 (PyAV, preset ultrafast)",
        "started_at_unix": float(cols["write_time_unix"][0]),
        "stopped_at_unix": float(cols["write_time_unix"][-1]),
        "segments": [{**segment, **common}],
        "stop_reason": "requested",
    }


def manifest(folder: Path, cameras: int, fps: float, recordings: list[dict], complete: bool) -> dict:
    started = WALL_START_NS / 1e9 - 0.1
    return {
        "schema": "camera_core.session/1",
        "session": folder.name,
        "host": socket.gethostname(),
        "pid": 999_999_999,
        "software": {"camera_core": "0.1.0"},
        "started_at_unix": started,
        "ended_at_unix": max((r["stopped_at_unix"] for r in recordings), default=None) if complete else None,
        "complete": complete,
        "warnings": [],
        "config": {"target_fps": fps, "camera_backend": "sim", "disable_mp4_conversion": True},
        "cameras": [
            {
                "camera_id": i,
                "backend": "sim",
                "width": WIDTH,
                "height": HEIGHT,
                "fps": fps,
                "encoder": "libx264 (PyAV)",
            }
            for i in range(cameras)
        ],
        "recordings": recordings,
        "snapshots": [],
    }


def crash(folder: Path) -> None:
    """As a killed process leaves it: half a packet after the last whole frame of each .h264, a torn
    last timing row, and a manifest still saying complete: false with no recordings listed."""
    for video in sorted(folder.glob("*.h264")):
        with video.open("ab") as f:
            f.write(b"\x00\x00\x00\x01\x41\x9a\x02\x0c")
        with video.with_name(video.stem + TIMING_CSV_SUFFIX).open("a", encoding="utf-8") as f:
            f.write("999999999,1796137275.9")
    path = folder / "manifest.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data.update(complete=False, recordings=[], ended_at_unix=None)
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")


def build(out: Path, hours: float, cameras: int, fps: float, crashed: bool) -> Path:
    frames = round(hours * 3600 * fps)
    stamp = time.strftime("%Y%m%d_%H%M%S", time.gmtime(WALL_START_NS / 1e9))
    folder = out / f"session_{stamp}"
    folder.mkdir(parents=True, exist_ok=True)
    packets = gop_packets()
    recordings = []
    for camera_id in range(cameras):
        base = f"cam{camera_id}_{WIDTH}x{HEIGHT}_{fps:.1f}fps_{stamp}"
        cols = timing_arrays(camera_id, frames, fps)
        write_video(folder / f"{base}.h264", frames, packets)
        write_csv(folder / f"{base}{TIMING_CSV_SUFFIX}", cols, fps)
        recordings.append(recording_entry(camera_id, base, cols, fps, folder))
    (folder / "manifest.json").write_text(
        json.dumps(manifest(folder, cameras, fps, recordings, True), indent=2), encoding="utf-8"
    )
    if crashed:
        crash(folder)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path, help="folder to create the session folder in")
    parser.add_argument("--hours", type=float, default=10.0)
    parser.add_argument("--cameras", type=int, default=2)
    parser.add_argument("--fps", type=float, default=30.0)
    parser.add_argument("--crashed", action="store_true", help="leave it as a killed process would")
    args = parser.parse_args()
    start = time.perf_counter()
    folder = build(args.out, args.hours, args.cameras, args.fps, args.crashed)
    print(f"{folder} ({time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    main()
