"""Helpers of the sync tests: a free UDP port for the sync messages, the truth the sim knows."""

from __future__ import annotations

import csv
import socket
from pathlib import Path

import numpy as np


def free_udp_port() -> int:
    """A UDP port nothing on this machine uses now (each test syncs on its own port)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def timing_rows(folder: Path) -> dict[int, list[dict[str, str]]]:
    """Every camera's timing rows in a session folder, by camera number (one take)."""
    out: dict[int, list[dict[str, str]]] = {}
    for path in sorted(folder.glob("cam*_frame_timing.csv")):
        cam = int(path.name[3 : path.name.index("_")])
        with path.open(newline="") as f:
            out.setdefault(cam, []).extend(csv.DictReader(f))
    return out


def true_offset_us(rows: list[dict[str, str]], ref_rows: list[dict[str, str]]) -> float:
    """The true exposure offset of two sim cameras of one host: their sensor timestamps are the true
    exposure starts on the shared CLOCK_BOOTTIME (median over frames paired by that clock)."""
    ref = np.array(sorted(int(r["sensor_timestamp_ns"]) for r in ref_rows))
    mine = np.array([int(r["sensor_timestamp_ns"]) for r in rows])
    idx = np.clip(np.searchsorted(ref, mine), 1, len(ref) - 1)
    nearest = np.where(mine - ref[idx - 1] <= ref[idx] - mine, ref[idx - 1], ref[idx])
    return float(np.median(mine - nearest)) / 1000
