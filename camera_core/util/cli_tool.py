"""How every command-line tool ends: a closed output pipe (`tool | head`) ends it quietly, running out
of memory is one clear line, and each has its own documented exit code; no traceback either way."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

#: the reader of our output went away (`... | head`): 128 + SIGPIPE, as a shell reports a tool
#: killed by SIGPIPE, so `set -o pipefail` still sees that the output was cut short
EXIT_BROKEN_PIPE = 141
#: the tool ran out of memory (MemoryError)
EXIT_OUT_OF_MEMORY = 3


def silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


def _say(line: str) -> None:
    try:
        print(line, file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass  # stderr is gone too: the exit code is all that is left


def run_tool(name: str, body: Callable[[], int]) -> int:
    """Run a tool's body; its exit code, or EXIT_BROKEN_PIPE / EXIT_OUT_OF_MEMORY."""
    try:
        code = body()
        sys.stdout.flush()  # a closed pipe shows here when the output was small
        return code
    except BrokenPipeError:
        silence_stdout()
        return EXIT_BROKEN_PIPE
    except MemoryError:
        _say(
            f"{name}: error: out of memory (the input is too large for this machine's free memory; "
            f"free some memory or run it on a larger machine); exit code {EXIT_OUT_OF_MEMORY}"
        )
        return EXIT_OUT_OF_MEMORY
