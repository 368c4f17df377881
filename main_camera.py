#!/usr/bin/env python3
"""camera_core's entry point: `uv run main_camera.py --help`."""

import sys

from camera_core.cli import main

if __name__ == "__main__":
    sys.exit(main())
