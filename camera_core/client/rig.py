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

from camera_core.client.errors import SlaveClientError, SlaveDied, SlaveTimeout
from camera_core.client.launch import slave_argv, ssh_prefix
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
    #: during a take every slave is asked for its status this often; one that has exited or does
    #: not answer within the same time is reported lost
    heartbeat_s: float = 2.0
    #: a slave that does not answer the heartbeat within this long is lost
    heartbeat_timeout_s: float = 5.0


SLAVE_KEYS = ("name", "host", "port", "identity_file", "ssh_options", "prefix", "remote", "args")
RIG_KEYS = ("lead_s", "ready_timeout", "heartbeat_s", "heartbeat_timeout_s", "connect_timeout_s", "args", "slave")


def _number(raw: dict[str, Any], key: str, default: float, lo: float, hi: float, where: str) -> float:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not lo <= value <= hi:
        raise ValueError(f"{where}: {key} = {value!r}; allowed: a number from {lo:g} to {hi:g}")
    return float(value)


def _slave_argv(entry: dict[str, Any], args: list[str], connect_timeout_s: float, where: str) -> list[str]:
    """The argv of one [[slave]] entry: `host` (ssh built here), `prefix` (expert form) or local."""
    remote = entry.get("remote")
    if "host" in entry:
        if "prefix" in entry:
            raise ValueError(f"{where}: give either host or prefix, not both")
        port = entry.get("port")
        if port is not None and (isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535):
            raise ValueError(f"{where}: port = {port!r}; allowed: a whole number from 1 to 65535")
        options = entry.get("ssh_options", [])
        if not isinstance(options, list) or not all(isinstance(o, str) and "=" in o for o in options):
            raise ValueError(f"{where}: ssh_options must be a list of 'Key=Value' texts (ssh -o options)")
        identity = entry.get("identity_file")
        try:
            prefix = ssh_prefix(
                entry["host"],
                connect_timeout_s=connect_timeout_s,
                port=port,
                identity_file=str(identity) if identity is not None else None,
                options=options,
            )
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None
        return slave_argv(args, prefix=prefix, remote=remote)
    for key in ("port", "identity_file", "ssh_options"):
        if key in entry:
            raise ValueError(f"{where}: {key} needs host (with prefix, put ssh's options in the prefix)")
    given = entry.get("prefix")
    return slave_argv(args, prefix=given.split() if isinstance(given, str) else given, remote=remote)


def load_rig(path: str | Path) -> RigConfig:
    """Read a rig file (TOML): optional `lead_s`, `ready_timeout`, `heartbeat_s`, `heartbeat_timeout_s`,
    `connect_timeout_s`,
    `args` (for every slave), and one `[[slave]]` table per slave with `name` and either `host`
    (e.g. "pi@cam-l"; ssh is run as `ssh -T -o BatchMode=yes ... -- HOST`, optionally with `port`,
    `identity_file` and `ssh_options`) or `prefix` (the expert form: any command, e.g.
    ["ssh", "-T", "pi@cam-l"]), or neither (a local slave); `remote` (the command on that host) and
    `args` (extra flags)."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text())
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"{path}: {exc}") from None
    unknown = set(raw) - set(RIG_KEYS)
    if unknown:
        raise ValueError(f"{path}: unknown keys {sorted(unknown)}; allowed: {', '.join(RIG_KEYS)}")
    connect_timeout_s = _number(raw, "connect_timeout_s", 10.0, 1, 600, str(path))
    if not isinstance(raw.get("args", []), list):
        raise ValueError(f'{path}: args must be a list of flags, e.g. args = ["--resolution", "0"]')
    if not isinstance(raw.get("slave", []), list):
        raise ValueError(f"{path}: slaves are [[slave]] tables")
    common = [str(a) for a in raw.get("args", [])]
    specs: list[SlaveSpec] = []
    for i, entry in enumerate(raw.get("slave", [])):
        where = f"{path}: slave {i + 1}"
        if not isinstance(entry, dict) or not isinstance(entry.get("args", []), list):
            raise ValueError(f"{where}: must be a [[slave]] table whose args is a list of flags")
        unknown = set(entry) - set(SLAVE_KEYS)
        if unknown:
            raise ValueError(f"{where}: unknown keys {sorted(unknown)}; allowed: {', '.join(SLAVE_KEYS)}")
        name = str(entry.get("name") or f"slave{i + 1}")
        if any(s.name == name for s in specs):
            raise ValueError(f"{path}: slave name {name!r} is used twice")
        args = [*common, *(str(a) for a in entry.get("args", []))]
        specs.append(SlaveSpec(name, _slave_argv(entry, args, connect_timeout_s, where)))
    if not specs:
        raise ValueError(f"{path}: no [[slave]] tables")
    return RigConfig(
        specs,
        _number(raw, "lead_s", 2.0, 0, 3600, str(path)),
        _number(raw, "ready_timeout", 60.0, 1, 3600, str(path)),
        _number(raw, "heartbeat_s", 2.0, 0.1, 60, str(path)),
        _number(raw, "heartbeat_timeout_s", 5.0, 0.1, 600, str(path)),
    )


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

    def check(self, timeout: float = 2.0) -> dict[str, str]:
        """Ask every live slave for its status; one that has exited, or that does not answer within
        `timeout`, is marked failed (left out of later commands). Returns {name: why} of the slaves
        lost since the last check; the others carry on."""
        names = self.live
        futures = {name: self._pool.submit(self._probe, name, timeout) for name in names}
        lost: dict[str, str] = {}
        for name, future in futures.items():
            why = future.result()
            if why:
                self.failures[name] = why
                lost[name] = why
                log.info("rig: %s lost: %s", name, why)  # the caller gets it in the result
        return lost

    def _probe(self, name: str, timeout: float) -> str:
        """'' when the slave answers get_status in time, else what is wrong with it."""
        client = self.clients[name]
        try:
            client.request("get_status", timeout=timeout)
            return ""
        except SlaveDied as exc:
            return str(exc)
        except SlaveTimeout:
            return f"no answer within {timeout:g} s (host down or slave hung)"
        except SlaveClientError as exc:
            return "" if client.alive else str(exc)

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
