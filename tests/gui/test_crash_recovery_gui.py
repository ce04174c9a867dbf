"""A kiosk process killed mid-visit (power cut, crash, watchdog) comes back to the welcome
screen with nothing of the patient on it, and what the patient confirmed is kept once."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.store.demo_clinic import DEMO_PATIENTS

pytestmark = pytest.mark.gui
CHILD = Path(__file__).with_name("crash_child.py")
ROOT = Path(__file__).resolve().parents[2]


def test_killed_mid_visit_it_restarts_to_a_clean_welcome(tmp_path):
    env = {**os.environ, "KIOSK_DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(ROOT),
           "KIOSK_KEY_FILE": str(tmp_path / "keys" / "data.key"), "HOME": str(tmp_path)}
    env.pop("KIOSK_CONFIG", None)
    visit = subprocess.Popen([sys.executable, str(CHILD), "visit"], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        line = visit.stdout.readline()
        assert line.startswith("CONFIRMED review_contact"), visit.stderr.read()[-3000:] if not line else line
        os.kill(visit.pid, signal.SIGKILL)  # no clean-up of any kind
        assert visit.wait(30) == -signal.SIGKILL
    finally:
        if visit.poll() is None:
            visit.kill()
    after = subprocess.run([sys.executable, str(CHILD), "after"], env=env, capture_output=True, text=True,
                           timeout=120, cwd=ROOT)
    assert after.returncode == 0, after.stderr[-3000:]
    seen = json.loads(after.stdout.strip().splitlines()[-1])
    assert seen["screen"] == "welcome" and not seen["in_visit"]
    maria = DEMO_PATIENTS["maria"]
    shown = " ".join(seen["texts"])
    for phi in (maria.first_name, "García", "Garcia", maria.phone[-4:]):
        assert phi not in shown
    assert seen["arrivals"] == 1  # her check-in was committed before the kill, and only once
