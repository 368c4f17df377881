"""What can go wrong when driving a slave, as exceptions a master can catch one by one."""

from __future__ import annotations

from typing import Any


class SlaveClientError(Exception):
    """Base class of the client's errors."""


class SlaveError(SlaveClientError):
    """The slave answered with status `error`; `code` is the protocol error code."""

    def __init__(self, command: str, code: str, message: str, reply: dict[str, Any]) -> None:
        super().__init__(f"{command}: {code}: {message}")
        self.command = command
        self.code = code
        self.message = message
        self.reply = reply


class SlaveTimeout(SlaveClientError, TimeoutError):
    """No reply within the timeout; the slave may still answer later (that reply is discarded)."""


class SlaveDied(SlaveClientError):
    """The slave process ended or its pipes closed; says how, with the end of its stderr."""

    def __init__(self, name: str, returncode: int | None, stderr_tail: str, detail: str = "") -> None:
        how = "is gone" if returncode is None else f"exited with code {returncode}"
        text = f"slave {name} {how}"
        if detail:
            text += f" ({detail})"
        if stderr_tail.strip():
            text += f"; its stderr ended with:\n{stderr_tail.rstrip()}"
        super().__init__(text)
        self.name = name
        self.returncode = returncode
        self.stderr_tail = stderr_tail
