"""The sync tools from the command line: blink's timing, clear errors for bad input."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from camera_core.config import Settings
from camera_core.system import CameraSystem
from camera_core.tools.blink import run
from camera_core.tools.synccheck import main as synccheck
from tests.conftest import wait_for_frames


def test_blink_flashes_on_the_wall_clock() -> None:
    edges: list[tuple[bool, float]] = []
    late = run(lambda on: edges.append((on, time.time())), 0.1, 0.03, 3, threading.Event())
    assert len(late) == 3 and all(0 <= v < 20_000 for v in late)
    rising = [t for on, t in edges if on]
    falling = [t for on, t in edges[:-1] if not on]  # the last write is the final "off"
    assert len(rising) == 3
    for t in rising:
        assert (t % 0.1) < 0.02 or (t % 0.1) > 0.099  # at the start of a period of the wall clock
    for up, down in zip(rising, falling, strict=True):
        assert down - up == pytest.approx(0.03, abs=0.02)


def test_blink_without_gpio_library_says_what_to_install() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "camera_core", "blink", "--flashes", "1"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2 and "lgpio" in done.stderr and "Traceback" not in done.stderr
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "camera_core",
            "blink",
            "--dry-run",
            "--flashes",
            "2",
            "--period-s",
            "0.1",
            "--on-ms",
            "20",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0 and done.stdout.startswith("blink: 2 flashes")


def test_synccheck_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert synccheck([str(tmp_path / "nope")]) == 2
    assert "not a folder" in capsys.readouterr().err
    assert synccheck([str(tmp_path)]) == 2
    assert "no timing CSVs" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        synccheck([str(tmp_path), "--region", "1,2,3"])
    assert "expected X,Y,W,H" in capsys.readouterr().err


def test_synccheck_without_an_led_says_so(
    small_settings: Callable[..., Settings], capsys: pytest.CaptureFixture[str]
) -> None:
    settings = small_settings(resolution_preset=7, sim_cameras=1, min_free_space_mb=0, stop_free_space_mb=0)
    with CameraSystem(settings) as system:
        system.start_recording()
        wait_for_frames(system, 20)
        system.stop_recording()
        assert system.session is not None
        session = system.session.directory
    assert synccheck([str(session)]) == 2
    out = capsys.readouterr().out
    assert "no LED found" in out and "--region" in out


def test_only_a_patch_that_flashes_like_an_led_is_taken_for_one() -> None:
    from camera_core.tools.synccheck import flashes

    led = np.array([86, 235, 235, 165, *[16] * 11, 86, 235, 235, 165, *[16] * 6], dtype=float)
    assert flashes(led)  # starts partly lit; off at 16 between flashes
    step = np.array([91] * 14 + [108.5] + [126] * 5, dtype=float)
    assert not flashes(step)  # an edge of the scene moving across the patch
    stripes = np.array([91] * 8 + [108.5] + [126] * 7 + [58] * 4, dtype=float)
    assert not flashes(stripes)  # up, then down to another level: not an LED
