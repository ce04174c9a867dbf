"""practice_server.admin: the functions IT's provisioning CLI calls."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from practice_server import admin
from practice_server.models import AuditEntry, Bundle


def test_create_list_find_sites(server):
    with server.sessions.begin() as db:
        north = admin.create_site(db, "  Northside   Clinic ", "America/Chicago")
        south = admin.create_site(db, "Southside Clinic", "America/New_York")
    assert north.name == "Northside Clinic"
    with server.sessions() as db:
        assert admin.list_sites(db) == [north, south]
        assert admin.find_site(db, north.id) == north
        assert admin.find_site(db, "northside clinic") == north
        assert admin.find_site(db, "Nowhere") is None
        assert admin.find_site(db, "x" * 300) is None
    assert server.scalar(select(Bundle.kind).where(Bundle.site_id == north.id)) == "config"


@pytest.mark.parametrize("name, timezone, words", [
    ("A", "Mars/Olympus", "time zone"), ("A", "", "time zone"), ("A", "../../etc/passwd", "time zone"),
    ("   ", "UTC", "name"), ("x" * 201, "UTC", "200"),
])
def test_create_site_refuses_bad_input(server, name, timezone, words):
    with server.sessions.begin() as db, pytest.raises(ValueError, match=words):
        admin.create_site(db, name, timezone)


def test_duplicate_site_names_are_refused(server):
    with server.sessions.begin() as db:
        admin.create_site(db, "Northside Clinic", "UTC")
    with server.sessions.begin() as db, pytest.raises(ValueError, match="already"):
        admin.create_site(db, "NORTHSIDE clinic", "UTC")


def test_issue_token(server, site):
    now = datetime.now(UTC)
    with server.sessions.begin() as db:
        issued = admin.issue_enrolment_token(db, site.id, timedelta(hours=2), now)
    assert issued.site_id == site.id and issued.expires_at == now + timedelta(hours=2)
    assert len(issued.token) >= 40
    with server.sessions.begin() as db:
        with pytest.raises(ValueError, match="no site"):
            admin.issue_enrolment_token(db, "nope", timedelta(hours=1), now)
        with pytest.raises(ValueError, match="lifetime"):
            admin.issue_enrolment_token(db, site.id, timedelta(0), now)
        with pytest.raises(ValueError, match="aware"):
            admin.issue_enrolment_token(db, site.id, timedelta(hours=1), datetime.now())


def test_revoke(server, kiosk):
    now = datetime.now(UTC)
    with server.sessions.begin() as db:
        assert admin.revoke_device(db, "no-such-device", now, "lost") is False
        assert admin.revoke_device(db, kiosk.device_id, now, "stolen") is True
    with server.sessions.begin() as db:
        assert admin.revoke_device(db, kiosk.device_id, now + timedelta(hours=1), "again") is True
    with server.sessions() as db:
        fleet = admin.list_fleet(db, now)
    assert fleet[0].revoked_at == now and not fleet[0].online
    actions = server.rows(select(AuditEntry.action).where(AuditEntry.device_id == kiosk.device_id))
    assert [a for (a,) in actions].count("device.revoked") == 1


def test_fleet_lists_silent_kiosks_too(server, site, kiosk):
    with server.sessions() as db:
        fleet = admin.list_fleet(db, datetime.now(UTC))
    assert [(d.hostname, d.last_heartbeat, d.online) for d in fleet] == [("kiosk-1", None, False)]


def test_functions_flush_but_leave_the_commit_to_the_caller(server):
    with server.sessions() as db:
        admin.create_site(db, "Uncommitted Clinic", "UTC")
        db.rollback()
    with server.sessions() as db:
        assert admin.list_sites(db) == []
