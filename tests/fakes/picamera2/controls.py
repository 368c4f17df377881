"""Controls: pending camera controls, with picamera2's virtual FrameRate control (controls.py)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .picamera2 import Picamera2


def _framerates_to_durations(framerates: Any) -> tuple[int, int]:
    if not isinstance(framerates, tuple | list):
        framerates = (framerates, framerates)
    return (int(1000000 / framerates[1]), int(1000000 / framerates[0]))


def _durations_to_framerates(durations: tuple[int, int]) -> float | tuple[float, float]:
    if durations[0] == durations[1]:
        return 1000000 / durations[0]
    return (1000000 / durations[1], 1000000 / durations[0])


_VIRTUAL: dict[str, tuple[str, Callable[[Any], Any], Callable[[Any], Any]]] = {
    "FrameRate": ("FrameDurationLimits", _framerates_to_durations, _durations_to_framerates),
}


class Controls:
    """Attribute-style control set; names must be advertised by the camera (camera_controls)."""

    def __init__(self, picam2: Picamera2 | None, controls: dict[str, Any] | Controls | None = None) -> None:
        self._picam2 = picam2
        self._controls: set[str] = set()
        self._lock = threading.Lock()
        self.set_controls(controls if controls is not None else {})

    def __setattr__(self, name: str, value: Any) -> None:
        if not name.startswith("_"):
            if name in _VIRTUAL:
                real, to_real, _ = _VIRTUAL[name]
                name, value = real, to_real(value)
            if self._picam2 is None or name not in self._picam2.camera_ctrl_info:
                raise RuntimeError(f"Control {name} is not advertised by libcamera")
            self._controls.add(name)
        self.__dict__[name] = value

    def __getattribute__(self, name: str) -> Any:
        if name in _VIRTUAL:
            real, _, from_real = _VIRTUAL[name]
            return from_real(super().__getattribute__(real))
        return super().__getattribute__(name)

    def __repr__(self) -> str:
        return f"<Controls: {self.make_dict()}>"

    def __enter__(self) -> Controls:
        self._lock.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self._lock.release()

    def set_controls(self, controls: dict[str, Any] | Controls) -> None:
        with self._lock:
            if isinstance(controls, dict):
                for k, v in controls.items():
                    self.__setattr__(k, v)
            elif isinstance(controls, Controls):
                for k in controls._controls:
                    self.__setattr__(k, controls.__dict__[k])
            else:
                raise RuntimeError(f"Cannot update controls with {type(controls)} type")

    def get_libcamera_controls(self) -> dict[str, Any]:
        """The pending controls keyed by name (real: by libcamera ControlId, with Rectangle/Size values)."""
        with self._lock:
            return {k: self.__dict__[k] for k in self._controls}

    def make_dict(self) -> dict[str, Any]:
        with self._lock:
            return {k: self.__dict__[k] for k in self._controls}
