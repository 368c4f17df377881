"""Local display: OpenCV preview windows and the check that a window can be opened at all."""

from camera_core.display.availability import DisplayProbe, display_problem, environment_problem
from camera_core.display.windows import PreviewWindows

__all__ = ["DisplayProbe", "PreviewWindows", "display_problem", "environment_problem"]
