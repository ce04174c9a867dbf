"""End to end on loopback: a real practice server (uvicorn, TLS from a CA made here),
kiosks enrolled by the provisioning code, check-ins made through the kiosk's own
journey, and the real sync agent process. The server must end with exactly the
kiosk's events, applied."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from kiosk.config import load_config
from kiosk.store import open_store
from kiosk.sync_health import ONLINE, read_health
from practice_server import admin
from practice_server import models as pm
from tests.e2e.harness import REPO, enrol_kiosk, start_server
from tests.e2e.kiosk_visits import DEMO, check_in, fail_to_identify, site_noon
from tests.e2e.practice_db import load_demo, server_rows

pytestmark = pytest.mark.slow


def utc_now() -> datetime:
    return datetime.now(UTC)


def run_agent(config_path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sync_agent", *args, "--config", str(config_path)],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )


def test_check_ins_reach_the_server_exactly_once(tmp_path, database_url):
    load_demo(database_url)
    with start_server(tmp_path / "server", database_url, tls=True) as server:
        kiosk = enrol_kiosk(server, database_url, tmp_path / "kiosk1", site_name="Demo Family Clinic")
        other = enrol_kiosk(server, database_url, tmp_path / "kiosk2", site_name="Demo Family Clinic")

        # First sync: the kiosk starts empty and pulls its site's schedule.
        first = run_agent(kiosk.config_path, "--once")
        assert first.returncode == 0, first.stdout + first.stderr
        config = load_config(kiosk.config_path)
        noon = site_noon()
        with open_store(config.data_dir, config.key_file) as store:
            maria, walter = DEMO["maria"], DEMO["walter"]
            arrived = {
                check_in(store, lambda: noon, maria.last_name, maria.birth_date, new_phone="(555) 867-5309"),
                check_in(store, lambda: noon, "smith", DEMO["john_smith"].birth_date, first_name="John"),
                check_in(store, lambda: noon, walter.last_name, walter.birth_date),
            }
            fail_to_identify(store, lambda: noon)
            kiosk_events = {e.id: e for e in store.outbox_pending(10_000)}
            assert len(kiosk_events) >= 6  # 3 arrivals, a contact change, a failure, visit ends

        second = run_agent(kiosk.config_path, "--once")
        assert second.returncode == 0, second.stdout + second.stderr

        with open_store(config.data_dir, config.key_file) as store:
            assert store.outbox_pending(10) == []
            assert store.status().dead_letters == 0
        health = read_health(config.health_file)
        assert health.state == ONLINE and health.backlog == 0 and health.last_error is None

        # The server has exactly the kiosk's events, each once, all accepted and applied.
        events = server_rows(database_url, select(pm.Event).where(pm.Event.device_id == kiosk.device_id))
        assert sorted(e.event_id for e in events) == sorted(kiosk_events)
        assert {e.status for e in events} == {"accepted"}
        for e in events:
            assert e.type == kiosk_events[e.event_id].event_type
        appointments = {
            a.id: a for a in server_rows(database_url, select(pm.Appointment).where(pm.Appointment.id.in_(arrived)))
        }
        assert {a.status for a in appointments.values()} == {"arrived"}
        [change] = [e for e in kiosk_events.values() if e.event_type == "patient.contact_changed"]
        [maria_row] = server_rows(database_url, select(pm.Patient).where(pm.Patient.id == change.payload["patient_id"]))
        assert (maria_row.last_name, maria_row.phone) == (maria.last_name, "(555) 867-5309")

        # IT's fleet view has the kiosk's heartbeat.
        fleet = {d.device_id: d for d in server_rows(database_url, admin_fleet)}
        assert fleet[kiosk.device_id].online and fleet[kiosk.device_id].backlog == 0

        # Another kiosk of the same site learns of the arrivals through its schedule pull:
        # Maria is told she is already checked in there too.
        pulled = run_agent(other.config_path, "--once")
        assert pulled.returncode == 0, pulled.stdout + pulled.stderr
        other_config = load_config(other.config_path)
        with open_store(other_config.data_dir, other_config.key_file) as store:
            today = noon.astimezone().date()
            [match] = store.find_appointments(maria.last_name, maria.birth_date, today)
            assert match.status == "arrived"

        status = run_agent(kiosk.config_path, "status")
        assert status.returncode == 0 and json.loads(status.stdout)["state"] == ONLINE


def admin_fleet(db):
    return admin.list_fleet(db, utc_now())
