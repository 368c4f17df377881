"""Resolution and preview size presets 0–7 (IMX296 sizes, as in the original module)."""

from __future__ import annotations

RESOLUTION_PRESETS: dict[int, tuple[int, int, str]] = {
    0: (1456, 1088, "Native (full sensor, no scaling) - 4:3"),
    1: (1280, 960, "SXGA (slight downscale) - 4:3"),
    2: (1280, 720, "HD 720p - 16:9"),
    3: (1024, 768, "XGA - 4:3"),
    4: (800, 600, "SVGA (lower CPU) - 4:3"),
    5: (640, 480, "VGA (minimal CPU) - 4:3"),
    6: (480, 360, "QVGA+ (very low CPU) - 4:3"),
    7: (320, 240, "QVGA (ultra minimal) - 4:3"),
}


def preset_size(preset: int) -> tuple[int, int]:
    """Width and height of a preset; raises KeyError for an unknown preset."""
    width, height, _ = RESOLUTION_PRESETS[preset]
    return width, height


def describe_presets() -> str:
    return ", ".join(f"{n}: {w}x{h}" for n, (w, h, _) in RESOLUTION_PRESETS.items())
