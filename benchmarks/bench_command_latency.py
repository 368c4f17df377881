"""get_status round trip over the slave's stdin/stdout: p50/p99 idle and while two sim cameras
record at 1456x1088@30 in steady state (after a warm-up, over --record-seconds, default 60), next to
a bare pipe round trip (a child that echoes lines) measured in the same run, alternating with the
slave's round trips. Prints p50/p99/p99.9/max. Targets (issue 14): p99 <= 0.5 ms idle, <= 1 ms
recording; --record-seconds 10 for a quick look while developing.

Designs side by side in one run: each `--variant` is a set of config keys (`KEY=VALUE,KEY=VALUE`,
or `default`); the variants take turns in `--blocks` blocks (a fresh slave per block), so the
machine's noise falls on all of them alike; each variant's figures cover --record-seconds in all.

    uv run python benchmarks/bench_command_latency.py [--n 2000] [--record-seconds 60] [--set encoder_process=true]
    uv run python benchmarks/bench_command_latency.py --variant encoder_process=false --variant encoder_process=true --blocks 6
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ECHO = "import sys\nfor line in sys.stdin.buffer:\n    sys.stdout.buffer.write(line)\n    sys.stdout.buffer.flush()\n"


def round_trips(proc: subprocess.Popen[bytes], n: int, line: bytes) -> list[float]:
    """Milliseconds per write-line/read-line round trip, from the master's side."""
    assert proc.stdin is not None and proc.stdout is not None
    out: list[float] = []
    for _ in range(n):
        t0 = time.perf_counter_ns()
        proc.stdin.write(line)
        proc.stdin.flush()
        reply = proc.stdout.readline()
        out.append((time.perf_counter_ns() - t0) / 1e6)
        if not reply:
            raise RuntimeError("the child ended")
    return out


def paced_round_trips(
    procs: list[subprocess.Popen[bytes]], seconds: float, gap_s: float, line: bytes
) -> list[list[float]]:
    """Round trips to each child in turn every `gap_s` for `seconds`: samples spread over the whole
    span (not a burst), each child's in its own list."""
    out: list[list[float]] = [[] for _ in procs]
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for proc, ms in zip(procs, out, strict=True):
            ms += round_trips(proc, 1, line)
        time.sleep(gap_s)
    return out


def summary(name: str, ms: list[float]) -> str:
    q = statistics.quantiles(ms, n=1000, method="inclusive")
    return (
        f"{name:<32} n={len(ms):5d}  p50={statistics.median(ms):7.3f} ms  p99={q[989]:7.3f} ms  "
        f"p99.9={q[998]:7.3f} ms  max={max(ms):7.3f} ms"
    )


def request(proc: subprocess.Popen[bytes], command: dict[str, object]) -> dict[str, object]:
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(json.dumps(command).encode() + b"\n")
    proc.stdin.flush()
    reply = json.loads(proc.stdout.readline())
    if reply["status"] == "error":
        raise RuntimeError(reply)
    return reply


def run_slave(args: argparse.Namespace, keys: list[str], record_seconds: float, idle_n: int) -> Measured:
    """One slave: idle round trips, then recording round trips alternating with a bare echo."""
    status_line = b'{"command":"get_status","id":1}\n'
    with tempfile.TemporaryDirectory() as out:
        argv = [
            sys.executable, str(args.root if args.root.is_file() else args.root / "main_camera.py"), "--mode", "slave", "--backend", "sim", "--sim-cameras", "2",
            "--resolution", "0", "--target-fps", "30", "--no-mp4", "--output-dir", out,
        ]  # fmt: skip
        lines = [f"slave_switch_interval_ms = {args.switch_interval_ms}"] if args.switch_interval_ms is not None else []
        lines += [item.replace("=", " = ", 1) for item in keys]
        if lines:
            config = Path(out) / "bench_config.txt"
            config.write_text("\n".join(lines) + "\n")
            argv += ["--config", str(config)]
        slave = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        status = request(slave, {"command": "get_status"})  # answered once the cameras run
        round_trips(slave, 200, status_line)  # warm up
        idle = round_trips(slave, idle_n, status_line) if idle_n else []
        echo = subprocess.Popen([sys.executable, "-c", ECHO], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        request(slave, {"command": "start_recording"})
        paced_round_trips([slave, echo], args.warmup_seconds, args.gap_ms / 1e3, status_line)  # encoder start-up
        recording, bare_busy = paced_round_trips([slave, echo], record_seconds, args.gap_ms / 1e3, status_line)
        echo.stdin.close()  # type: ignore[union-attr]
        echo.wait()
        stopped = request(slave, {"command": "stop_recording"})
        request(slave, {"command": "quit"})
        slave.wait(60)
    cams = status["data"]["cameras"]  # type: ignore[index]
    recs = stopped["data"]["recordings"]  # type: ignore[index]
    return Measured(idle, recording, bare_busy, list(cams[0]["resolution"]), recs, os.getloadavg()[0])


@dataclass
class Measured:
    idle: list[float]
    recording: list[float]
    bare_busy: list[float]
    resolution: list[int]
    recordings: list[dict[str, object]]
    load: float

    def add(self, other: Measured) -> None:
        self.idle += other.idle
        self.recording += other.recording
        self.bare_busy += other.bare_busy
        self.recordings += other.recordings
        self.load = max(self.load, other.load)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=2000, help="idle round trips per variant")
    parser.add_argument("--record-seconds", type=float, default=60.0, help="steady recording measured per variant")
    parser.add_argument("--warmup-seconds", type=float, default=3.0, help="recording before measuring (per block)")
    parser.add_argument("--gap-ms", type=float, default=5.0, help="pause between round trips while recording")
    parser.add_argument(
        "--switch-interval-ms",
        default=None,
        help="slave_switch_interval_ms for the slave (checkouts before its removal only)",
    )
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="another config key for every slave"
    )
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="KEY=VALUE,...",
        help="a design to compare (config keys, or 'default'); repeat for each",
    )
    parser.add_argument("--blocks", type=int, default=1, help="turns each variant takes (a fresh slave each)")
    parser.add_argument(
        "--root",
        type=Path,
        default=ROOT,
        help="checkout whose main_camera.py runs as the slave (e.g. an export of another commit), or a script "
        "to run instead of it (a design probe such as benchmarks/niced_x264_slave.py)",
    )
    args = parser.parse_args()
    status_line = b'{"command":"get_status","id":1}\n'
    variants = args.variant or ["default"]

    echo = subprocess.Popen([sys.executable, "-c", ECHO], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    bare_idle = round_trips(echo, args.n, status_line)
    echo.stdin.close()  # type: ignore[union-attr]
    echo.wait()

    results: dict[str, Measured] = {}
    load_start = os.getloadavg()
    for block in range(args.blocks):
        for variant in variants:
            keys = [*args.set, *([] if variant == "default" else variant.split(","))]
            got = run_slave(args, keys, args.record_seconds / args.blocks, args.n if block == 0 else 0)
            if variant in results:
                results[variant].add(got)
            else:
                results[variant] = got

    first = next(iter(results.values()))
    width, height = first.resolution
    print(f"get_status round trip over the slave's stdin/stdout (2 sim cameras, {width}x{height}@30)")
    print(f"slave: {args.root}; every slave: {', '.join(args.set) or 'defaults'}")
    print(
        f"steady recording measured over {args.record_seconds:g} s per variant in {args.blocks} block(s), "
        f"each after {args.warmup_seconds:g} s of warm-up"
    )
    print(
        f"load average: {load_start[0]:.2f} at the start, up to {max(m.load for m in results.values()):.2f} after a block"
    )
    print(summary("bare pipe echo, idle machine", bare_idle))
    for variant, m in results.items():
        print(f"-- {variant}")
        print(summary("slave idle", m.idle))
        print(summary("bare pipe echo, slave recording", m.bare_busy))
        print(summary("slave recording", m.recording))
        frames = sum(int(r["frames"]) for r in m.recordings)  # type: ignore[call-overload]
        drops = sum(int(r["hardware_drops"]) for r in m.recordings)  # type: ignore[call-overload]
        overflows = sum(int(r["encoder_overflows"]) for r in m.recordings)  # type: ignore[call-overload]
        print(f"  {frames} frames recorded, {drops} drops, {overflows} overflows")
        p99_idle = statistics.quantiles(m.idle, n=100)[98]
        p99_rec = statistics.quantiles(m.recording, n=100)[98]
        verdict = "met" if p99_idle <= 0.5 and p99_rec <= 1.0 else "MISSED"
        print(f"  targets (p99 <= 0.5 ms idle, <= 1 ms recording): {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
