"""CPU per streamed preview frame in slave mode, beside the same work done bare in one loop.

camera_core: a slave with one paced sim camera (default 1456x1088@30, preview 320x240) runs
--seconds with the preview stream off, then --seconds with it on while this process reads every
`preview_frame` line; the slave's extra CPU (user + system from /proc) divided by the frames it
sent is the cost of one preview frame, all threads and hand-offs included. Bare: one loop doing the
same per-frame work on the same sim frames with the same functions (preview/render.py: scale the
I420 planes, the info lines and dot; commands/preview.py: JPEG from the planes, base64, the line),
so the ratio is what the threads and hand-offs add; the bare loop also runs paced at 30 fps (a
frame every 1/30 s, caches cold each time, as in the slave). Rounds alternate off/on/bare.

    uv run python benchmarks/bench_preview.py [--seconds 10] [--rounds 3] [--resolution 0] [--before DIR]

--before DIR runs a second slave from another checkout (e.g. `git archive <commit> | tar -x -C DIR`)
in the same rounds, so an older preview path is measured beside this one under the same load.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from camera_core.commands.preview import preview_line
from camera_core.config import Settings
from camera_core.config.presets import preset_size
from camera_core.frames.frame import Frame
from camera_core.frames.overlay import InfoOverlay, OverlayStyle
from camera_core.preview import PreviewRenderer
from camera_core.sources.sim import SimTexture

ROOT = Path(__file__).resolve().parents[1]
TICK = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


class Slave:
    """A slave process; a reader thread counts preview lines and hands other replies over."""

    def __init__(self, argv: list[str]) -> None:
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.previews = 0
        self.replies: list[dict[str, object]] = []
        self._got = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            message = json.loads(line)
            with self._got:
                if message.get("status") == "preview_frame":
                    self.previews += 1
                else:
                    self.replies.append(message)
                    self._got.notify_all()

    def request(self, command: dict[str, object], timeout: float = 30.0) -> dict[str, object]:
        assert self.proc.stdin is not None
        with self._got:
            self.replies.clear()
        self.proc.stdin.write(json.dumps(command).encode() + b"\n")
        self.proc.stdin.flush()
        with self._got:
            if not self._got.wait_for(lambda: self.replies, timeout):
                raise RuntimeError(f"no reply to {command}")
            return self.replies[0]


def measure_slave(slave: Slave, seconds: float, preview: bool) -> tuple[float, int]:
    """(slave CPU seconds, preview frames) over `seconds` with the stream on or off."""
    slave.request({"command": "toggle_preview", "camera_id": 0, "enabled": preview})
    time.sleep(1.0)  # settle: the stream starts (or its last frame drains)
    frames0, cpu0 = slave.previews, cpu_s(slave.proc.pid)
    time.sleep(seconds)
    return cpu_s(slave.proc.pid) - cpu0, slave.previews - frames0


def bare(settings: Settings, frames: int, *, paced: bool = False) -> float:
    """CPU ms per frame of the same work in one loop: scale, overlay, JPEG, base64, the line.

    With `paced`, one frame per 1/30 s as the stream gets them (the loop sleeps in between):
    caches are cold again at every frame, as in the slave, which the tight loop does not see."""
    width, height = settings.frame_size
    texture = SimTexture(width, height, 0)
    images = [texture.render(i) for i in range(30)]
    size = preset_size(settings.preview_preset)
    style = OverlayStyle(settings.font_scale_base, settings.thickness_base, settings.text_color_bgr)  # as Camera
    renderer = PreviewRenderer(size, style, full_range=True)  # as the slave's stream
    start = time.process_time()
    due = time.monotonic()
    for i in range(frames):
        frame = Frame(0, images[i % 30], "I420", i, 33_333.0)
        lines = ("cam0 2026-12-01 05:00:00.000", "FPS  30.0 / HW  30.0", f"Frames {i} / {i}  drops 0", "REC")
        preview_line(renderer.render(frame, i, InfoOverlay(lines, True)), settings.preview_jpeg_quality)
        if paced:
            due += 1 / 30
            time.sleep(max(0.0, due - time.monotonic()))
    return (time.process_time() - start) * 1e3 / frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--resolution", type=int, default=0)
    parser.add_argument("--root", type=Path, default=ROOT, help="checkout whose main_camera.py runs as the slave")
    parser.add_argument("--before", type=Path, help="a second checkout measured in the same rounds")
    args = parser.parse_args()
    settings = Settings(camera_backend="sim", resolution_preset=args.resolution)
    roots = {"camera_core": args.root} | ({"before": args.before} if args.before else {})
    per_frame: dict[str, list[float]] = {name: [] for name in roots}
    bares: list[float] = []
    paced: list[float] = []
    with tempfile.TemporaryDirectory() as out:
        slaves = {}
        for name, root in roots.items():
            argv = [
                sys.executable, str(root / "main_camera.py"), "--mode", "slave", "--backend", "sim",
                "--sim-cameras", "1", "--resolution", str(args.resolution), "--target-fps", "30",
                "--output-dir", str(Path(out) / name),
            ]  # fmt: skip
            slaves[name] = Slave(argv)
            slaves[name].request({"command": "get_status"})
        for r in range(args.rounds):
            for name, slave in slaves.items():
                cpu_off, _ = measure_slave(slave, args.seconds, False)
                cpu_on, frames = measure_slave(slave, args.seconds, True)
                measure_slave(slave, 0.0, False)  # quiet while the next one is measured
                per_frame[name].append((cpu_on - cpu_off) * 1e3 / max(frames, 1))
                print(
                    f"round {r + 1}: {name}: slave {cpu_off:.2f} s CPU without preview, {cpu_on:.2f} s with "
                    f"{frames} preview frames -> {per_frame[name][-1]:.3f} ms/frame"
                )
            bares.append(bare(settings, 150))
            paced.append(bare(settings, 90, paced=True))
            print(f"round {r + 1}: bare {bares[-1]:.3f} ms/frame, bare paced at 30 fps {paced[-1]:.3f} ms/frame")
        for slave in slaves.values():
            slave.request({"command": "quit"})
            slave.proc.wait(30)
    w, h = settings.frame_size
    b, p = statistics.median(bares), statistics.median(paced)
    print(f"preview stream of a {w}x{h}@30 sim camera at {preset_size(settings.preview_preset)} (medians)")
    for name, root in roots.items():
        o = statistics.median(per_frame[name])
        print(
            f"{name} ({root}): {o:.3f} ms CPU per preview frame (target <= 0.7); bare: {b:.3f} ms, ratio "
            f"{o / b:.2f}; bare paced at 30 fps: {p:.3f} ms, ratio {o / p:.2f}"
        )


if __name__ == "__main__":
    main()
