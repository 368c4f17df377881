"""The README's library example runs as written."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT


def test_readme_library_example_runs(tmp_path: Path) -> None:
    text = (ROOT / "README.md").read_text()
    block = re.search(r"## As a library\s+```python\n(.*?)```", text, re.S)
    assert block, "README has a library example"
    proc = subprocess.run(
        [sys.executable, "-c", block.group(1)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.split()
    assert float(lines[0]) > 20  # hardware fps of a 30 fps camera
    session = next((tmp_path / "recordings").iterdir())
    assert len(list(session.glob("cam*_640x480_30.0fps_*.h264"))) == 2
    assert len(list(session.glob("snapshot_cam*.jpg"))) == 2


def test_readme_shows_the_two_commands() -> None:
    text = (ROOT / "README.md").read_text()
    assert "uv run main_camera.py" in text and "uv run pytest" in text
    assert "uv run pytest" in (ROOT / ".ci" / "run").read_text()
