"""Every way of stopping a recording leaves complete files: runs that alternate `quit`, SIGINT,
SIGTERM and end of stdin mid-recording (quit and end of stdin in slave mode; the signals to
headless and slave runs in turn; MP4 conversion on every other run; 1 s segments), then check that
each run exited 0, its manifest is complete and every file decodes to exactly its timing rows.

    uv run python benchmarks/stop_paths.py [--runs 20] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from camera_core.tools.verify import verify_recording

ROOT = Path(__file__).resolve().parents[1]
WAYS = ("quit", "SIGINT", "SIGTERM", "eof")


@dataclass(slots=True)
class RunResult:
    index: int
    way: str
    mode: str
    exit_code: int | None = None
    files: int = 0
    frames: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def line(self) -> str:
        verdict = "complete" if self.ok else "FAILED: " + "; ".join(self.problems)
        return (
            f"run {self.index:2d} {self.way:7s} {self.mode:8s} exit {self.exit_code}  "
            f"{self.files} files, {self.frames} frames  {verdict}"
        )


def wait_for_rows(folder: Path, rows: int, timeout: float = 30.0) -> None:
    """Poll until both cameras' second segment has `rows` rows: the stop lands mid-recording, after
    a segment boundary."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        csvs = list(folder.glob("session_*/cam*_seg0002_frame_timing.csv"))
        if len(csvs) >= 2 and all(p.read_bytes().count(b"\n") > rows for p in csvs):
            return
        time.sleep(0.05)
    raise TimeoutError(f"no second segment with {rows} rows in {folder}")


def send(stdin: IO[str], stdout: IO[str], command: str) -> dict[str, object]:
    stdin.write(json.dumps({"command": command}) + "\n")
    stdin.flush()
    return json.loads(stdout.readline())


def check_session(out: Path, result: RunResult) -> None:
    sessions = list(out.glob("session_*"))
    if len(sessions) != 1:
        result.problems.append(f"{len(sessions)} session folders")
        return
    session = sessions[0]
    manifest = json.loads((session / "manifest.json").read_text())
    if manifest.get("complete") is not True:
        result.problems.append("manifest not complete")
    if list(session.glob("*.part")):
        result.problems.append("unfinished .part files left")
    recordings = manifest.get("recordings", [])
    if sorted(r["camera_id"] for r in recordings) != [0, 1]:
        result.problems.append(f"recordings of cameras {[r['camera_id'] for r in recordings]}")
    for rec in recordings:
        if rec.get("errors"):
            result.problems.append(f"cam{rec['camera_id']}: {rec['errors']}")
        for seg in rec["segments"]:
            report = verify_recording(session / seg["video"], session / seg["timing_csv"])
            result.files += 1
            result.frames += report.frames
            if not report.ok or report.frames != seg["frames"]:
                result.problems.append(f"{seg['video']}: {report.problems or 'frame count differs from manifest'}")


def one_run(index: int, out: Path, *, rows: int = 5) -> RunResult:
    way = WAYS[index % len(WAYS)]
    signal_in_slave = (index // len(WAYS)) % 2 == 1
    mode = "slave" if way in ("quit", "eof") or signal_in_slave else "headless"
    result = RunResult(index, way, mode)
    cmd = [
        sys.executable, str(ROOT / "main_camera.py"), "--mode", mode, "--backend", "sim", "--sim-cameras", "2",
        "--resolution", "7", "--segment-seconds", "1", "--output-dir", str(out), "--no-preview",
        "--mp4" if index % 2 else "--no-mp4",
    ]  # fmt: skip
    proc = subprocess.Popen(
        cmd, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        if mode == "slave":
            send(proc.stdin, proc.stdout, "get_status")  # answered once the cameras are ready
            reply = send(proc.stdin, proc.stdout, "start_recording")
            if reply.get("status") != "recording_started":
                result.problems.append(f"start_recording answered {reply}")
        wait_for_rows(out, rows)
        if way == "quit":
            reply = send(proc.stdin, proc.stdout, "quit")
            if reply.get("status") != "shutdown":
                result.problems.append(f"quit answered {reply}")
        elif way == "eof":
            proc.stdin.close()
        else:
            os.kill(proc.pid, getattr(signal, way))
        result.exit_code = proc.wait(timeout=60)
    except Exception as exc:
        result.problems.append(f"{type(exc).__name__}: {exc}")
        proc.kill()
        proc.wait()
    if result.exit_code != 0:
        result.problems.append(f"exit code {result.exit_code}")
    check_session(out, result)
    return result


def run_all(runs: int, base: Path) -> list[RunResult]:
    results = []
    for i in range(runs):
        result = one_run(i, base / f"run{i:02d}")
        print(result.line(), flush=True)
        results.append(result)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--keep", type=Path, default=None, help="keep the sessions in this folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="stop_paths_") as tmp:
        results = run_all(args.runs, args.keep or Path(tmp))
    good = sum(r.ok for r in results)
    print(f"{good}/{len(results)} runs left complete files")
    return 0 if good == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
