"""A rig: several slaves (hosts) driven together. Commands go to every live slave in parallel;
`start_recording` shares one future wall-clock time `at`, so hosts whose clocks agree (chrony/PTP)
start on the same instant. A slave that fails is reported on its own and dropped from later
commands; the others carry on."""

from __future__ import annotations

import logging
import time
import tomllib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from camera_core.client.errors import SlaveClientError, SlaveDied
from camera_core.client.launch import slave_argv
from camera_core.client.sync import SlaveClient
from camera_core.sync.clocks import RigClocks, check_rig_clocks

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SlaveSpec:
    """How to start one slave of the rig."""

    name: str
    argv: list[str]


@dataclass(slots=True)
class RigResult:
    """One slave's answer to a rig command: its data, or what went wrong."""

    name: str
    ok: bool
    data: dict[str, Any] = field(default_factory=dict)
    error: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "data": self.data} if self.ok else {"ok": False, "error": self.error}


@dataclass(frozen=True, slots=True)
class RigConfig:
    slaves: list[SlaveSpec]
    lead_s: float = 2.0
    ready_timeout: float = 60.0


def load_rig(path: str | Path) -> RigConfig:
    """Read a rig file (TOML): optional `lead_s`, `ready_timeout`, `args` (for every slave), and one
    `[[slave]]` table per slave with `name` and optionally `prefix` (e.g. ["ssh", "pi@cam-l"]),
    `remote` (the command on that host) and `args` (extra flags)."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"{path}: {exc}") from None
    common = [str(a) for a in raw.get("args", [])]
    specs: list[SlaveSpec] = []
    for i, entry in enumerate(raw.get("slave", [])):
        unknown = set(entry) - {"name", "prefix", "remote", "args"}
        if unknown:
            raise ValueError(
                f"{path}: slave {i + 1}: unknown keys {sorted(unknown)}; allowed: name, prefix, remote, args"
            )
        name = str(entry.get("name") or f"slave{i + 1}")
        if any(s.name == name for s in specs):
            raise ValueError(f"{path}: slave name {name!r} is used twice")
        prefix = entry.get("prefix")
        if isinstance(prefix, str):
            prefix = prefix.split()
        args = [*common, *(str(a) for a in entry.get("args", []))]
        specs.append(SlaveSpec(name, slave_argv(args, prefix=prefix, remote=entry.get("remote"))))
    if not specs:
        raise ValueError(f"{path}: no [[slave]] tables")
    return RigConfig(specs, float(raw.get("lead_s", 2.0)), float(raw.get("ready_timeout", 60.0)))


class Rig:
    """Several slaves. Use as a context manager: every slave is quit (files finalized) on exit."""

    def __init__(self, specs: Sequence[SlaveSpec], *, timeout: float = 10.0, cwd: str | Path | None = None) -> None:
        self.specs = list(specs)
        self.timeout = timeout
        self.cwd = cwd
        self.clients: dict[str, SlaveClient] = {}
        self.failures: dict[str, str] = {}
        self._pool = ThreadPoolExecutor(max(1, len(self.specs)), thread_name_prefix="rig")

    @property
    def live(self) -> list[str]:
        return [s.name for s in self.specs if s.name in self.clients and s.name not in self.failures]

    def start(self, ready_timeout: float = 60.0) -> dict[str, RigResult]:
        """Start every slave in parallel and wait until each is ready (or failed)."""

        def launch(spec: SlaveSpec) -> RigResult:
            try:
                client = SlaveClient(spec.argv, name=spec.name, cwd=self.cwd, timeout=self.timeout)
            except OSError as exc:
                self.failures[spec.name] = f"could not start {spec.argv[0]}: {exc}"
                return RigResult(spec.name, False, error=self.failures[spec.name])
            self.clients[spec.name] = client
            return self._call(spec.name, "get_status", {}, ready_timeout)

        return dict(zip([s.name for s in self.specs], self._pool.map(launch, self.specs), strict=True))

    def command(self, command: str, *, timeout: float | None = None, **args: Any) -> dict[str, RigResult]:
        """Send `command` to every live slave in parallel; one result per slave."""
        names = self.live
        futures = [self._pool.submit(self._call, name, command, args, timeout) for name in names]
        return {name: f.result() for name, f in zip(names, futures, strict=True)}

    def _call(self, name: str, command: str, args: dict[str, Any], timeout: float | None) -> RigResult:
        client = self.clients[name]
        try:
            return RigResult(name, True, client.request(command, timeout=timeout, **args))
        except SlaveDied as exc:
            self.failures[name] = str(exc)
            log.error("rig: %s failed: %s", name, exc)
            return RigResult(name, False, error=str(exc))
        except SlaveClientError as exc:
            log.warning("rig: %s: %s", name, exc)
            return RigResult(name, False, error=str(exc))

    def start_recording(self, lead_s: float = 2.0, at: float | None = None) -> tuple[float, dict[str, RigResult]]:
        """Every slave starts recording at the same wall-clock time `at` (default: now + lead_s)."""
        at = time.time() + lead_s if at is None else at
        return at, self.command("start_recording", at=at)

    def stop_recording(self) -> dict[str, RigResult]:
        return self.command("stop_recording", timeout=max(self.timeout, 60.0))

    def status(self) -> dict[str, dict[str, Any]]:
        """Every slave's status (failed slaves with their error)."""
        results = self.command("get_status")
        out: dict[str, dict[str, Any]] = {}
        for spec in self.specs:
            result = results.get(spec.name)
            if result is None:
                out[spec.name] = {"ok": False, "error": self.failures.get(spec.name, "not started")}
            else:
                out[spec.name] = result.as_dict()
        return out

    def clocks(self, max_offset_ms: float | None = None) -> RigClocks:
        """Every live host's wall clock side by side (from get_status), with warnings, and the hosts
        out of line with `max_offset_ms`."""
        statuses = {name: entry.get("data", {}) for name, entry in self.status().items() if entry.get("ok")}
        return check_rig_clocks(statuses, max_offset_ms)

    def close(self, timeout: float = 60.0) -> None:
        """Quit every slave (finalizing its files), in parallel."""
        list(self._pool.map(lambda c: c.close(timeout), self.clients.values()))
        self._pool.shutdown(wait=True)

    def __enter__(self) -> Rig:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
