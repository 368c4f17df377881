"""Rig files name a `host` and the rig builds the ssh command itself: a host can never become an
ssh option (`-oProxyCommand=...` is refused before anything runs); the ssh command has BatchMode,
a connect timeout and keep-alives; `prefix` stays the expert form. During a take a slave that
exits or stops answering is reported within seconds while the others record on."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from slave_support import FAST, ROOT, assert_recordings_intact, session_dir
from test_client import loopback_sshd  # noqa: F401 (the fixture)

from camera_core.client.launch import local_slave_argv
from camera_core.client.rig import Rig, SlaveSpec, load_rig


def write_rig(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rig.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    "host", ["-oProxyCommand=touch {marker}", "-F/dev/null", "pi@cam l", "", "pi@cam\\nl"], ids=str
)
def test_a_host_that_ssh_would_read_as_an_option_is_refused(tmp_path: Path, host: str) -> None:
    marker = tmp_path / "pwned"
    rig_file = write_rig(tmp_path, f'[[slave]]\nname = "evil"\nhost = "{host.format(marker=marker)}"\n')
    done = subprocess.run(
        [sys.executable, "-m", "camera_core", "rig", str(rig_file), "--status-only"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert f"rig: error: {rig_file}: slave 1: host " in done.stderr
    assert "must" in done.stderr
    assert not marker.exists()


def test_host_entries_become_a_fixed_ssh_command(tmp_path: Path) -> None:
    rig_file = write_rig(
        tmp_path,
        "connect_timeout_s = 7\n"
        '[[slave]]\nname = "l"\nhost = "pi@cam-l"\nremote = "cd ~/camera_core && uv run main_camera.py --mode slave"\n'
        '[[slave]]\nname = "r"\nhost = "cam-r"\nport = 2222\nidentity_file = "/keys/id"\nargs = ["--backend", "sim"]\n'
        '[[slave]]\nname = "x"\nprefix = ["ssh", "-T", "-J", "jump", "pi@cam-x"]\n',
    )
    left, right, expert = load_rig(rig_file).slaves
    ssh = ["ssh", "-T", "-o", "BatchMode=yes", "-o", "ConnectTimeout=7"]
    ssh += ["-o", "ServerAliveInterval=5", "-o", "ServerAliveCountMax=3"]
    assert left.argv == [*ssh, "--", "pi@cam-l", "cd ~/camera_core && uv run main_camera.py --mode slave"]
    assert right.argv == [
        *ssh,
        "-p",
        "2222",
        "-i",
        "/keys/id",
        "--",
        "cam-r",
        "uv run main_camera.py --mode slave --backend sim",
    ]
    assert expert.argv == ["ssh", "-T", "-J", "jump", "pi@cam-x", "uv run main_camera.py --mode slave"]


@pytest.mark.parametrize(
    ("entry", "fragment"),
    [
        ('host = "a"\nprefix = ["ssh", "a"]', "either host or prefix"),
        ('host = "a"\nport = 0', "port = 0; allowed: a whole number from 1 to 65535"),
        ('host = "a"\nssh_options = ["-oProxyCommand"]', "ssh_options must be a list of 'Key=Value'"),
        ('prefix = ["ssh", "a"]\nport = 22', "port needs host"),
        ('hots = "a"', "unknown keys ['hots']"),
    ],
)
def test_bad_slave_entries_are_clear_errors(tmp_path: Path, entry: str, fragment: str) -> None:
    with pytest.raises(ValueError, match="slave 1") as caught:
        load_rig(write_rig(tmp_path, f"[[slave]]\n{entry}\n"))
    assert fragment in str(caught.value)


def test_a_rig_slave_by_host_through_a_real_sshd(tmp_path: Path, loopback_sshd: list[str]) -> None:  # noqa: F811
    key = loopback_sshd[loopback_sshd.index("-i") + 1]
    port = loopback_sshd[loopback_sshd.index("-p") + 1]
    remote = f"cd {shlex.quote(str(ROOT))} && exec {shlex.quote(sys.executable)} main_camera.py --mode slave"
    args = json.dumps([*FAST, "--sim-cameras", "1", "--output-dir", str(tmp_path / "rec")])
    rig_file = write_rig(
        tmp_path,
        f'args = {args}\n[[slave]]\nname = "pi"\nhost = "127.0.0.1"\nport = {port}\nidentity_file = "{key}"\n'
        f"remote = {json.dumps(remote)}\n"
        'ssh_options = ["StrictHostKeyChecking=no", "UserKnownHostsFile=/dev/null", "LogLevel=ERROR"]\n',
    )
    (spec,) = load_rig(rig_file).slaves
    assert spec.argv[:2] == ["ssh", "-T"] and spec.argv[-3] == "--"
    with Rig([spec]) as rig:
        assert rig.start(ready_timeout=60)["pi"].ok
        rig.command("subscribe", events=["recording_first_frame"])
        rig.start_recording(lead_s=0.0)
        rig.clients["pi"].wait_event("recording_first_frame", timeout=30)
        assert rig.check(timeout=5.0) == {}
        stopped = rig.stop_recording()
        assert stopped["pi"].ok
    assert_recordings_intact(session_dir(tmp_path / "rec"), expected_videos=1)


def _spec(name: str, out: Path, *extra: str) -> SlaveSpec:
    return SlaveSpec(name, local_slave_argv([*FAST, "--sim-cameras", "1", "--output-dir", str(out), *extra]))


def test_check_notices_a_slave_that_stops_answering_or_exits(tmp_path: Path) -> None:
    with Rig([_spec("a", tmp_path / "a"), _spec("b", tmp_path / "b"), _spec("c", tmp_path / "c")]) as rig:
        assert all(r.ok for r in rig.start().values())
        rig.start_recording(lead_s=0.0)
        assert rig.check(timeout=5.0) == {}
        frozen = rig.clients["b"].proc.pid
        os.kill(frozen, signal.SIGSTOP)  # a hung host: the process is there but says nothing
        rig.clients["c"].kill()
        try:
            started = time.monotonic()
            lost = rig.check(timeout=1.0)
            assert time.monotonic() - started < 5.0
        finally:
            os.kill(frozen, signal.SIGCONT)
        assert set(lost) == {"b", "c"}
        assert lost["b"] == "no answer within 1 s (host down or slave hung)"
        assert "exited with code -9" in lost["c"]
        assert rig.live == ["a"]
        status = rig.status()
        assert status["a"]["ok"] and status["a"]["data"]["recording"]
        assert not status["b"]["ok"] and not status["c"]["ok"]
        stopped = rig.stop_recording()
        assert list(stopped) == ["a"] and stopped["a"].ok
    assert_recordings_intact(session_dir(tmp_path / "a"), expected_videos=1)


def test_rig_cli_reports_a_slave_lost_during_the_take_at_once(tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = json.dumps([*FAST, "--sim-cameras", "1", "--output-dir", str(out)])
    rig_file = write_rig(
        tmp_path,
        f'lead_s = 0.2\nheartbeat_s = 0.5\nargs = {args}\n[[slave]]\nname = "stays"\n'
        '[[slave]]\nname = "dies"\nargs = ["--duration", "2"]\n',
    )
    done = subprocess.run(
        [sys.executable, "-m", "camera_core", "rig", str(rig_file), "--duration", "6", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr
    summary = json.loads(done.stdout)
    assert set(summary["lost"]) == {"dies"} and set(summary["failures"]) == {"dies"}
    # noticed during the take (the slave exits about 2 s after it started), not at its end (at + 6 s)
    assert summary["lost"]["dies"]["time_unix"] < summary["at"] + 4.5
    assert "rig: dies lost: slave dies exited with code 0" in done.stderr
    assert summary["recordings"]["stays"]["ok"]
    (rec,) = summary["recordings"]["stays"]["data"]["recordings"]
    assert rec["duration_s"] > 5.0  # the other slave recorded on for the whole take
