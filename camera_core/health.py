"""Host health for unattended runs: CPU temperature and throttling (Raspberry Pi: thermal zones in
sysfs and `vcgencmd get_throttled`; null where absent), CPU load and memory. Read from a root
folder (normally /) so tests can supply a fake sysfs; a monitor thread logs it every minute and
publishes `health_warning` when the host throttles or runs hotter than the limit."""

from __future__ import annotations

import dataclasses
import logging
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from camera_core.events import HealthWarning, Publish

log = logging.getLogger(__name__)

#: Bits of `vcgencmd get_throttled`: 0-3 hold now, 16-19 have held since boot.
THROTTLE_BITS = {0: "under_voltage", 1: "frequency_capped", 2: "throttled", 3: "soft_temperature_limit"}
VCGENCMD_TIMEOUT_S = 2.0


@dataclass(frozen=True, slots=True)
class HealthReading:
    """One sample; None where this host does not tell (no thermal zone, no vcgencmd, ...)."""

    cpu_temp_c: float | None
    throttled_raw: str | None
    throttled_now: tuple[str, ...] | None
    throttled_since_boot: tuple[str, ...] | None
    load_1m: float | None
    load_5m: float | None
    load_15m: float | None
    memory_total_mb: float | None
    memory_available_mb: float | None
    time_unix: float

    def as_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        for key in ("throttled_now", "throttled_since_boot"):
            if out[key] is not None:
                out[key] = list(out[key])
        return out

    def problems(self, temp_limit_c: float) -> dict[str, str]:
        """What deserves a warning, by a key that stays the same while the problem lasts (a throttle
        flag, "cpu_temp"): throttling now, or a CPU at or above the limit."""
        found = {name: f"{name} (vcgencmd get_throttled {self.throttled_raw})" for name in self.throttled_now or ()}
        if self.cpu_temp_c is not None and self.cpu_temp_c >= temp_limit_c:
            found["cpu_temp"] = f"CPU at {self.cpu_temp_c:.1f} °C (limit cpu_temp_warn_c {temp_limit_c:g} °C)"
        return found

    def summary(self) -> str:
        def num(value: float | None, unit: str, fmt: str = ".1f") -> str:
            return "n/a" if value is None else f"{value:{fmt}}{unit}"

        throttled = "n/a" if self.throttled_now is None else (",".join(self.throttled_now) or "no")
        return (
            f"cpu {num(self.cpu_temp_c, ' °C')}, throttled {throttled}, load {num(self.load_1m, '', '.2f')}"
            f"/{num(self.load_5m, '', '.2f')}/{num(self.load_15m, '', '.2f')}, memory available "
            f"{num(self.memory_available_mb, ' MB', '.0f')} of {num(self.memory_total_mb, ' MB', '.0f')}"
        )


def read_cpu_temp(root: Path) -> float | None:
    """°C of the CPU's thermal zone (type containing "cpu"), else the hottest zone; None if none."""
    zones = sorted((root / "sys/class/thermal").glob("thermal_zone*"))
    readings: list[tuple[bool, float]] = []
    for zone in zones:
        try:
            millideg = int((zone / "temp").read_text().strip())
        except (OSError, ValueError):
            continue
        try:
            kind = (zone / "type").read_text().strip().lower()
        except OSError:
            kind = ""
        readings.append(("cpu" in kind, millideg / 1000.0))
    if not readings:
        return None
    cpu = [t for is_cpu, t in readings if is_cpu]
    return max(cpu) if cpu else max(t for _, t in readings)


def parse_throttled(text: str) -> tuple[str, tuple[str, ...], tuple[str, ...]] | None:
    """`throttled=0x50005` -> ("0x50005", flags now, flags since boot); None if not that form."""
    key, _, value = text.strip().partition("=")
    if key != "throttled":
        return None
    try:
        bits = int(value, 16)
    except ValueError:
        return None
    now = tuple(name for bit, name in THROTTLE_BITS.items() if bits & (1 << bit))
    since = tuple(name for bit, name in THROTTLE_BITS.items() if bits & (1 << (bit + 16)))
    return value.strip(), now, since


def read_throttled(vcgencmd: str | None) -> tuple[str, tuple[str, ...], tuple[str, ...]] | None:
    if vcgencmd is None:
        return None
    try:
        done = subprocess.run(
            [vcgencmd, "get_throttled"], capture_output=True, text=True, timeout=VCGENCMD_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return parse_throttled(done.stdout) if done.returncode == 0 else None


def read_load(root: Path) -> tuple[float, float, float] | None:
    try:
        fields = (root / "proc/loadavg").read_text().split()
        return float(fields[0]), float(fields[1]), float(fields[2])
    except (OSError, ValueError, IndexError):
        return None


def read_memory(root: Path) -> tuple[float, float] | None:
    """(total, available) in MB from meminfo."""
    values: dict[str, float] = {}
    try:
        for line in (root / "proc/meminfo").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("MemTotal", "MemAvailable"):
                values[key] = int(rest.split()[0]) * 1024 / 1e6
    except (OSError, ValueError, IndexError):
        return None
    if len(values) < 2:
        return None
    return values["MemTotal"], values["MemAvailable"]


def read_health(root: Path = Path("/"), vcgencmd: str | None = None) -> HealthReading:
    """A reading of this host (or of the fake root folder given). `vcgencmd`: its path, or None
    when absent (the default looks it up on PATH only for the real root)."""
    if vcgencmd is None and root == Path("/"):
        vcgencmd = shutil.which("vcgencmd")
    throttled = read_throttled(vcgencmd)
    load = read_load(root)
    memory = read_memory(root)
    return HealthReading(
        cpu_temp_c=read_cpu_temp(root),
        throttled_raw=throttled[0] if throttled else None,
        throttled_now=throttled[1] if throttled else None,
        throttled_since_boot=throttled[2] if throttled else None,
        load_1m=load[0] if load else None,
        load_5m=load[1] if load else None,
        load_15m=load[2] if load else None,
        memory_total_mb=round(memory[0], 1) if memory else None,
        memory_available_mb=round(memory[1], 1) if memory else None,
        time_unix=time.time(),
    )


class HealthMonitor:
    """Samples health every `sample_s`, logs it every `log_s`, and publishes `health_warning`
    (log warning too) when a problem begins; `health_ok` is logged when it ends."""

    def __init__(
        self,
        publish: Publish,
        *,
        temp_limit_c: float,
        log_s: float = 60.0,
        sample_s: float = 10.0,
        root: Path = Path("/"),
        vcgencmd: str | None = None,
    ) -> None:
        self.publish = publish
        self.temp_limit_c = temp_limit_c
        self.log_s = log_s
        self.sample_s = min(sample_s, log_s) if log_s > 0 else sample_s
        self.root = root
        self.vcgencmd = vcgencmd
        self.latest: HealthReading | None = None
        self._problems: frozenset[str] = frozenset()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def sample(self) -> HealthReading:
        """Read now, remember the reading, warn about problems that are new."""
        reading = read_health(self.root, self.vcgencmd)
        self.latest = reading
        problems = reading.problems(self.temp_limit_c)
        new = [text for key, text in problems.items() if key not in self._problems]  # a hotter CPU is not new
        if new:
            log.warning("host health: %s (%s)", "; ".join(new), reading.summary())
            self.publish(HealthWarning(list(problems.values()), reading.as_dict()))
        elif self._problems and not problems:
            log.info("host health back to normal: %s", reading.summary())
        self._problems = frozenset(problems)
        return reading

    def start(self) -> None:
        self.sample()
        if self.latest is not None:
            log.info("host health: %s", self.latest.summary())
        self._thread = threading.Thread(target=self._run, name="health-monitor", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        last_log = time.monotonic()
        while not self._stop.wait(self.sample_s):
            try:
                reading = self.sample()
            except Exception:
                log.exception("host health could not be read")
                continue
            if self.log_s > 0 and time.monotonic() - last_log >= self.log_s - 1e-3:
                last_log = time.monotonic()
                log.info("host health: %s", reading.summary())

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=VCGENCMD_TIMEOUT_S + 1)

    def status(self) -> dict[str, Any] | None:
        return self.latest.as_dict() if self.latest is not None else None
