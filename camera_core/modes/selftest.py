"""`--self-test` (or `python -m camera_core self-test [flags]`): start the cameras, record a short
clip per camera, verify and delete it, print pass/fail per camera; exit 0 when all passed, else 1
(also when the reader of the output went away: `--self-test | head`)."""

from __future__ import annotations

import json
from typing import Any

from camera_core.config import flags
from camera_core.config.settings import Settings
from camera_core.modes.runner import ModeContext, run_mode
from camera_core.tools.self_test import run_self_test
from camera_core.util.cli_tool import silence_stdout

SELF_TEST_DESCRIPTION = (
    "Self-test: start the cameras, record a short clip per camera, verify and delete it; "
    "exit 0 when every camera passed. Takes the same flags as main_camera.py."
)


def print_report(report: dict[str, Any], out: Any) -> None:
    for cam in report["cameras"]:
        verdict = "PASS" if cam["passed"] else "FAIL"
        line = f"self-test cam{cam['camera_id']}: {verdict}  {cam['frames']} frames, {cam['rows']} timing rows"
        if cam.get("problems"):
            line += "  (" + "; ".join(cam["problems"]) + ")"
        print(line, file=out)
    print(f"self-test: {'PASS' if report['passed'] else 'FAIL'}", file=out)
    print(json.dumps(report), file=out)
    out.flush()


def self_test_body(ctx: ModeContext) -> int:
    report = run_self_test(ctx.system)
    try:
        print_report(report, ctx.stdout)
    except BrokenPipeError:  # `--self-test | head`: the verdict still is the exit code
        silence_stdout()
    return 0 if report["passed"] else 1


def run(settings: Settings) -> int:
    settings = settings.replace(self_test=False, auto_start_recording=False, show_preview=False, duration=0.0)
    return run_mode(settings, self_test_body)


def main(argv: list[str]) -> int:
    return run(flags.parse_settings(argv, flags.build_parser(SELF_TEST_DESCRIPTION)))
