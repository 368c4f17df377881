"""The issue's rig: three slaves over ssh on loopback (a real sshd), one sync server and two
clients, one client's host with a wall clock 2 ms fast. Frames start in sync by timestamps,
`synccheck` shows the 2 ms and names that host, each manifest holds its host's clock state (real
chrony), and `align` pairs every frame."""

from __future__ import annotations

import csv
import io
import json
import shlex
import sys
from pathlib import Path

import pytest
from slave_support import session_dir

from camera_core.client.launch import slave_argv
from camera_core.client.rig import Rig, SlaveSpec
from camera_core.tools.align import main as align
from camera_core.tools.synccheck import main as synccheck
from tests.sync_support import free_udp_port, timing_rows
from tests.test_client import ROOT, loopback_sshd
from tests.test_sync_clocks import Chrony, chrony

__all__ = ["chrony", "loopback_sshd"]  # fixtures, imported for pytest

HOSTS = {"server": ("server", 0.0), "client-a": ("client", 0.0), "client-b": ("client", 2000.0)}


def test_three_hosts_sync_and_the_led_finds_the_wrong_clock(
    tmp_path: Path, loopback_sshd: list[str], chrony: Chrony, capsys: pytest.CaptureFixture[str]
) -> None:
    chrony.start_server()
    chrony.start_client()
    chrony.wait_until_answering()
    chrony.wait_synchronised()
    config = tmp_path / "sync.txt"
    config.write_text(
        f"sync_port = {free_udp_port()}\nsync_frames = 30\nsync_period_frames = 10\n"
        "sim_led_period_s = 0.5\nsim_led_on_ms = 100\nmin_free_space_mb = 0\nstop_free_space_mb = 0\n"
    )
    remote = f"cd {shlex.quote(str(ROOT))} && exec {shlex.quote(sys.executable)} main_camera.py --mode slave"
    specs = []
    for name, (role, clock_error_us) in HOSTS.items():
        args = [
            *("--config", str(config), "--backend", "sim", "--resolution", "7", "--sim-cameras", "1", "--no-mp4"),
            *("--sync-role", role, "--sim-clock-offset-us", str(clock_error_us), "--sim-led"),
            *("--chronyc-host", chrony.socket, "--output-dir", str(tmp_path / name), "--log-level", "info"),
        ]
        specs.append(SlaveSpec(name, slave_argv(args, prefix=loopback_sshd, remote=remote)))
    with Rig(specs) as rig:
        ready = rig.start(ready_timeout=120)
        assert all(r.ok for r in ready.values()), ready
        clocks = rig.clocks(max_offset_ms=5.0)
        rig.command("subscribe", events=["recording_first_frame"])
        _, started = rig.start_recording(lead_s=2.0)
        assert all(r.ok for r in started.values()), started
        for name in HOSTS:
            rig.clients[name].wait_event("recording_first_frame", timeout=60)
        status = rig.status()
        server = rig.clients["server"]
        server.toggle_preview(camera_id=0, enabled=True)  # frames as they come: record 4 s of them
        first_ns = None
        for preview in server.previews(timeout=30):
            first_ns = first_ns or preview.sensor_timestamp_ns
            if preview.sensor_timestamp_ns - first_ns >= 4_000_000_000:
                break
        server.toggle_preview(camera_id=0, enabled=False)
        stopped = rig.stop_recording()
        assert all(r.ok for r in stopped.values()), stopped
    assert clocks.out_of_line == [] and set(clocks.hosts) == set(HOSTS)
    assert all(c["source"] == "chrony" for c in clocks.hosts.values())
    roles = {name: status[name]["data"]["cameras"][0]["sync_role"] for name in HOSTS}
    assert roles == {"server": "server", "client-a": "client", "client-b": "client"}

    folders = {name: session_dir(tmp_path / name) for name in HOSTS}
    rows = {name: timing_rows(folder)[0] for name, folder in folders.items()}
    first = {name: int(r[0]["wall_clock_ns"]) for name, r in rows.items()}
    for name in HOSTS:  # frames start in sync by their timestamps
        assert abs(first[name] - first["server"]) <= 100_000, first
        assert all(r["sync_ready"] == "1" for r in rows[name])
        manifest = json.loads((folders[name] / "manifest.json").read_text())
        assert manifest["clocks"]["start"]["source"] == "chrony" and "stop" in manifest["clocks"]

    args = [f"{name}={folder}" for name, folder in folders.items()]
    capsys.readouterr()
    assert synccheck([*args, "--json"]) == 0
    report = {c["host"]: c for c in json.loads(capsys.readouterr().out)["cameras"]}
    assert abs(report["client-a"]["led_offset_us"]) <= 100 and abs(report["client-a"]["clock_error_us"]) <= 100
    assert report["client-b"]["clock_error_us"] == pytest.approx(2000, abs=200)
    assert report["client-b"]["led_offset_us"] == pytest.approx(-2000, abs=200)  # exposed 2 ms early
    assert abs(report["client-b"]["timestamp_offset_us"]) <= 100  # which no timestamp shows
    assert synccheck(args) == 0
    text = capsys.readouterr().out
    errors = [line for line in text.splitlines() if line.startswith("CLOCK ERROR")]
    assert len(errors) == 1 and errors[0].startswith("CLOCK ERROR: client-b: its wall clock is ")  # named
    shown_ms = float(errors[0].split(" is ")[1].split(" ms ahead of server's")[0])
    assert shown_ms == pytest.approx(2.0, abs=0.2)

    assert align(args) == 0
    table = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    columns = [f"{name}/cam0" for name in HOSTS]
    complete = [all(r[c] != "" for c in columns) for r in table]
    assert complete[0]  # the same first frame everywhere
    ragged_end = complete[::-1].index(True)  # hosts stop a frame or two apart
    assert all(complete[: len(complete) - ragged_end]) and ragged_end <= 3
    for name, column in zip(HOSTS, columns, strict=True):
        assert [int(r[column]) for r in table if r[column] != ""] == list(range(len(rows[name])))
