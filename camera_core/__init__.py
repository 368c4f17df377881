"""camera_core: multi-camera recording with exact per-frame timing."""

__version__ = "0.1.0"
