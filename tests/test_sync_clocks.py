"""Each host's wall clock with real chrony: a chronyd serving NTP on loopback and a second chronyd
(its client) that never touches the system clock (-x), each with its own config, pid and command
socket in a temporary folder; chronyc reads the client's state as camera_core does on a host."""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from camera_core.client.launch import local_slave_argv
from camera_core.client.rig import Rig, SlaveSpec
from camera_core.config import Settings
from camera_core.sync.clocks import check_rig_clocks, clock_state, parse_chrony_tracking
from camera_core.system import CameraSystem
from tests.sync_support import free_udp_port

CHRONYD = shutil.which("chronyd") or "/usr/sbin/chronyd"
SLAVE = ["--backend", "sim", "--resolution", "7", "--sim-cameras", "1", "--log-level", "warning"]


@dataclass
class Chrony:
    """A loopback NTP server chronyd and a client chronyd; `socket` is the client's command socket."""

    folder: Path
    port: int
    processes: list[subprocess.Popen[bytes]]

    @property
    def socket(self) -> str:
        return str(self.folder / "client.sock")

    def start(self, role: str, config: str) -> None:
        path = self.folder / f"{role}.conf"
        path.write_text(config)
        log = (self.folder / f"{role}.log").open("wb")
        # -x: never touch the system clock; -d: stay in the foreground; -u root: no privilege drop.
        self.processes.append(
            subprocess.Popen([CHRONYD, "-x", "-d", "-u", "root", "-f", str(path)], stdout=log, stderr=log)
        )

    def start_server(self) -> None:
        self.start(
            "server",
            f"local stratum 8\nallow 127.0.0.1\nbindaddress 127.0.0.1\nport {self.port}\ncmdport 0\n"
            f"bindcmdaddress {self.folder}/server.sock\npidfile {self.folder}/server.pid\n",
        )

    def start_client(self) -> None:
        self.start(
            "client",
            f"server 127.0.0.1 port {self.port} iburst minpoll -4 maxpoll -4\nport 0\ncmdport 0\n"
            f"bindcmdaddress {self.socket}\npidfile {self.folder}/client.pid\n",
        )

    def chronyc(self, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["chronyc", "-h", self.socket, *args], capture_output=True, text=True, timeout=timeout)

    def wait_until_answering(self, timeout: float = 10.0) -> None:
        """Until chronyd's command socket answers (chronyd has no readiness signal): between tries,
        wait on the process itself, so a chronyd that dies ends the wait at once."""
        deadline = time.monotonic() + timeout
        while self.chronyc("-c", "tracking").returncode != 0:
            assert time.monotonic() < deadline, f"chronyd gave no answer: {(self.folder / 'client.log').read_text()}"
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.processes[-1].wait(0.05)
                raise AssertionError(f"chronyd ended: {(self.folder / 'client.log').read_text()}")

    def wait_synchronised(self) -> None:
        """chronyc's own bounded wait: up to 100 tries 0.1 s apart until the client is synchronised."""
        done = self.chronyc("waitsync", "100", "0", "0", "0.1")
        assert done.returncode == 0, f"{done.stdout}{done.stderr}{(self.folder / 'client.log').read_text()}"


@pytest.fixture
def chrony(tmp_path: Path) -> Iterator[Chrony]:
    assert Path(CHRONYD).exists(), "chrony is not installed (apt-get install chrony); .ci/run installs it"
    folder = tmp_path / "chrony"
    folder.mkdir(mode=0o700)
    pair = Chrony(folder, free_udp_port(), [])
    try:
        yield pair
    finally:
        for proc in pair.processes:
            proc.terminate()
        for proc in pair.processes:
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


def test_an_unsynchronised_then_synchronised_chrony_client(chrony: Chrony) -> None:
    chrony.start_client()  # no server yet
    chrony.wait_until_answering()
    before = clock_state(chrony.socket)
    assert before.source == "chrony" and before.synchronised is False
    assert "Not synchronised" in before.detail
    chrony.start_server()
    chrony.wait_synchronised()
    state = clock_state(chrony.socket)
    assert state.source == "chrony" and state.synchronised is True
    assert state.reference == "127.0.0.1" and state.stratum == 9  # one below the local stratum-8 server
    assert state.offset_us is not None and abs(state.offset_us) < 1000  # one clock, served to itself
    assert state.error_us is not None and state.error_us >= abs(state.offset_us)
    realtime_minus_boot = time.clock_gettime_ns(time.CLOCK_REALTIME) - time.clock_gettime_ns(time.CLOCK_BOOTTIME)
    assert abs(state.boot_to_wall_ns - realtime_minus_boot) < 5_000_000
    assert 0 <= state.boot_to_wall_uncertainty_ns < 1_000_000


def test_status_and_manifest_hold_the_clock(chrony: Chrony, tmp_path: Path) -> None:
    chrony.start_server()
    chrony.start_client()
    chrony.wait_until_answering()
    chrony.wait_synchronised()
    settings = Settings(
        camera_backend="sim",
        output_dir=str(tmp_path / "rec"),
        resolution_preset=7,
        sim_cameras=1,
        show_preview=False,
        clock_chronyc_host=chrony.socket,
    )
    with CameraSystem(settings) as system:
        status = system.status()
        assert system.session is not None
        manifest_path = system.session.manifest_path
    assert status["clock"]["source"] == "chrony" and status["clock"]["synchronised"] is True
    clocks = json.loads(manifest_path.read_text())["clocks"]
    assert set(clocks) == {"start", "stop"}
    for state in clocks.values():
        assert state["source"] == "chrony" and state["reference"] == "127.0.0.1"
        assert "bracketed" in state["boot_to_wall_method"]
    assert clocks["stop"]["measured_at_unix"] >= clocks["start"]["measured_at_unix"]


def test_unknown_clock_says_why(tmp_path: Path) -> None:
    state = clock_state(str(tmp_path / "no-such.sock"))
    assert state.source == "unknown" and state.offset_us is None
    assert "chronyc" in state.detail


def test_rig_aggregates_clocks_and_refuses_out_of_line_hosts(chrony: Chrony, tmp_path: Path) -> None:
    chrony.start_server()
    chrony.start_client()
    chrony.wait_until_answering()
    chrony.wait_synchronised()
    specs = [
        SlaveSpec(
            "timed", local_slave_argv([*SLAVE, "--output-dir", str(tmp_path / "a"), "--chronyc-host", chrony.socket])
        ),
        SlaveSpec(
            "untimed",
            local_slave_argv([*SLAVE, "--output-dir", str(tmp_path / "b"), "--chronyc-host", "/nonexistent.sock"]),
        ),
    ]
    with Rig(specs) as rig:
        assert all(r.ok for r in rig.start(60).values())
        relaxed = rig.clocks()
        strict = rig.clocks(max_offset_ms=5.0)
        timed_only = check_rig_clocks({"timed": rig.status()["timed"]["data"]}, max_offset_ms=5.0)
        tiny = check_rig_clocks({"timed": rig.status()["timed"]["data"]}, max_offset_ms=1e-6)
    assert relaxed.hosts["timed"]["source"] == "chrony" and relaxed.hosts["untimed"]["source"] == "unknown"
    assert any(w.startswith("untimed: wall clock source unknown") for w in relaxed.warnings)
    assert relaxed.out_of_line == []  # without a limit: warned, not refused
    assert strict.out_of_line == ["untimed"]
    assert timed_only.out_of_line == [] and timed_only.warnings == []
    assert tiny.out_of_line == ["timed"]  # chrony's error bound (root dispersion) is never zero
    assert "over --max-clock-offset-ms" in tiny.warnings[0]


def test_parse_rejects_what_is_not_chronyc_output() -> None:
    with pytest.raises(ValueError, match="unexpected chronyc tracking output"):
        parse_chrony_tracking("506 Cannot talk to daemon")


def test_rig_cli_refuses_to_record_with_clocks_out_of_line(tmp_path: Path) -> None:
    rig_file = tmp_path / "rig.toml"
    args = json.dumps([*SLAVE, "--output-dir", str(tmp_path / "out"), "--chronyc-host", str(tmp_path / "none.sock")])
    rig_file.write_text(f'args = {args}\n[[slave]]\nname = "one"\n[[slave]]\nname = "two"\n')
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "camera_core",
            "rig",
            str(rig_file),
            "--duration",
            "0.5",
            "--max-clock-offset-ms",
            "5",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr
    assert "clock one: unknown (chronyc:" in done.stderr
    assert "rig: not recording: clocks out of line on one, two" in done.stderr
    summary = json.loads(done.stdout)
    assert summary["clocks"]["out_of_line"] == ["one", "two"] and "recordings" not in summary
    assert not list((tmp_path / "out").glob("*/*.h264"))  # nothing was recorded
