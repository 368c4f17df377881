"""report, verify, convert and recover on a 10-hour two-camera session (make_long_session.py),
each beside the bare tool doing the same job, alternating in one run: wall time and peak RSS of
each child process (os.wait4), medians over the rounds, and the ratio camera_core / bare.

    uv run python benchmarks/bench_long_session.py [--hours 10] [--rounds 3] [--tools report,convert]

Bare tools: report - numpy.loadtxt of the columns the report needs from both CSVs; convert -
`ffmpeg -c copy` of both .h264 files to MP4; verify - `ffmpeg -f null` decode of both files plus
the loadtxt; recover - `ffmpeg -c copy` to the null muxer (reads every packet, as the repair does)
plus reading both CSVs. `verify` runs with --no-codes (the session's frames carry no frame codes) and
counts the frames without decoding (a recording of over 10,000 frames is not decoded frame by frame
unless --full). The session is built once in a temporary folder (about 400 MB); recover
runs on a second copy put back into its crashed state before every round.
"""

from __future__ import annotations

import argparse
import compileall
import os
import shutil
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
LOADTXT = (
    "import sys, numpy as np\n"
    "for p in sys.argv[1:]:\n"
    "    np.loadtxt(p, delimiter=',', skiprows=1, usecols=(0, 2, 3, 5), dtype=np.int64)\n"
)


def run(cmd: list[str]) -> tuple[float, float, int]:
    """(wall s, peak RSS MB, exit code) of one child, its output thrown away."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return time.perf_counter() - start, usage.ru_maxrss / 1024, proc.returncode


def run_all(cmds: list[list[str]]) -> tuple[float, float, int]:
    """Several children one after another: total wall, largest peak, worst exit code."""
    results = [run(c) for c in cmds]
    return sum(r[0] for r in results), max(r[1] for r in results), max(r[2] for r in results)


def reset_crashed(folder: Path, clean: Path) -> None:
    """Put the recover copy back: the clean files, then the crash marks make_long_session adds."""
    for f in folder.iterdir():
        f.unlink()
    for f in clean.iterdir():
        if f.suffix in (".h264", ".csv", ".json"):
            shutil.copyfile(f, folder / f.name)
    make_long_session.crash(folder)


def commands(tool: str, session: Path, crashed: Path, out: Path) -> tuple[list[list[str]], list[list[str]]]:
    videos = sorted(session.glob("*.h264"))
    csvs = sorted(session.glob("*_frame_timing.csv"))
    core = [PY, "-m", "camera_core"]
    loadtxt = [PY, "-c", LOADTXT, *map(str, csvs)]
    if tool == "report":
        return [[*core, "report", str(session), "--figure", str(out / "fig.png")]], [loadtxt]
    if tool == "convert":
        ours = [[*core, "convert", "--keep", *map(str, videos)]]
        bare = [["ffmpeg", "-v", "error", "-y", "-i", str(v), "-c", "copy", str(out / f"{v.stem}.mp4")] for v in videos]
        return ours, bare
    if tool == "verify":
        ours = [[*core, "verify", "--no-codes", *map(str, videos)]]
        bare = [["ffmpeg", "-v", "error", "-i", str(v), "-f", "null", "-"] for v in videos] + [loadtxt]
        return ours, bare
    if tool == "recover":
        ours = [[*core, "recover", "--no-mp4", str(crashed)]]
        bare = [["ffmpeg", "-v", "error", "-i", str(v), "-c", "copy", "-f", "null", "-"] for v in videos] + [loadtxt]
        return ours, bare
    raise SystemExit(f"unknown tool {tool}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hours", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tools", default="report,convert,recover,verify")
    args = parser.parse_args()
    # bytecode compiled first, as an install does (this environment sets PYTHONDONTWRITEBYTECODE):
    # without it every child compiles matplotlib & co. from source and the figures mean little
    compileall.compile_dir(Path(__file__).resolve().parent.parent / "camera_core", quiet=1)
    compileall.compile_dir(sysconfig.get_paths()["purelib"], quiet=1, workers=2)
    with tempfile.TemporaryDirectory(prefix="long_session_") as tmp:
        root = Path(tmp)
        # Built by a child: a parent that held the arrays would lend its size to every child's peak
        # RSS (fork copies the parent's page tables before exec).
        built = subprocess.run(
            [PY, str(Path(__file__).parent / "make_long_session.py"), str(root / "clean"), "--hours", str(args.hours)],
            capture_output=True,
            text=True,
            check=True,
        )
        session = Path(built.stdout.split(" (")[0])
        crashed = root / "crashed" / session.name
        crashed.mkdir(parents=True)
        out = root / "out"
        out.mkdir()
        rows = sum(1 for _ in (session / next(session.glob("*_frame_timing.csv")).name).open("rb")) - 1
        print(f"session: 2 cameras x {rows:,} rows ({args.hours:g} h at 30 fps), {args.rounds} rounds, alternating")
        print(f"{'tool':8} {'camera_core s':>13} {'MB':>6} {'bare s':>8} {'MB':>6} {'time ratio':>10}  exit")
        for tool in args.tools.split(","):
            ours_cmds, bare_cmds = commands(tool, session, crashed, out)
            ours, bare = [], []
            for _ in range(args.rounds):
                if tool == "recover":
                    reset_crashed(crashed, session)
                ours.append(run_all(ours_cmds))
                bare.append(run_all(bare_cmds))
                for mp4 in session.glob("*.mp4"):
                    mp4.unlink()
            o_wall, o_mb = statistics.median(r[0] for r in ours), max(r[1] for r in ours)
            b_wall, b_mb = statistics.median(r[0] for r in bare), max(r[1] for r in bare)
            codes = sorted({r[2] for r in ours})
            print(f"{tool:8} {o_wall:13.2f} {o_mb:6.0f} {b_wall:8.2f} {b_mb:6.0f} {o_wall / b_wall:10.2f}  {codes}")


if __name__ == "__main__":
    main()
