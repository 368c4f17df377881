"""The command line: `main_camera.py [flags]` runs a mode; `python -m camera_core COMMAND ...` runs a tool."""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import TYPE_CHECKING, Any

from camera_core.util.cli_tool import run_tool

if TYPE_CHECKING:
    from camera_core.config.settings import Settings

# The config modules are imported where the modes' flags are parsed, not here: a tool
# (`python -m camera_core convert ...`) starts without them.

#: tool name -> "module:function" taking argv and returning an exit code
TOOLS: dict[str, str] = {
    "convert": "camera_core.recording.convert:main",
    "verify": "camera_core.tools.verify:main",
    "rig": "camera_core.client.rig_cli:main",
    "report": "camera_core.tools.report.cli:main",
    "recover": "camera_core.tools.recovery.tool:main",
    "synccheck": "camera_core.tools.synccheck:main",
    "align": "camera_core.tools.align:main",
    "blink": "camera_core.tools.blink:main",
    "self-test": "camera_core.modes.selftest:main",
}

MODES: dict[str, str] = {
    "headless": "camera_core.modes.headless:run",
    "interactive": "camera_core.modes.interactive:run",
    "slave": "camera_core.modes.slave:run",
}


def build_parser() -> argparse.ArgumentParser:
    """The modes' flags (config/flags.py), with the tools named in --help."""
    from camera_core.config import flags

    return flags.build_parser(f"{flags.DESCRIPTION} Tools: {', '.join(TOOLS)} (python -m camera_core TOOL --help).")


def parse_settings(argv: list[str]) -> Settings:
    """Flags and config file into Settings; exits 2 with a clear message on any bad value."""
    from camera_core.config import flags

    return flags.parse_settings(argv, build_parser())


def _call(target: str, *args: Any) -> int:
    module_name, _, func = target.partition(":")
    return int(getattr(importlib.import_module(module_name), func)(*args) or 0)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in TOOLS:
        return run_tool(argv[0], lambda: _call(TOOLS[argv[0]], argv[1:]))
    settings = parse_settings(argv)
    if settings.show_preview or settings.camera_backend == "opencv":
        # OpenCV before PyAV: loaded after it, its Qt windows never appear (their shared libraries
        # clash). Runs without windows or the OpenCV source never load it (about 40 MB).
        import cv2  # noqa: F401
    from camera_core.modes import runner

    runner.hold_signals_after_run = True  # this process ends with the run
    if settings.self_test:
        code = run_tool("self-test", lambda: _call("camera_core.modes.selftest:run", settings))
    else:
        code = _call(MODES[settings.mode], settings)
    runner.exit_within(code)  # a thread that never ends cannot keep the process (signals are held off)
    return code
