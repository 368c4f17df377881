"""No line ends the slave: 10,000 fuzzed command lines, huge integers in every numeric field
included, get exactly 10,000 replies from one slave process, which then still answers and quits 0."""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from slave_support import RawSlave, slave_cmd, validate

from camera_core.config import Settings
from camera_core.errors import InvalidArgumentError
from camera_core.system import CameraSystem

COMMANDS = [
    "start_recording",
    "stop_recording",
    "take_snapshot",
    "get_status",
    "toggle_preview",
    "subscribe",
    "self_test",
]
HUGE = [10**400, -(10**400), 2**1024, 2**1023 + 1, 10**308 * 10, 2**64]


def numbers(rng: random.Random) -> object:
    return rng.choice(
        [
            rng.choice(HUGE),
            rng.randint(-(2**70), 2**70),
            rng.random() * 10 ** rng.randint(-5, 300),
            1e300,
            1e18,
            -1.5,
            0,
            time.time() + rng.choice([-2e5, 2e5, 1e9]),
        ]
    )


def fuzz_line(rng: random.Random) -> bytes:
    """One line: mostly commands with hostile values in id/at/camera_id/seconds, some garbage."""
    kind = rng.random()
    if kind < 0.1:
        return (
            bytes(rng.randrange(1, 256) for _ in range(rng.randint(1, 40)))
            .replace(b"\n", b"x")
            .replace(b"\r", b"x")
            .strip()
            or b"x"
        )
    command = rng.choice(COMMANDS)
    message: dict[str, object] = {"command": command}
    if rng.random() < 0.7:
        message["id"] = numbers(rng) if rng.random() < 0.8 else "x" * rng.choice([1, 300])
    for key in ("at", "camera_id", "seconds", "enabled"):
        if rng.random() < 0.4:
            message[key] = numbers(rng)
    if command not in ("get_status", "stop_recording", "subscribe"):  # keep the run fast: no real takes
        message["id"] = rng.choice(HUGE)
    text = json.dumps(message)
    if kind < 0.15:
        text = text.replace('"command"', '"command": 1e99999, "c"', 1)  # an infinite float
    return text.encode()


def test_ten_thousand_fuzzed_lines_get_ten_thousand_replies(tmp_path: Path) -> None:
    rng = random.Random(12)
    lines = [fuzz_line(rng) for _ in range(10_000)]
    with RawSlave(slave_cmd(tmp_path, "--sim-cameras", "1")) as slave:
        assert slave.request("get_status", id="ready")["status"] == "status_report"

        def feed() -> None:
            for line in lines:
                slave.send(line + b"\n")

        feeder = threading.Thread(target=feed, daemon=True)
        feeder.start()
        replies = []
        while len(replies) < len(lines):  # raw lines: schema-checking 10,000 would dominate the run
            raw = slave.lines.get(timeout=60)
            assert raw is not None, "the slave ended"
            message = json.loads(raw)
            if message["type"] == "status" and message["status"] != "preview_frame":
                replies.append(message)
        for message in replies[::500]:
            validate(message)
        feeder.join(timeout=30)
        assert not feeder.is_alive(), "the slave stopped reading lines"
        assert all(r["status"] != "error" or r["data"]["code"] != "INTERNAL_ERROR" for r in replies), [
            r["data"] for r in replies if r["status"] == "error" and r["data"]["code"] == "INTERNAL_ERROR"
        ][:3]
        assert slave.request("get_status", id="alive")["id"] == "alive"
        assert slave.request("quit", id="bye")["status"] == "shutdown"
        assert slave.close() == 0


@pytest.mark.parametrize("at", [10**400, 1e300, 1e18, -5.0, float("nan"), time.time() - 3 * 86400])
def test_library_start_at_outside_a_day_is_invalid(small_settings: Callable[..., Settings], at: float) -> None:
    with CameraSystem(small_settings(sim_cameras=1)) as system:
        with pytest.raises(InvalidArgumentError) as caught:
            system.start_recording(at=at)
        assert caught.value.code == "INVALID_ARGUMENT" and "'at'" in str(caught.value)
        assert not system.is_recording
