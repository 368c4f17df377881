"""Finds session folders that did not finish cleanly (manifest "complete": false) and whose process
is gone, so a new run can say so."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

from camera_core.session import MANIFEST_NAME


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def still_running(manifest: dict[str, object]) -> bool:
    """The session's process still runs on this host (its manifest names the pid)."""
    pid = manifest.get("pid")
    if not isinstance(pid, int) or manifest.get("host") != socket.gethostname():
        return False
    return process_alive(pid)


def find_unfinished_sessions(output_dir: Path, exclude: Path | None = None) -> list[Path]:
    """Session folders under `output_dir` whose manifest is unreadable or says complete: false,
    oldest first, leaving out `exclude` and sessions whose process still runs."""
    if not output_dir.is_dir():
        return []
    skip = exclude.resolve() if exclude is not None else None
    found: list[Path] = []
    for manifest_path in sorted(output_dir.glob(f"*/{MANIFEST_NAME}")):
        folder = manifest_path.parent
        if skip is not None and folder.resolve() == skip:
            continue
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            found.append(folder)
            continue
        if manifest.get("complete") is True or still_running(manifest):
            continue
        found.append(folder)
    return found
