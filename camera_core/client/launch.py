"""The command line that starts a slave: locally, on another host by ssh (`ssh_prefix` builds the ssh
command from a host name, so a host can never become an ssh option), or through any command prefix
such as `ssh pi@cam-l` (the remote command is then one shell-quoted string, as ssh expects)."""

from __future__ import annotations

import shlex
import sys
from collections.abc import Sequence

#: seconds of silence from the host before ssh gives up (ServerAliveInterval x ServerAliveCountMax)
SERVER_ALIVE_INTERVAL_S, SERVER_ALIVE_COUNT_MAX = 5, 3


def check_host(host: object) -> str:
    """A host for ssh (`pi@cam-l`, `cam-l`, `10.0.0.5`); ValueError naming the problem otherwise.
    A leading `-` would make ssh read it as an option (`-oProxyCommand=...` runs a local command)."""
    if not isinstance(host, str) or not host:
        raise ValueError(f"host {host!r}: must be a non-empty text such as 'pi@cam-l'")
    if host.startswith("-"):
        raise ValueError(f"host {host!r}: must not start with '-' (ssh would read it as an option)")
    if any(c.isspace() or not c.isprintable() for c in host):
        raise ValueError(f"host {host!r}: must not contain spaces or control characters")
    return host


def ssh_prefix(
    host: str,
    *,
    connect_timeout_s: float = 10.0,
    port: int | None = None,
    identity_file: str | None = None,
    options: Sequence[str] = (),
) -> list[str]:
    """`ssh -T -o BatchMode=yes -o ConnectTimeout=.. -o ServerAliveInterval=5 -o ServerAliveCountMax=3
    [-p PORT] [-i FILE] [-o OPTION ...] -- HOST`: a dead host ends ssh within about 15 s."""
    argv = ["ssh", "-T", "-o", "BatchMode=yes", "-o", f"ConnectTimeout={max(1, round(connect_timeout_s))}"]
    argv += [
        "-o",
        f"ServerAliveInterval={SERVER_ALIVE_INTERVAL_S}",
        "-o",
        f"ServerAliveCountMax={SERVER_ALIVE_COUNT_MAX}",
    ]
    if port is not None:
        argv += ["-p", str(int(port))]
    if identity_file is not None:
        argv += ["-i", str(identity_file)]
    for option in options:
        argv += ["-o", str(option)]
    return [*argv, "--", check_host(host)]


def local_slave_argv(args: Sequence[str] = (), *, python: str | None = None) -> list[str]:
    """`python -m camera_core --mode slave ARGS` with this interpreter (or `python`)."""
    return [python or sys.executable, "-m", "camera_core", "--mode", "slave", *args]


def slave_argv(
    args: Sequence[str] = (),
    *,
    prefix: Sequence[str] | None = None,
    remote: str | Sequence[str] | None = None,
) -> list[str]:
    """The argv that starts a slave.

    Without `prefix`: a local slave (`remote`, if given, replaces the local command).
    With `prefix` (e.g. ["ssh", "-T", "pi@cam-l"]): prefix + one remote command string, by default
    `uv run main_camera.py --mode slave ARGS` run in the remote login directory; pass `remote`
    (e.g. "cd ~/camera_core && uv run main_camera.py --mode slave") to say where camera_core lives.
    ARGS are appended to `remote` either way."""
    if prefix is None:
        if remote is None:
            return local_slave_argv(args)
        base = shlex.split(remote) if isinstance(remote, str) else list(remote)
        return [*base, *args]
    if remote is None:
        command = shlex.join(["uv", "run", "main_camera.py", "--mode", "slave", *args])
    elif isinstance(remote, str):
        command = " ".join([remote, *(shlex.quote(a) for a in args)])
    else:
        command = shlex.join([*remote, *args])
    return [*prefix, command]
