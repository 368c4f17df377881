"""The command line that starts a slave: locally, or on another host through a command prefix such
as `ssh pi@cam-l` (the remote command is then one shell-quoted string, as ssh expects)."""

from __future__ import annotations

import shlex
import sys
from collections.abc import Sequence


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
