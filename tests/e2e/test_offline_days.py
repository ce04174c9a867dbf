"""Offline for 72 hours: the kiosk keeps checking patients in from its local schedule
while the practice server is down, and everything syncs when it comes back.

The kiosk's clock (journey and agent) is injected and moved a day at a time; the server
runs on the real clock, so when it returns the kiosk is 3 days "ahead" of it and the
agent must also correct its signing clock from the server's Date header.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from kiosk.config import load_config
from kiosk.store import open_store
from kiosk.store.demo_clinic import build_demo_schedule
from kiosk.sync_health import OFFLINE, ONLINE, read_health
from practice_server import models as pm
from sync_agent.agent import SyncAgent
from sync_agent.client import SyncClient
from sync_protocol.device_key import load_device_key
from sync_agent.errors import TransientError
from tests.e2e.harness import enrol_kiosk, start_server
from tests.e2e.kiosk_visits import check_in, fail_to_identify, site_noon
from tests.e2e.practice_db import load_demo, server_rows

pytestmark = pytest.mark.slow
OFFLINE_DAYS = 3  # today + 3 days = 72 hours


class KioskClock:
    def __init__(self) -> None:
        self.now = site_noon()

    def __call__(self):
        return self.now


def patients_by_day(site_today):
    """For each day, patients the kiosk can identify unambiguously with a booked visit."""
    _, patients, appointments = build_demo_schedule(site_today)
    identity = Counter((p.last_name.lower(), p.birth_date) for p in patients)
    by_id = {p.id: p for p in patients}
    days: dict[int, list] = {}
    for a in appointments:
        p = by_id[a.patient_id]
        visits_that_day = sum(1 for b in appointments if b.patient_id == p.id and b.start.date() == a.start.date())
        if identity[(p.last_name.lower(), p.birth_date)] == 1 and visits_that_day == 1:
            days.setdefault((a.start.date() - site_today).days, []).append((p, a.id))
    return days


def test_kiosk_works_72_hours_offline_then_syncs_everything(tmp_path):
    database_url = f"sqlite:///{tmp_path / 'practice.db'}"
    load_demo(database_url)
    server = start_server(tmp_path / "server", database_url, tls=True)
    try:
        kiosk = enrol_kiosk(server, database_url, tmp_path / "kiosk", site_name="Demo Family Clinic")
        config = load_config(kiosk.config_path)
        clock = KioskClock()
        store = open_store(config.data_dir, config.key_file)
        client = SyncClient(
            config.server_url, config.device_id, load_device_key(config.device_key_file),
            ca_file=config.server_ca_file, timeout=5.0, clock=clock,
        )
        agent = SyncAgent(store, client, config, clock=clock, health_path=config.health_file)
        agent.sync_once()  # schedule for today and the next 3 days

        server.kill()  # the network (or the practice) is gone
        site_today = clock.now.astimezone().date()
        planned = patients_by_day(site_today)
        checked_in: list[str] = []
        for day in range(OFFLINE_DAYS + 1):
            clock.now = site_noon(day)
            for patient, appointment_id in planned[day][:3]:
                got = check_in(store, clock, patient.last_name, patient.birth_date)
                assert got == appointment_id
                checked_in.append(appointment_id)
            fail_to_identify(store, clock)
            with pytest.raises(TransientError):
                agent.sync_once()
            health = read_health(config.health_file)
            assert health.state == OFFLINE and health.backlog == store.status().outbox_pending > 0

        backlog = {e.id for e in store.outbox_pending(10_000)}
        assert len(checked_in) == 3 * (OFFLINE_DAYS + 1)
        assert store.status().outbox_oldest <= clock.now - timedelta(hours=72)

        server.start()  # back, on the real clock: 3 days behind the kiosk
        report = agent.sync_once()
        assert report.backlog == 0
        assert store.outbox_pending(10) == [] and store.status().dead_letters == 0
        assert read_health(config.health_file).state == ONLINE
        assert abs(agent.client.skew.total_seconds() + 72 * 3600) < 24 * 3600  # learnt from Date

        events = server_rows(database_url, select(pm.Event).where(pm.Event.device_id == kiosk.device_id))
        assert {e.event_id for e in events} >= backlog
        assert {e.status for e in events} == {"accepted"}
        arrived = server_rows(database_url, select(pm.Appointment).where(pm.Appointment.id.in_(checked_in)))
        assert {a.status for a in arrived} == {"arrived"} and len(arrived) == len(checked_in)
        store.close()
        agent.client.close()
    finally:
        server.stop()
