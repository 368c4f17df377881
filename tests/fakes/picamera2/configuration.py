"""Attribute-style wrappers around configuration dicts (picamera2's configuration.py)."""

from __future__ import annotations

from typing import Any, ClassVar

from .controls import Controls


class Configuration:
    """Only _ALLOWED_FIELDS may be set; dict values of _FIELD_CLASS_MAP fields become sub-configurations."""

    _ALLOWED_FIELDS: ClassVar[tuple[str, ...]] = ()
    _FIELD_CLASS_MAP: ClassVar[dict[str, type[Configuration]]] = {}
    _FORWARD_FIELDS: ClassVar[dict[str, str]] = {}

    def __init__(self, d: dict[str, Any] | Configuration | None = None) -> None:
        if isinstance(d, Configuration):
            d = d.make_dict()
        for k in self._ALLOWED_FIELDS:
            self.__setattr__(k, None)
        for k, v in (d or {}).items():
            self.__setattr__(k, v)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in self._FORWARD_FIELDS:
            setattr(getattr(self, self._FORWARD_FIELDS[name]), name, value)
        elif name in self._ALLOWED_FIELDS:
            if name in self._FIELD_CLASS_MAP and isinstance(value, dict):
                value = self._FIELD_CLASS_MAP[name](value)
            super().__setattr__(name, value)
        else:
            raise RuntimeError(f"Invalid field {name!r}")

    def __getattribute__(self, name: str) -> Any:
        forward = super().__getattribute__("_FORWARD_FIELDS")
        if name in forward:
            return getattr(super().__getattribute__(forward[name]), name)
        return super().__getattribute__(name)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.make_dict()!r})"

    def update(self, update_dict: dict[str, Any]) -> None:
        for k, v in update_dict.items():
            self.__setattr__(k, v)

    def make_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {}
        for f in self._ALLOWED_FIELDS:
            if hasattr(self, f):
                value = getattr(self, f)
                if value is not None and f in self._FIELD_CLASS_MAP:
                    value = value.make_dict()
                d[f] = value
        return d


class StreamConfiguration(Configuration):
    _ALLOWED_FIELDS = ("size", "format", "stride", "framesize", "preserve_ar")

    def align(self, optimal: bool = True) -> None:
        align = 2
        if optimal:
            align = {"YUV420": 64, "YVU420": 64, "XBGR8888": 16, "XRGB8888": 16}.get(self.format, 32)
        self.size = (self.size[0] - self.size[0] % align, self.size[1] - self.size[1] % 2)


class SensorConfiguration(Configuration):
    _ALLOWED_FIELDS = ("output_size", "bit_depth")


class CameraConfiguration(Configuration):
    _ALLOWED_FIELDS = (
        "use_case",
        "buffer_count",
        "transform",
        "display",
        "encode",
        "colour_space",
        "controls",
        "main",
        "lores",
        "raw",
        "queue",
        "sensor",
    )
    _FIELD_CLASS_MAP: ClassVar[dict[str, type[Configuration]]] = {
        "main": StreamConfiguration,
        "lores": StreamConfiguration,
        "raw": StreamConfiguration,
        "sensor": SensorConfiguration,
    }
    _FORWARD_FIELDS: ClassVar[dict[str, str]] = {"size": "main", "format": "main"}

    def __init__(self, d: dict[str, Any] | None = None, picam2: Any = None) -> None:
        d = d or {}
        d = {k: (Controls(picam2, v) if k == "controls" else v) for k, v in d.items()}
        super().__init__(d)
        if "raw" not in d:
            self.enable_raw()
        if "sensor" not in d:
            self.sensor = SensorConfiguration()

    def make_dict(self) -> dict[str, Any]:
        d = super().make_dict()
        if isinstance(d.get("controls"), Controls):
            d["controls"] = d["controls"].make_dict()
        return d

    def enable_lores(self, onoff: bool = True) -> None:
        self.lores = StreamConfiguration({"size": self.main.size, "format": "YUV420"}) if onoff else None

    def enable_raw(self, onoff: bool = True) -> None:
        self.raw = StreamConfiguration({"size": None, "format": None}) if onoff else None

    def align(self, optimal: bool = True) -> None:
        self.main.align(optimal)
        if self.lores is not None:
            self.lores.align(optimal)
