"""The real-picamera2 tier is chosen explicitly: ignored by a plain `pytest`, and when chosen without its
kit every test fails with what is missing (never skipped)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_pytest(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("CAMERA_CORE_REAL_PICAMERA2", "PC2_KIT")}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:randomly", "-p", "no:cacheprovider", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**clean, **env},
    )


def test_a_plain_run_does_not_collect_the_real_tier() -> None:
    done = run_pytest("--collect-only", "-q")
    assert done.returncode == 0, done.stdout[-2000:]
    assert "test_real_" not in done.stdout  # nothing of tests/real_picamera2 is collected
    assert "tests/test_picamera2_backend.py" in done.stdout


def test_the_real_tier_without_its_kit_fails_saying_what_is_missing() -> None:
    done = run_pytest("tests/real_picamera2/test_real_cameras.py", "-q", CAMERA_CORE_REAL_PICAMERA2="1")
    assert done.returncode == 1, done.stdout[-2000:]
    assert "no real-picamera2 kit: PC2_KIT=''" in done.stdout
    summary = done.stdout.strip().splitlines()[-1]
    assert summary.startswith("2 errors in") and "skipped" not in summary, summary  # both tests, none skipped
