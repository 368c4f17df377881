"""Runs camera_core's CLI (main_camera.py ARGS) in this process and stalls camera 0 once, through the
real picamera2's own API: once camera 0 has recorded `--stall-after` rows, `cancel_all_and_flush()` on its
Picamera2 cancels the capture job camera_core waits on, as a dislodged cable would leave it waiting.
No frame reaches the capture loop from then on until camera_core counts the camera lost and restarts it.

A cancel that lands while camera_core is between two capture jobs (copying a frame) cancels nothing,
so the launcher cancels only while a job is queued and checks that the job it saw was the one cancelled.

    python stall_launcher.py --stall-after N -- main_camera.py arguments...
"""

from __future__ import annotations

import gc
import sys
import threading
import time
from concurrent.futures import CancelledError
from pathlib import Path


def rows_of(out_dir: Path) -> int:
    csvs = sorted(out_dir.rglob("cam0_*_frame_timing.csv"))
    return sum(1 for _ in csvs[0].open()) - 1 if csvs else 0


def stall_once(out_dir: Path, after_rows: int) -> None:
    deadline = time.monotonic() + 60
    while rows_of(out_dir) < after_rows:
        if time.monotonic() > deadline:
            print("stall_launcher: camera 0 never recorded", file=sys.stderr)
            return
        time.sleep(0.05)  # a launcher watching files from outside the program: polling is all it has
    from picamera2 import Picamera2

    (camera,) = [o for o in gc.get_objects() if isinstance(o, Picamera2) and o.camera_idx == 0]
    idle_since = time.monotonic()
    while time.monotonic() < deadline:
        with camera.lock:
            queued = list(camera._job_list)  # picamera2 0.3.38's job queue (the version uv.lock pins)
        if not queued:
            if time.monotonic() - idle_since > 0.5:  # no job for 15 frame times: already stalled
                break
            time.sleep(0.001)
            continue
        camera.cancel_all_and_flush()
        if any(was_cancelled(job) for job in queued):
            break
        idle_since = time.monotonic()  # that job finished first; a new one comes within a frame
    else:
        print("stall_launcher: never caught camera 0 waiting for a frame", file=sys.stderr)
        return
    print(f"stall_launcher: camera 0 stalled after {rows_of(out_dir)} rows", file=sys.stderr, flush=True)


def was_cancelled(job: object) -> bool:
    future = job._future  # type: ignore[attr-defined]
    return future.done() and isinstance(future.exception(timeout=0), CancelledError)


def main() -> int:
    split = sys.argv.index("--")
    after_rows = int(sys.argv[sys.argv.index("--stall-after") + 1])
    args = sys.argv[split + 1 :]
    out_dir = Path(args[args.index("--output-dir") + 1])
    threading.Thread(target=stall_once, args=(out_dir, after_rows), daemon=True).start()
    from camera_core.cli import main as camera_main

    return camera_main(args)


if __name__ == "__main__":
    sys.exit(main())
