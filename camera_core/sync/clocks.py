"""Each host's wall clock: what disciplines it (chrony, PTP or unknown), how far off it is and
how sure that is, and the boot-time -> wall-clock offset that turns sensor timestamps into
wall-clock times. Inter-host clock error adds straight to frame-start error and no timestamp
shows it, so every host reports it (get_status, the manifest's `clocks`, the rig).

- chrony: `chronyc -c tracking`; offset = system clock minus NTP time; estimated error = |offset|
  + root dispersion + root delay / 2 (chrony's bound on the distance to the true time).
- PTP: linuxptp `pmc -u -b 0 'GET TIME_STATUS_NP'` (ptp4l's offset from its grandmaster).
- otherwise "unknown", with the reason.
Every command runs with a timeout; nothing here can hang.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any

log = logging.getLogger(__name__)

COMMAND_TIMEOUT_S = 2.0
BOOT_TO_WALL_METHOD = "tightest of 5 bracketed CLOCK_REALTIME / CLOCK_BOOTTIME readings (midpoint)"


@dataclass(slots=True)
class ClockState:
    """One host's clock at one moment."""

    #: chrony | ptp | unknown
    source: str
    synchronised: bool | None = None
    #: This clock minus the reference time, µs (positive: fast).
    offset_us: float | None = None
    #: How far from the true time this clock may be, µs (bound from the source's own figures).
    error_us: float | None = None
    reference: str | None = None
    stratum: int | None = None
    detail: str = ""
    #: CLOCK_REALTIME - CLOCK_BOOTTIME, ns, and the width of the reading that gave it.
    boot_to_wall_ns: int = 0
    boot_to_wall_uncertainty_ns: int = 0
    boot_to_wall_method: str = BOOT_TO_WALL_METHOD
    measured_at_unix: float = field(default_factory=time.time)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def measure_boot_to_wall(samples: int = 5) -> tuple[int, int]:
    """(realtime - boottime, reading width) in ns, from the tightest of several bracketed readings."""
    best: tuple[int, int] | None = None
    for _ in range(samples):
        before = time.clock_gettime_ns(time.CLOCK_REALTIME)
        boot = time.clock_gettime_ns(time.CLOCK_BOOTTIME)
        after = time.clock_gettime_ns(time.CLOCK_REALTIME)
        if best is None or after - before < best[1]:
            best = ((before + after) // 2 - boot, after - before)
    assert best is not None
    return best


def _run(argv: list[str]) -> tuple[str | None, str]:
    """(stdout, "") or (None, why it failed)."""
    if shutil.which(argv[0]) is None:
        return None, f"{argv[0]} not installed"
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        return None, f"{argv[0]} gave no answer within {COMMAND_TIMEOUT_S:g} s"
    except OSError as exc:
        return None, f"{argv[0]}: {exc}"
    if done.returncode != 0:
        why = (done.stderr or done.stdout).strip().splitlines()
        return None, f"{argv[0]}: {why[-1] if why else f'exit code {done.returncode}'}"
    return done.stdout, ""


def parse_chrony_tracking(line: str) -> ClockState:
    """One `chronyc -c tracking` line: ref id, ref name, stratum, ref time, system time offset
    (s, positive = slow), last offset, RMS offset, frequency, residual frequency, skew, root delay,
    root dispersion, update interval, leap status."""
    fields = line.strip().split(",")
    if len(fields) < 14:
        raise ValueError(f"unexpected chronyc tracking output: {line.strip()!r}")
    correction = float(fields[4])
    root_delay, root_dispersion = float(fields[10]), float(fields[11])
    leap = fields[13]
    synchronised = leap != "Not synchronised" and fields[0] != "00000000"
    return ClockState(
        source="chrony",
        synchronised=synchronised,
        offset_us=round(-correction * 1e6, 3),
        error_us=round((abs(correction) + root_dispersion + root_delay / 2) * 1e6, 3),
        reference=fields[1] or fields[0],
        stratum=int(fields[2]),
        detail=f"chronyc tracking: leap status {leap}",
    )


def read_chrony(host: str = "") -> tuple[ClockState | None, str]:
    argv = ["chronyc", *(["-h", host] if host else []), "-c", "tracking"]
    out, why = _run(argv)
    if out is None:
        return None, why
    try:
        return parse_chrony_tracking(out.splitlines()[0] if out else ""), ""
    except (ValueError, IndexError) as exc:
        return None, f"chronyc: {exc}"


def parse_pmc_time_status(text: str) -> ClockState | None:
    """ptp4l's TIME_STATUS_NP through pmc: master_offset (ns), gmPresent, gmIdentity."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2:
            values[parts[0]] = parts[1]
    if "master_offset" not in values:
        return None
    offset_ns = float(values["master_offset"])
    present = values.get("gmPresent") == "true"
    return ClockState(
        source="ptp",
        synchronised=present,
        offset_us=round(offset_ns / 1000, 3),
        error_us=round(abs(offset_ns) / 1000, 3),
        reference=values.get("gmIdentity"),
        detail="pmc TIME_STATUS_NP (ptp4l's hardware clock against its grandmaster; phc2sys carries it to the system clock)",
    )


def read_ptp() -> tuple[ClockState | None, str]:
    out, why = _run(["pmc", "-u", "-b", "0", "GET TIME_STATUS_NP"])
    if out is None:
        return None, why
    state = parse_pmc_time_status(out)
    return (state, "") if state is not None else (None, "pmc: no answer from ptp4l")


def clock_state(chronyc_host: str = "") -> ClockState:
    """This host's clock now: chrony if it answers, else PTP, else unknown (with the reasons)."""
    state, chrony_why = read_chrony(chronyc_host)
    ptp_why = ""
    if state is None:
        state, ptp_why = read_ptp()
    if state is None:
        state = ClockState(source="unknown", detail=f"{chrony_why}; {ptp_why}")
    state.boot_to_wall_ns, state.boot_to_wall_uncertainty_ns = measure_boot_to_wall()
    return state


class ClockMonitor:
    """This host's clock state for get_status, which may be called often: the last reading is
    answered at once and, when older than `max_age_s`, re-read in the background. `fresh=True`
    reads it now (session start and stop)."""

    def __init__(self, chronyc_host: str = "", max_age_s: float = 5.0) -> None:
        self.chronyc_host = chronyc_host
        self.max_age_s = max_age_s
        self._lock = threading.Lock()
        self._state: ClockState | None = None
        self._read_at = 0.0
        self._refreshing = False

    def state(self, fresh: bool = False) -> ClockState:
        with self._lock:
            current, stale = self._state, time.monotonic() - self._read_at > self.max_age_s
            start_refresh = stale and current is not None and not fresh and not self._refreshing
            if start_refresh:
                self._refreshing = True
        if fresh or current is None:
            return self._read()
        if start_refresh:
            threading.Thread(target=self._refresh, name="clock-state", daemon=True).start()
        return current

    def _read(self) -> ClockState:
        state = clock_state(self.chronyc_host)
        with self._lock:
            self._state, self._read_at = state, time.monotonic()
        return state

    def _refresh(self) -> None:
        try:
            self._read()
        except Exception:
            log.exception("reading the clock state failed")
        finally:
            with self._lock:
                self._refreshing = False


# -- a rig's hosts -----------------------------------------------------------------------------


@dataclass(slots=True)
class RigClocks:
    """The hosts' clocks side by side, and what is wrong with them."""

    hosts: dict[str, dict[str, Any]]
    #: Largest difference between two hosts' offsets, µs (None with fewer than two known).
    spread_us: float | None
    warnings: list[str]
    #: Hosts beyond --max-clock-offset-ms (empty without a limit).
    out_of_line: list[str]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_rig_clocks(statuses: dict[str, dict[str, Any]], max_offset_ms: float | None = None) -> RigClocks:
    """From each host's get_status data (its `clock`): a host whose clock is unknown or not
    synchronised is warned about; with a limit, a host whose worst-case distance from the
    reference time (|offset| + estimated error) exceeds it, or that cannot tell, is out of line."""
    hosts: dict[str, dict[str, Any]] = {}
    warnings: list[str] = []
    out: list[str] = []
    for name, data in statuses.items():
        clock = data.get("clock") if isinstance(data, dict) else None
        if not isinstance(clock, dict):
            hosts[name] = {"source": "unknown", "detail": "no clock in its status"}
            warnings.append(f"{name}: reports no clock state")
            if max_offset_ms is not None:
                out.append(name)
            continue
        hosts[name] = clock
        offset, error = clock.get("offset_us"), clock.get("error_us")
        if clock.get("source") == "unknown":
            warnings.append(
                f"{name}: wall clock source unknown ({clock.get('detail', '')}); its frames may be off by any amount"
            )
        elif clock.get("synchronised") is False:
            warnings.append(f"{name}: {clock.get('source')} is not synchronised")
        worst = None if offset is None else abs(float(offset)) + float(error or 0)
        if max_offset_ms is not None and (
            worst is None or worst > max_offset_ms * 1000 or clock.get("synchronised") is False
        ):
            out.append(name)
            shown = "unknown" if worst is None else f"{worst / 1000:.3f} ms"
            warnings.append(f"{name}: clock off by up to {shown}, over --max-clock-offset-ms {max_offset_ms:g}")
    offsets = [float(c["offset_us"]) for c in hosts.values() if c.get("offset_us") is not None]
    spread = round(max(offsets) - min(offsets), 3) if len(offsets) > 1 else None
    return RigClocks(hosts, spread, warnings, out)


def describe_clock(clock: dict[str, Any]) -> str:
    """One line for people: source, offset, error, reference (from a ClockState dict)."""
    if clock.get("source") in (None, "unknown"):
        return f"unknown ({clock.get('detail', '')})"
    parts = [str(clock["source"])]
    if clock.get("synchronised") is False:
        parts.append("NOT synchronised")
    if clock.get("offset_us") is not None:
        parts.append(f"offset {float(clock['offset_us']):+.1f} µs")
    if clock.get("error_us") is not None:
        parts.append(f"error up to {float(clock['error_us']):.1f} µs")
    if clock.get("reference"):
        parts.append(f"reference {clock['reference']}")
    return ", ".join(parts)
