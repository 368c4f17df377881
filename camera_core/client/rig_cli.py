"""`python -m camera_core rig RIG_FILE`: start every slave of a rig file, record on all of them from
one shared start time for --duration seconds (or until Ctrl+C), stop, and report per slave. During
the take every slave is asked for its status every `heartbeat_s`; one that exits or stops answering
is reported at once (`rig: NAME lost: ...`) while the others record on."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
from typing import Any

from camera_core.client.rig import Rig, RigConfig, RigResult, load_rig
from camera_core.sync.clocks import describe_clock


def _print_results(title: str, results: dict[str, RigResult], out: Any) -> None:
    for name, result in results.items():
        if result.ok:
            print(f"{title} {name}: ok", file=out)
        else:
            print(f"{title} {name}: FAILED: {result.error}", file=out)


def status_line(name: str, entry: dict[str, Any]) -> str:
    """One slave's status in one line (`--status-only` without --json)."""
    if not entry.get("ok"):
        first = str(entry.get("error", "")).splitlines()[:1]
        return f"{name}: FAILED: {first[0] if first else 'no answer'}"
    data = entry.get("data", {})
    cams = ", ".join(
        f"cam{c.get('camera_id')} {c.get('state', '?')} {c.get('hardware_fps', 0):g} fps"
        for c in data.get("cameras", [])
    )
    free_mb = int(data.get("free_disk_bytes") or 0) // 1_000_000
    recording = "recording" if data.get("recording") else "not recording"
    warnings = f"; warnings: {'; '.join(map(str, data['warnings']))}" if data.get("warnings") else ""
    return f"{name}: ok, {recording}, {cams or 'no cameras'}, {free_mb} MB free in {data.get('session_dir')}{warnings}"


def record(
    rig: Rig, config: RigConfig, args: argparse.Namespace, stop: threading.Event, summary: dict[str, Any]
) -> None:
    """The take: shared start, heartbeat until the end, stop; fills `summary`."""
    log = sys.stderr
    lead = config.lead_s if args.lead is None else args.lead
    at, started = rig.start_recording(lead_s=lead)
    summary["at"] = at
    _print_results("recording", started, log)
    until = f"for {args.duration:g} s" if args.duration else "until Ctrl+C"
    print(f"rig: recording from {at:.3f} (Unix time) {until}", file=sys.stderr)
    end = time.monotonic() + lead + args.duration if args.duration else None
    lost: dict[str, Any] = summary.setdefault("lost", {})
    while not stop.is_set():
        left = None if end is None else end - time.monotonic()
        if left is not None and left <= 0:
            break
        if stop.wait(config.heartbeat_s if left is None else min(config.heartbeat_s, left)):
            break
        for name, why in rig.check(timeout=config.heartbeat_timeout_s).items():
            lost[name] = {"time_unix": time.time(), "error": why}
            print(f"rig: {name} lost: {why}; the other slaves record on", file=sys.stderr)
        if not rig.live:
            print("rig: no slave is left", file=sys.stderr)
            break
    stopped = rig.stop_recording()
    _print_results("stopped", stopped, log)
    summary["recordings"] = {n: r.as_dict() for n, r in stopped.items()}
    for name, result in stopped.items():
        for rec in result.data.get("recordings", []) if result.ok else []:
            print(
                f"  {name} cam{rec['camera_id']}: {rec['frames']} frames, {rec['hardware_drops']} drops -> {rec['video']}",
                file=log,
            )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m camera_core rig", description=__doc__)
    parser.add_argument("rig_file", help="TOML file listing the slaves (see docs/master_example.md)")
    parser.add_argument("--duration", type=float, default=0.0, help="seconds to record (default: until Ctrl+C)")
    parser.add_argument(
        "--lead", type=float, default=None, help="seconds from now to the shared start (default: lead_s)"
    )
    parser.add_argument(
        "--status-only", action="store_true", help="start the slaves, print their status (one line each), quit"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON summary on stdout at the end")
    parser.add_argument(
        "--max-clock-offset-ms",
        type=float,
        default=None,
        help="do not record when a host's wall clock may be further than this from the true time "
        "(its clock source's offset + estimated error; unknown counts as too far)",
    )
    args = parser.parse_args(argv)
    try:
        config = load_rig(args.rig_file)
    except ValueError as exc:
        print(f"rig: error: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda *_: stop.set())
    summary: dict[str, Any] = {}
    try:
        with Rig(config.slaves) as rig:
            _print_results("ready", rig.start(config.ready_timeout), sys.stderr)
            summary["status"] = rig.status()
            if args.status_only and not args.json:
                for name, entry in summary["status"].items():
                    print(status_line(name, entry))
            if not rig.live:
                print("rig: no slave is running", file=sys.stderr)
                return 1
            clocks = rig.clocks(args.max_clock_offset_ms)
            summary["clocks"] = clocks.as_dict()
            for name, clock in clocks.hosts.items():
                print(f"clock {name}: {describe_clock(clock)}", file=sys.stderr)
            for warning in clocks.warnings:
                print(f"rig: warning: {warning}", file=sys.stderr)
            if clocks.out_of_line:
                print(f"rig: not recording: clocks out of line on {', '.join(clocks.out_of_line)}", file=sys.stderr)
                summary["failures"] = dict(rig.failures)
                if args.json:
                    print(json.dumps(summary, default=str))
                return 1
            if not args.status_only:
                record(rig, config, args, stop, summary)
            summary["failures"] = dict(rig.failures)
    finally:
        signal.signal(signal.SIGINT, previous)
    if args.json:
        print(json.dumps(summary, default=str))
    return 1 if summary.get("failures") else 0
