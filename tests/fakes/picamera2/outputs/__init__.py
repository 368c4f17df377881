"""Fake picamera2.outputs: Output, FileOutput, PyavOutput."""

from .fileoutput import FileOutput
from .output import Output
from .pyavoutput import PyavOutput

__all__ = ["FileOutput", "Output", "PyavOutput"]
