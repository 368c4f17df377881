"""`python -m camera_core`: the same CLI as main_camera.py, plus the tools (convert, ...)."""

import sys

from camera_core.cli import main

sys.exit(main())
