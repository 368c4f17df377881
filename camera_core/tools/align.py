"""`python -m camera_core align SESSION...`: one row per instant with every camera's frame number,
empty where a camera has no frame for it, matched by wall clock within half a frame period. What
3-D pose tools (anipose, DeepLabCut) need to pair frames across cameras and hosts.

The instants are the first camera's frames, the frames it dropped (filled in one period apart) and,
before its first and after its last frame, one period steps while other cameras have frames there.
Every other camera's frame goes to the nearest instant when it is within half a period.
Frame numbers are positions in each video file; a take split into segments gets a file column.
"""

from __future__ import annotations

import argparse
import csv
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import numpy as np

from camera_core.tools.sync_sessions import CameraTake, SessionError, load_takes


@dataclass(slots=True)
class Alignment:
    labels: list[str]
    instants_ns: list[int]
    #: per camera: instant index -> (frame number, file name)
    cells: list[dict[int, tuple[int, str]]]
    multi_file: list[bool]
    #: per camera: frames left out (no instant within half a period, or a second frame for one instant)
    unplaced: list[int] = field(default_factory=list)


def _period_ns(take: CameraTake) -> float:
    durations = [float(r["frame_duration_us"]) for r in take.rows if r.get("frame_duration_us")]
    if durations:
        return float(np.median(durations)) * 1000
    times = take.wall_ns()
    return float(np.median(np.diff(times))) if len(times) > 1 else 1e9


def _files(take: CameraTake) -> list[str]:
    """The video file of each row (a new file starts where frame_number goes back to 0)."""
    names, index = [], -1
    for row in take.rows:
        if int(row["frame_number"]) == 0:
            index += 1
        names.append(take.videos[min(max(index, 0), len(take.videos) - 1)].name)
    return names


def reference_instants(ref: CameraTake, period: float, base: int) -> list[float]:
    """The first camera's frame times (ns after `base`) with its dropped frames filled in."""
    out: list[float] = []
    for t, row in zip((t - base for t in ref.wall_ns()), ref.rows, strict=True):
        dropped = int(row.get("dropped_since_last") or 0)
        if out and dropped:
            last = out[-1]
            out.extend(last + (j + 1) * period for j in range(dropped) if last + (j + 1.5) * period < t)
        out.append(float(t))
    return out


def align(takes: list[CameraTake]) -> Alignment:
    ref = takes[0]
    period = _period_ns(ref)
    if not ref.rows:
        raise SessionError(f"{ref.label}: no frames")
    base = ref.wall_ns()[0]  # times relative to it: float64 keeps them exact to the ns
    grid = reference_instants(ref, period, base)
    everyone = [t - base for take in takes for t in take.wall_ns()]
    before = []
    t = grid[0] - period
    while everyone and t > min(everyone) - period / 2:
        before.append(t)
        t -= period
    after = []
    t = grid[-1] + period
    while everyone and t < max(everyone) + period / 2:
        after.append(t)
        t += period
    instants = np.array([*reversed(before), *grid, *after])
    cells: list[dict[int, tuple[int, str]]] = []
    unplaced: list[int] = []
    for take in takes:
        placed: dict[int, tuple[int, str]] = {}
        distance: dict[int, float] = {}
        missed = 0
        for t, row, name in zip((t - base for t in take.wall_ns()), take.rows, _files(take), strict=True):
            i = int(np.argmin(np.abs(instants - t)))
            d = abs(instants[i] - t)
            if d >= period / 2:
                missed += 1
                continue
            if i in placed:
                missed += 1
                if d >= distance[i]:
                    continue
            placed[i], distance[i] = (int(row["frame_number"]), name), d
        cells.append(placed)
        unplaced.append(missed)
    used = sorted({i for placed in cells for i in placed})
    remap = {old: new for new, old in enumerate(used)}
    return Alignment(
        labels=[t.label for t in takes],
        instants_ns=[base + round(instants[i]) for i in used],
        cells=[{remap[i]: v for i, v in placed.items()} for placed in cells],
        multi_file=[len(t.videos) > 1 for t in takes],
        unplaced=unplaced,
    )


def write_csv(result: Alignment, out: TextIO) -> None:
    header = ["instant", "wall_clock_ns"]
    for label, multi in zip(result.labels, result.multi_file, strict=True):
        header.append(label)
        if multi:
            header.append(f"{label} file")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for i, t in enumerate(result.instants_ns):
        row: list[object] = [i, t]
        for cells, multi in zip(result.cells, result.multi_file, strict=True):
            number, name = cells.get(i, ("", ""))
            row.append(number)
            if multi:
                row.append(name)
        writer.writerow(row)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m camera_core align",
        description="One row per instant with every camera's frame number (empty where it has none), "
        "matched by wall clock within half a frame period.",
    )
    parser.add_argument("sessions", nargs="+", metavar="SESSION", help="session folders, optionally NAME=FOLDER")
    parser.add_argument("-o", "--output", type=Path, help="write the CSV here (default: standard output)")
    parser.add_argument("--take", help="the take stamp YYYYMMDD_HHMMSS to use (default: each camera's latest)")
    args = parser.parse_args(argv)
    try:
        result = align(load_takes(args.sessions, args.take))
    except SessionError as exc:
        print(f"align: {exc}", file=sys.stderr)
        return 2
    if args.output is not None:
        with args.output.open("w", newline="") as f:
            write_csv(result, f)
    else:
        try:
            write_csv(result, sys.stdout)
            sys.stdout.flush()
        except BrokenPipeError:  # e.g. piped into head
            return 0
    for label, cells, missed in zip(result.labels, result.cells, result.unplaced, strict=True):
        print(
            f"align: {label}: {len(cells)} of {len(result.instants_ns)} instants"
            + (f", {missed} frame(s) not placed (no instant within half a period)" if missed else ""),
            file=sys.stderr,
        )
    return 0
