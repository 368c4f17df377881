"""Runs camera_core's CLI (main_camera.py ARGS) in this process and stalls camera 0 once, through the
real picamera2's own API: once camera 0 has recorded `--stall-after` rows, `cancel_all_and_flush()` on its
Picamera2 cancels the capture job camera_core waits on, as a dislodged cable would leave it waiting.
No frame reaches the capture loop from then on until camera_core counts the camera lost and restarts it.

    python stall_launcher.py --stall-after N -- main_camera.py arguments...
"""

from __future__ import annotations

import gc
import sys
import threading
import time
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
    camera.cancel_all_and_flush()
    print(f"stall_launcher: camera 0 stalled after {rows_of(out_dir)} rows", file=sys.stderr, flush=True)


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
