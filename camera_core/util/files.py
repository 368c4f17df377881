"""File helpers: checksums, durable writes, unique names, free space."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import IO, Any


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def fsync_file(f: IO[Any]) -> None:
    f.flush()
    os.fsync(f.fileno())


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON so that a crash leaves either the old or the new file, never half of one."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        with tmp.open("w", encoding="utf-8") as f:
            json.dump(data, f, indent=2, sort_keys=False)
            f.write("\n")
            fsync_file(f)
        os.replace(tmp, path)
    except BaseException:  # e.g. a full disk: the old file stays, no .tmp is left behind
        tmp.unlink(missing_ok=True)
        raise


def free_bytes(path: Path) -> int:
    """Free space on the filesystem holding `path` (or its nearest existing parent)."""
    p = path
    while not p.exists() and p != p.parent:
        p = p.parent
    return shutil.disk_usage(p).free
