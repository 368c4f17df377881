"""quit, SIGINT, SIGTERM and end of stdin mid-recording each leave complete files (exit 0, manifest
complete, every file = its rows). benchmarks/stop_paths.py runs 20 of these; here one of each."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT


def test_each_way_of_stopping_leaves_complete_files() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "stop_paths.py"), "--runs", "4"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    for way in ("quit", "SIGINT", "SIGTERM", "eof"):
        assert any(line.split()[2] == way and line.endswith("complete") for line in done.stdout.splitlines()[:4])
    assert "4/4 runs left complete files" in done.stdout
