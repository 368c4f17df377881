"""File helpers: checksums, durable writes, unique names, free space."""

from __future__ import annotations

import errno
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


def write_json_in_place(path: Path, data: Any) -> None:
    """Overwrite an existing JSON file in its own space (for a full disk, where the atomic way has
    no room for the second copy); ENOSPC without touching it when the new text would not fit.
    A crash during it can leave the file cut short."""
    text = json.dumps(data, indent=2, sort_keys=False) + "\n"
    st = path.stat()
    room = max(st.st_size, st.st_blocks * 512) + free_bytes(path.parent)
    if len(text.encode()) > room:  # it would be cut short: keep the old file whole
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
    with path.open("r+", encoding="utf-8") as f:
        f.seek(0)
        f.write(text)
        f.truncate()
        fsync_file(f)


def free_bytes(path: Path) -> int:
    """Free space on the filesystem holding `path` (or its nearest existing parent)."""
    p = path
    while not p.exists() and p != p.parent:
        p = p.parent
    return shutil.disk_usage(p).free
