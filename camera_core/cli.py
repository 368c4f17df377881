"""The command line: `main_camera.py [flags]` runs a mode; `python -m camera_core COMMAND ...` runs a tool."""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path
from typing import Any

from camera_core.config.loader import DEFAULT_CONFIG_PATH, load_settings
from camera_core.config.settings import SETTING_FIELDS, Settings, allowed_text, parse_value
from camera_core.errors import ConfigError

#: tool name -> "module:function" taking argv and returning an exit code
TOOLS: dict[str, str] = {
    "convert": "camera_core.recording.convert:main",
    "verify": "camera_core.verify:main",
    "rig": "camera_core.client.rig_cli:main",
    "report": "camera_core.report.cli:main",
    "recover": "camera_core.recovery.tool:main",
    "self-test": "camera_core.modes.selftest:main",
}

MODES: dict[str, str] = {
    "headless": "camera_core.modes.headless:run",
    "interactive": "camera_core.modes.interactive:run",
    "slave": "camera_core.modes.slave:run",
}


def _value_type(key: str, flag: str) -> Any:
    def convert(text: str) -> Any:
        try:
            return parse_value(key, text, flag)
        except ConfigError as exc:
            raise argparse.ArgumentTypeError(f"{exc.problem}; allowed: {exc.allowed}") from None

    convert.__name__ = key
    return convert


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="main_camera.py",
        description="Record from one or more cameras with exact per-frame timing. "
        f"Tools: {', '.join(TOOLS)} (python -m camera_core TOOL --help).",
        epilog="Precedence: command-line flag > config file > built-in default.",
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        metavar="PATH",
        help=f"config file (default: {DEFAULT_CONFIG_PATH})",
    )
    defaults = Settings()
    for key, f in SETTING_FIELDS.items():
        m = f.metadata
        if not m["flags"]:
            continue
        default = getattr(defaults, key)
        where = f"(default: {str(default).lower() if isinstance(default, bool) else default}; config key: {key})"
        if f.type == "bool":  # the first flag sets it true, `neg` false
            parser.add_argument(
                *m["flags"],
                dest=key,
                action="store_const",
                const=True,
                default=argparse.SUPPRESS,
                help=f"{m['help']} {where}",
            )
            if m["neg"]:
                parser.add_argument(
                    m["neg"],
                    dest=key,
                    action="store_const",
                    const=False,
                    default=argparse.SUPPRESS,
                    help=f"opposite of {m['flags'][0]}",
                )
        else:
            parser.add_argument(
                *m["flags"],
                dest=key,
                type=_value_type(key, m["flags"][0]),
                default=argparse.SUPPRESS,
                metavar=key.upper(),
                help=f"{m['help']}; {allowed_text(f)} {where}",
            )
    return parser


def parse_settings(argv: list[str]) -> Settings:
    """Flags and config file into Settings; exits 2 with a clear message on any bad value."""
    parser = build_parser()
    args = vars(parser.parse_args(argv))
    config_path = args.pop("config")
    try:
        settings = load_settings(config_path, args)
    except ConfigError as exc:
        print(f"main_camera.py: error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    # config.txt's show_preview is interactive mode's; headless and slave open windows only when
    # --preview is on the command line (the seed: "no preview by default" in those modes).
    if settings.mode != "interactive" and settings.show_preview and "show_preview" not in args:
        settings = settings.replace(show_preview=False)
    return settings


def _call(target: str, *args: Any) -> int:
    module_name, _, func = target.partition(":")
    return int(getattr(importlib.import_module(module_name), func)(*args) or 0)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in TOOLS:
        return _call(TOOLS[argv[0]], argv[1:])
    settings = parse_settings(argv)
    from camera_core.modes import runner

    runner.hold_signals_after_run = True  # this process ends with the run
    if settings.self_test:
        return _call("camera_core.modes.selftest:run", settings)
    return _call(MODES[settings.mode], settings)
