"""Host health from a fake sysfs/procfs root and a fake vcgencmd: CPU temperature, throttling,
load and memory are read (null where absent), logged periodically, in get_status, and a
health_warning event is published when the host throttles or runs hot."""

from __future__ import annotations

import logging
import stat
import threading
from collections.abc import Callable
from pathlib import Path

from camera_core.config import Settings
from camera_core.events import EventBus
from camera_core.health import HealthMonitor, parse_throttled, read_health
from camera_core.system import CameraSystem
from tests.unattended_support import EventLog


def fake_root(tmp_path: Path, temps: dict[str, int], *, loadavg: str = "0.52 0.40 0.31 1/200 999") -> Path:
    root = tmp_path / "root"
    for n, (kind, millideg) in enumerate(temps.items()):
        zone = root / f"sys/class/thermal/thermal_zone{n}"
        zone.mkdir(parents=True)
        (zone / "type").write_text(kind + "\n")
        (zone / "temp").write_text(f"{millideg}\n")
    (root / "proc").mkdir(parents=True, exist_ok=True)
    (root / "proc/loadavg").write_text(loadavg + "\n")
    (root / "proc/meminfo").write_text("MemTotal:        3884096 kB\nMemFree: 1 kB\nMemAvailable:    2942208 kB\n")
    return root


def fake_vcgencmd(tmp_path: Path, output: str) -> str:
    script = tmp_path / "vcgencmd"
    script.write_text(f'#!/bin/sh\n[ "$1" = get_throttled ] && echo "{output}"\n')
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script)


def test_a_pi_like_host_is_read_in_full(tmp_path: Path) -> None:
    root = fake_root(tmp_path, {"gpu-thermal": 90_000, "cpu-thermal": 61_234})
    reading = read_health(root, fake_vcgencmd(tmp_path, "throttled=0x50005"))
    assert reading.cpu_temp_c == 61.234  # the CPU's zone, not the hottest
    assert reading.throttled_raw == "0x50005"
    assert reading.throttled_now == ("under_voltage", "throttled")
    assert reading.throttled_since_boot == ("under_voltage", "throttled")
    assert (reading.load_1m, reading.load_5m, reading.load_15m) == (0.52, 0.40, 0.31)
    assert reading.memory_total_mb == round(3884096 * 1024 / 1e6, 1)
    assert reading.memory_available_mb == round(2942208 * 1024 / 1e6, 1)
    assert reading.problems(80.0) == {
        "under_voltage": "under_voltage (vcgencmd get_throttled 0x50005)",
        "throttled": "throttled (vcgencmd get_throttled 0x50005)",
    }


def test_a_host_without_sensors_gives_nulls(tmp_path: Path) -> None:
    root = tmp_path / "empty"
    root.mkdir()
    reading = read_health(root, None).as_dict()
    assert {k for k, v in reading.items() if v is not None} == {"time_unix"}
    assert parse_throttled("error=2") is None
    assert read_health(root, str(tmp_path / "no-such-vcgencmd")).throttled_now is None


def test_monitor_warns_when_hot_and_logs_periodically(tmp_path: Path) -> None:
    root = fake_root(tmp_path, {"cpu-thermal": 70_000})
    bus = EventBus()
    events = EventLog(bus)
    lines = LogLines("camera_core.health")
    monitor = HealthMonitor(bus.publish, temp_limit_c=75.0, log_s=0.2, sample_s=0.05, root=root, vcgencmd=None)
    monitor.start()
    try:
        lines.wait_for(lambda found: sum("host health: cpu 70.0 °C" in m for m in found) >= 3)
        assert not events.named("health_warning")
        (root / "sys/class/thermal/thermal_zone0/temp").write_text("82500\n")
        (warning,) = events.wait_for("health_warning", timeout=10)
        assert warning.data["problems"] == ["CPU at 82.5 °C (limit cpu_temp_warn_c 75 °C)"]
        assert warning.data["health"]["cpu_temp_c"] == 82.5
        (root / "sys/class/thermal/thermal_zone0/temp").write_text("83100\n")  # hotter: the same problem
        lines.wait_for(lambda found: any("host health: cpu 83.1 °C" in m for m in found))
        (root / "sys/class/thermal/thermal_zone0/temp").write_text("60000\n")
        lines.wait_for(lambda found: any("back to normal" in m for m in found))
    finally:
        monitor.stop()
        lines.close()
    assert len(events.named("health_warning")) == 1  # once per problem, not every sample


def test_get_status_has_health(small_settings: Callable[..., Settings]) -> None:
    with CameraSystem(small_settings(sim_cameras=1)) as system:
        health = system.status()["health"]
    assert health is not None
    assert health["memory_total_mb"] > 0 and health["load_1m"] is not None  # this Linux host has both
    assert set(health) >= {"cpu_temp_c", "throttled_now", "load_1m", "memory_available_mb"}


class LogLines(logging.Handler):
    """Collects messages of a logger; wait_for blocks until a condition on them holds."""

    def __init__(self, name: str) -> None:
        super().__init__(logging.INFO)
        self.messages: list[str] = []
        self._cond = threading.Condition()
        self._logger = logging.getLogger(name)
        self._old_level = self._logger.level
        self._logger.setLevel(logging.INFO)
        self._logger.addHandler(self)

    def emit(self, record: logging.LogRecord) -> None:
        with self._cond:
            self.messages.append(record.getMessage())
            self._cond.notify_all()

    def wait_for(self, condition: Callable[[list[str]], bool], timeout: float = 10.0) -> None:
        with self._cond:
            assert self._cond.wait_for(lambda: condition(self.messages), timeout), self.messages

    def close(self) -> None:
        self._logger.removeHandler(self)
        self._logger.setLevel(self._old_level)
        super().close()
