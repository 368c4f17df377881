"""A design probe for bench_command_latency.py (--root benchmarks/niced_x264_slave.py): runs this
checkout's main_camera.py with libx264's worker threads at nice 10 while every Python thread stays
at nice 0. The codec is opened from a short-lived thread that lowered its own priority first, so
only the threads libx264 creates then inherit it; a niced Python thread would be descheduled while
holding the GIL (issue 14: 3.1 ms p99), a niced libx264 worker holds no GIL.

Not used by the program: recording/libx264.py would open the codec this way if the figures hold.
    X264_NICE=10 uv run python benchmarks/niced_x264_slave.py --mode slave ...
"""

from __future__ import annotations

import os
import runpy
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from camera_core.recording import libx264 as h264  # noqa: E402

NICE = int(os.environ.get("X264_NICE", "10"))
_original_init = h264.H264Encoder.__init__


def _init_with_niced_workers(self: h264.H264Encoder, params: h264.H264Params) -> None:
    _original_init(self, params)
    context = self._ctx
    failures: list[BaseException] = []

    def open_niced() -> None:
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICE)
            context.open()
        except BaseException as exc:  # handed to the caller below
            failures.append(exc)

    opener = threading.Thread(target=open_niced, name="x264-open")
    opener.start()
    opener.join()
    if failures:
        raise failures[0]


h264.H264Encoder.__init__ = _init_with_niced_workers  # type: ignore[method-assign]
sys.argv[0] = str(ROOT / "main_camera.py")
runpy.run_path(str(ROOT / "main_camera.py"), run_name="__main__")
