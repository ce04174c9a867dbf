"""The README's demo: `python -m kiosk --tour DIR` runs end to end, as its own process.

It also checks what the tour leaves behind: screenshot names say the step, never a
patient, and the kiosk's log holds none of the demo patients' data.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.store.demo_clinic import DEMO_PATIENTS

pytestmark = [pytest.mark.gui, pytest.mark.slow]


def _phi(patient) -> list[str]:
    d = patient.birth_date
    return [
        patient.first_name, patient.last_name, patient.phone, patient.email, patient.street,
        d.isoformat(), f"{d.month:02d}/{d.day:02d}/{d.year}", f"{d.month:02d}{d.day:02d}{d.year}",
    ]


def test_tour_runs_and_leaks_nothing(tmp_path):
    out = tmp_path / "tour"
    env = {
        **os.environ,
        "KIOSK_DATA_DIR": str(tmp_path / "data"),
        "KIOSK_KEY_FILE": str(tmp_path / "keys" / "data.key"),
        "HOME": str(tmp_path),
    }
    env.pop("KIOSK_CONFIG", None)
    run = subprocess.run(
        [sys.executable, "-m", "kiosk", "--tour", str(out)],
        env=env, cwd=Path(__file__).resolve().parents[2], capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    shots = sorted(p.name for p in out.glob("*.png"))
    assert len(shots) >= 25 and "failed" not in " ".join(shots)
    assert all(p.stat().st_size > 10_000 for p in out.glob("*.png")), "an empty screenshot"

    log = (tmp_path / "data" / "logs" / "kiosk.log").read_text() + run.stderr + run.stdout
    assert "visit.ended" in log, "the tour's visits were not logged at all"
    for key, patient in DEMO_PATIENTS.items():
        for secret in _phi(patient):
            assert secret.lower() not in log.lower(), f"{key}'s data in the log"
            assert all(secret.lower() not in name.lower() for name in shots)
