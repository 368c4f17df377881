"""The fake picamera2 (tests/fakes) and the real one agree on every call the project makes: the same
probe (agreement_probe.py) runs against each in its own process and must see the same things."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

from real_support import ROOT

PROBE = ROOT / "tests" / "real_picamera2" / "agreement_probe.py"


def run_probe(env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run([sys.executable, str(PROBE)], capture_output=True, text=True, timeout=120, cwd=ROOT, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.splitlines()[-1])  # type: ignore[no-any-return]


def test_the_fake_sees_what_the_real_library_sees() -> None:
    real = run_probe(dict(os.environ))
    # The fake as a Pi 5 (H264Encoder is LibavH264Encoder), without the kit's libcamera on the path.
    fake_env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "LD_LIBRARY_PATH")}
    fake = run_probe({**fake_env, "PYTHONPATH": str(ROOT / "tests" / "fakes"), "PICAMERA2_FAKE_PLATFORM": "pisp"})
    assert "fakes" not in real["module"] and "fakes" in fake["module"], (real["module"], fake["module"])
    assert real["seen"]["float_rate"] == "AttributeError: 'float' object has no attribute 'numerator'"
    differences = {k: (v, fake["seen"].get(k)) for k, v in real["seen"].items() if fake["seen"].get(k) != v}
    assert not differences, differences  # {check: (real, fake)}
    assert set(fake["seen"]) == set(real["seen"])
