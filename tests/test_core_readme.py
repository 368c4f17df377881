"""The README's library example runs as written."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
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


def test_readme_says_how_the_report_figure_gets_matplotlib() -> None:
    """The figure's install note matches pyproject: matplotlib is the `report` extra for users, and
    the default dev group of a checkout has it too, so a plain `uv sync` already installs it."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert any(d.startswith("matplotlib") for d in project["project"]["optional-dependencies"]["report"])
    assert not any(d.startswith("matplotlib") for d in project["project"]["dependencies"])  # optional for users
    default_groups = project["tool"]["uv"]["default-groups"]
    in_default_group = any(d.startswith("matplotlib") for g in default_groups for d in project["dependency-groups"][g])
    text = " ".join((ROOT / "README.md").read_text().split())
    note = text.split("## Timing report", 1)[1].split("prints JSON", 1)[0]
    assert "`uv sync --no-dev --extra report`" in note and "`pip install 'camera-core[report]'`" in note
    assert ("a plain `uv sync` installs it" in note) == in_default_group
