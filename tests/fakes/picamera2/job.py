"""Job: an operation run on the camera loop, one stage per frame, with a Future for its result."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import CancelledError, Future
from typing import Any, Generic, TypeVar

T = TypeVar("T")

__all__ = ["CancelledError", "Job"]


class Job(Generic[T]):
    def __init__(
        self, functions: list[Callable[[], tuple[bool, Any]]], signal_function: Callable[[Job[T]], None] | None = None
    ) -> None:
        self._functions = list(functions)
        self._future: Future[T] = Future()
        self._future.set_running_or_notify_cancel()
        self._signal_function = signal_function
        self._result: Any = None
        self.calls = 0

    def execute(self) -> bool:
        """Run stages until one is not done; True when the whole job has finished."""
        assert self._functions, "Job already completed!"
        try:
            while self._functions:
                done, result = self._functions[0]()
                self.calls += 1
                if not done:
                    break
                self._functions.pop(0)
                self._result = result
        except Exception as e:
            self._future.set_exception(e)
            self._functions = []
        return not self._functions

    def signal(self) -> None:
        assert not self._functions, "Job not finished!"
        if not self._future.done():
            self._future.set_result(self._result)
        if self._signal_function:
            self._signal_function(self)

    def get_result(self, timeout: float | None = None) -> T:
        return self._future.result(timeout=timeout)

    def cancel(self) -> None:
        self._future.set_exception(CancelledError())
