"""Start-up as on a real kiosk: the welcome screen first, the database right after it."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.gui
CHILD = Path(__file__).with_name("deferred_store_child.py")


def _start(tmp_path, mode: str) -> dict:
    env = {**os.environ, "KIOSK_DATA_DIR": str(tmp_path / "data"),
           "KIOSK_KEY_FILE": str(tmp_path / "keys" / "data.key"), "HOME": str(tmp_path)}
    env.pop("KIOSK_CONFIG", None)
    run = subprocess.run([sys.executable, str(CHILD), mode], env=env, capture_output=True, text=True,
                         timeout=120, cwd=Path(__file__).resolve().parents[2])
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


def test_welcome_first_then_the_database_then_check_in(tmp_path):
    seen = _start(tmp_path, "ok")
    assert seen["first_screen"] == "welcome"
    assert not seen["store_open_at_first_frame"], "the database should open after the first frame"
    assert seen["store_open"] and seen["screen_after"] == "welcome"
    assert seen["after_check_in"] == "last_name"


def test_a_database_that_cannot_open_gets_an_apology_and_a_log_line_for_it(tmp_path):
    seen = _start(tmp_path, "bad-key")
    assert not seen["store_open"]
    assert seen["screen_after"] == "problem"
    assert "store.unavailable" in seen["log"] and "chmod 600" in seen["log"]
