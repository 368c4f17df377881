"""The command line: `main_camera.py [flags]` runs a mode; `python -m camera_core COMMAND ...` runs a tool."""

from __future__ import annotations

import argparse
import difflib
import importlib
import sys
from pathlib import Path
from typing import Any

from camera_core.config.loader import DEFAULT_CONFIG_PATH, load_settings
from camera_core.config.settings import SETTING_FIELDS, Settings, allowed_text, parse_value
from camera_core.errors import ConfigError
from camera_core.util.cli_tool import run_tool

#: tool name -> "module:function" taking argv and returning an exit code
TOOLS: dict[str, str] = {
    "convert": "camera_core.recording.convert:main",
    "verify": "camera_core.verify:main",
    "rig": "camera_core.client.rig_cli:main",
    "report": "camera_core.report.cli:main",
    "recover": "camera_core.recovery.tool:main",
    "synccheck": "camera_core.sync.synccheck:main",
    "align": "camera_core.sync.align:main",
    "blink": "camera_core.sync.blink:main",
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


def bool_flag_help(key: str, flag: str, text: str, default: bool, has_neg: bool) -> tuple[str, str]:
    """--help of a boolean's flag and of its opposite: which one is the default, in words (never a
    bare "default: true" beside a flag that reads like its negation, such as --no-mp4)."""
    on, off = (
        (" This is the default.", "") if default else ("" if has_neg else " Off by default.", " This is the default.")
    )
    return (
        f"{text}.{on} (config key: {key} = true)",
        f"Opposite of {flag}.{off} (config key: {key} = false)",
    )


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
        if f.type == "bool":  # the first flag sets it true, `neg` false
            flag_help, neg_help = bool_flag_help(key, m["flags"][0], m["help"], default, bool(m["neg"]))
            parser.add_argument(
                *m["flags"],
                dest=key,
                action="store_const",
                const=True,
                default=argparse.SUPPRESS,
                help=flag_help,
            )
            if m["neg"]:
                parser.add_argument(
                    m["neg"],
                    dest=key,
                    action="store_const",
                    const=False,
                    default=argparse.SUPPRESS,
                    help=neg_help,
                )
        else:
            parser.add_argument(
                *m["flags"],
                dest=key,
                type=_value_type(key, m["flags"][0]),
                default=argparse.SUPPRESS,
                metavar=key.upper(),
                help=f"{m['help']}; {allowed_text(f)} (default: {default}; config key: {key})",
            )
    return parser


def nearest_flag_hint(parser: argparse.ArgumentParser, unknown: list[str]) -> str:
    """' (did you mean --target-fps?)' for the first unknown flag close to a known one, else ''."""
    flags = [o for action in parser._actions for o in action.option_strings]
    for word in unknown:
        if word.startswith("--"):
            close = difflib.get_close_matches(word.split("=", 1)[0], flags, n=1, cutoff=0.7)
            if close:
                return f" (did you mean {close[0]}?)"
    return ""


def parse_settings(argv: list[str]) -> Settings:
    """Flags and config file into Settings; exits 2 with a clear message on any bad value."""
    parser = build_parser()
    namespace, unknown = parser.parse_known_args(argv)
    if unknown:
        parser.error(f"unrecognized arguments: {' '.join(unknown)}{nearest_flag_hint(parser, unknown)}")
    args = vars(namespace)
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
        return run_tool(argv[0], lambda: _call(TOOLS[argv[0]], argv[1:]))
    settings = parse_settings(argv)
    if settings.show_preview or settings.camera_backend == "opencv":
        # OpenCV before PyAV: loaded after it, its Qt windows never appear (their shared libraries
        # clash). Runs without windows or the OpenCV source never load it (about 40 MB).
        import cv2  # noqa: F401
    from camera_core.modes import runner

    runner.hold_signals_after_run = True  # this process ends with the run
    if settings.self_test:
        return run_tool("self-test", lambda: _call("camera_core.modes.selftest:run", settings))
    return _call(MODES[settings.mode], settings)
