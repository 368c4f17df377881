"""How fast the tools start: `python -m camera_core convert` of a 600-frame recording beside
`ffmpeg -c copy` of the same file, `import camera_core` beside a bare interpreter, and what the
import loads. Alternating runs, medians of wall and CPU time (os.wait4 of each child).

    uv run python benchmarks/bench_tool_startup.py [--rounds 15]

Note: this environment sets PYTHONDONTWRITEBYTECODE=1 and uv installs without compiling bytecode,
so the first thing done is compiling camera_core and the virtual environment's packages (as pip
does on install); without it every run compiles them from source and start-up figures mean little.
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import make_long_session

PY = sys.executable
FRAMES = 600


def run(cmd: list[str]) -> tuple[float, float]:
    """(wall s, cpu s) of one child, its output thrown away; raises if it fails."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {proc.stderr.read().decode() if proc.stderr else ''}")
    return wall, usage.ru_utime + usage.ru_stime


def compare(label: str, ours: list[str], bare: list[str], rounds: int) -> None:
    a, b = [], []
    for _ in range(rounds):
        a.append(run(ours))
        b.append(run(bare))
    aw, ac = statistics.median(r[0] for r in a), statistics.median(r[1] for r in a)
    bw, bc = statistics.median(r[0] for r in b), statistics.median(r[1] for r in b)
    ratio = statistics.median(x[0] / y[0] for x, y in zip(a, b, strict=True))
    print(
        f"{label:34} wall {aw * 1e3:6.0f} ms (cpu {ac * 1e3:4.0f})   bare wall {bw * 1e3:6.0f} ms "
        f"(cpu {bc * 1e3:4.0f})   ratio {ratio:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    root = Path(__file__).resolve().parent.parent
    compileall.compile_dir(root / "camera_core", quiet=1)
    compileall.compile_dir(sysconfig.get_paths()["purelib"], quiet=1, workers=2)
    loaded = subprocess.run(
        [
            PY,
            "-c",
            "import sys, camera_core; print(sorted({m.split('.')[0] for m in sys.modules} & {'cv2', 'av', 'numpy'}))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    print(f"import camera_core loads of cv2/av/numpy: {loaded}")
    with tempfile.TemporaryDirectory(prefix="tool_startup_") as tmp:
        session = make_long_session.build(Path(tmp), FRAMES / 30 / 3600, 1, 30.0, crashed=False)
        h264 = next(session.glob("*.h264"))
        mp4 = Path(tmp) / "ffmpeg.mp4"
        print(f"{FRAMES}-frame file: {h264.stat().st_size:,} bytes; {args.rounds} alternating rounds")
        compare(
            "import camera_core vs python -c pass", [PY, "-c", "import camera_core"], [PY, "-c", "pass"], args.rounds
        )
        compare(
            "convert vs ffmpeg -c copy",
            [PY, "-m", "camera_core", "convert", "--keep", str(h264)],
            ["ffmpeg", "-v", "error", "-y", "-i", str(h264), "-c", "copy", str(mp4)],
            args.rounds,
        )
        compare("import av vs python -c pass (the floor)", [PY, "-c", "import av"], [PY, "-c", "pass"], args.rounds)


if __name__ == "__main__":
    main()
