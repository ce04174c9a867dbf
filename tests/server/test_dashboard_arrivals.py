"""The arrivals board: what it shows per appointment, "Roomed" (CSRF, audit, kiosks see
it), the live stream, site limits, and no patient data in the logs."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from practice_server.dashboard import accounts
from practice_server.dashboard.auth import COOKIE
from practice_server.dashboard.models import StaffSession
from practice_server.dashboard.waiting_room import arrivals, live_marker, site_day
from practice_server.models import Appointment, AuditEntry, PatientConsent

from server_helpers import add_schedule, arrived, site_today

PASSWORD = "maple kettle orbit lantern"
HTML = {"Accept": "text/html"}


def staff(server, username="desk1", role="front_desk", site_ids=()):
    with server.sessions.begin() as db:
        accounts.create(db, username, "Dana Desk", role, PASSWORD, datetime.now(UTC), site_ids=site_ids)
    r = server.client.post("/staff/login", data={"username": username, "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 303
    return server.scalar(select(StaffSession.csrf_token).order_by(StaffSession.created_at.desc()))


def booked(server, site, per_day=3):
    with server.sessions.begin() as db:
        return add_schedule(db, site.id, [site_today()], per_day=per_day, tag="Arr")


def test_the_board_shows_who_waits_and_what_they_did(server, site, kiosk):
    appointments = booked(server, site)
    staff(server)
    kiosk.push(arrived(appointments[1], at=datetime.now(UTC) - timedelta(minutes=12)))
    with server.sessions.begin() as db:  # a consent signed at the kiosk for that visit
        db.add(PatientConsent(
            id="c0000000-0000-4000-8000-000000000001", site_id=site.id, device_id=kiosk.device_id,
            event_id="e0000000-0000-4000-8000-000000000001", patient_id=appointments[1]["patient_id"],
            appointment_id=appointments[1]["id"], document_id="hipaa", document_version="1", document_language="en",
            document_sha256="0" * 64, status="signed", at=datetime.now(UTC), day=site_today(),
            received_at=datetime.now(UTC)))
    page = server.client.get(f"/staff/arrivals?site={site.id}", headers=HTML)
    assert page.status_code == 200
    assert "1 waiting" in page.text
    body = page.text.split('id="arrivals"')[1]
    first_row = body.split("</tr>")[0]
    assert "ZyxArr1, Pat1" in first_row  # the waiting patient is on top
    assert "12 min" in first_row and "Signed" in first_row and "Roomed</button>" in first_row
    assert "ZyxArr0, Pat0" in body and "Not yet" in body
    viewed = server.rows(select(AuditEntry.action, AuditEntry.code, AuditEntry.staff_user).where(
        AuditEntry.action == "staff.viewed"))
    assert [(a, c) for a, c, _ in viewed] == [("staff.viewed", "arrivals")] and viewed[0][2]
    # "Who saw this patient?" is one query: a row per patient on the board.
    shown = server.rows(select(AuditEntry.patient_id, AuditEntry.code, AuditEntry.staff_user).where(
        AuditEntry.action == "staff.viewed_patient"))
    assert sorted(p for p, _, _ in shown) == sorted(a["patient_id"] for a in appointments)
    assert {(c, u) for _, c, u in shown} == {("arrivals", viewed[0][2])}


def test_roomed_needs_the_token_is_audited_and_reaches_the_kiosks(server, site, kiosk):
    appointments = booked(server, site)
    csrf = staff(server)
    kiosk.push(arrived(appointments[0]))
    _, cursor, _ = kiosk.pull_all()
    url = f"/staff/arrivals/{appointments[0]['id']}/roomed"
    assert server.client.post(url, data={"site": site.id}, follow_redirects=False).status_code == 403
    r = server.client.post(url, data={"site": site.id, "csrf": csrf}, follow_redirects=False)
    assert r.status_code == 303
    row = server.rows(select(Appointment.status, Appointment.roomed_at).where(Appointment.id == appointments[0]["id"]))[0]
    assert row.status == "seen" and row.roomed_at is not None
    seen, _, _ = kiosk.pull_all(cursor)
    assert seen["appointments"][appointments[0]["id"]]["status"] == "seen"  # queue positions move up
    assert server.scalar(select(AuditEntry.code).where(AuditEntry.action == "appointment.roomed")) == appointments[0]["id"]
    again = server.client.post(url, data={"site": site.id, "csrf": csrf}, follow_redirects=False)
    assert again.status_code == 404 and "not waiting" in again.text  # two people pressed it


def test_staff_of_one_site_cannot_see_or_change_another(server, site, kiosk):
    other = server.site("Southside Clinic")
    appointments = booked(server, site)
    kiosk.push(arrived(appointments[0]))
    csrf = staff(server, site_ids=(other.id,))
    page = server.client.get(f"/staff/arrivals?site={site.id}", headers=HTML)
    assert "Southside Clinic" in page.text and "ZyxArr" not in page.text  # their own site instead
    r = server.client.post(f"/staff/arrivals/{appointments[0]['id']}/roomed", data={"site": site.id, "csrf": csrf},
                           follow_redirects=False)
    assert r.status_code == 404
    assert server.client.get(f"/staff/live?site={site.id}").status_code == 403


def test_the_marker_changes_with_each_thing_the_board_shows(server, site, kiosk):
    appointments = booked(server, site)
    now = datetime.now(UTC)

    def marker():
        with server.sessions() as db:
            return live_marker(db, site.id, site_day(db, site.id, now))

    before = marker()
    kiosk.push(arrived(appointments[2]))
    after_arrival = marker()
    with server.sessions.begin() as db:
        rows = arrivals(db, site.id, site_day(db, site.id, now))
    assert before != after_arrival and rows[0].appointment_id == appointments[2]["id"]
    assert marker() == after_arrival  # nothing changed, nothing to send


def test_the_live_stream_sends_the_board_and_ends_with_the_session(server, site, kiosk, caplog):
    appointments = booked(server, site)
    kiosk.push(arrived(appointments[0]))
    staff(server)
    start = datetime.now(UTC)
    server.clock.pinned = start
    caplog.set_level(logging.DEBUG)
    events = []
    with server.client.stream("GET", f"/staff/live?site={site.id}") as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        name = None
        for line in stream.iter_lines():
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                events.append((name, json.loads(line[6:])))
                if name == "arrivals":
                    server.clock.pinned = start + timedelta(minutes=16)  # nobody touched the page since
            if events and events[-1][0] == "signed_out":
                break
    assert [n for n, _ in events] == ["arrivals", "signed_out"]
    assert events[0][1]["waiting"] == 1 and "ZyxArr0, Pat0" in events[0][1]["html"]
    codes = server.rows(select(AuditEntry.code).where(AuditEntry.action == "staff.viewed"))
    assert [c for (c,) in codes] == ["arrivals.live"]
    shown = server.rows(select(AuditEntry.patient_id, AuditEntry.code).where(
        AuditEntry.action == "staff.viewed_patient"))
    assert sorted(shown) == sorted((a["patient_id"], "arrivals.live") for a in appointments)
    logged = "\n".join(r.getMessage() + json.dumps(getattr(r, "fields", {}), default=str) for r in caplog.records)
    assert "ZyxArr" not in logged and "Pat0" not in logged


def test_a_live_board_audits_each_patient_once_per_stream(server, site, kiosk):
    """Every change re-sends the board; only a patient the stream had not shown yet gets a
    new audit row (a board left open all day must not write 40 rows per arrival)."""
    from starlette.requests import Request

    from practice_server.dashboard import live

    first = booked(server, site)
    staff(server)
    token = server.client.cookies.get(COOKIE)
    request = Request({"type": "http", "app": server.app, "method": "GET", "path": "/staff/live",
                       "root_path": "", "query_string": b"", "headers": []})
    shown: set[str] = set()

    def look(marker):
        signed_in, marker, data = live._look(request, "arrivals", token, site.id, None, marker, shown)
        assert signed_in and (data is None or "patients" not in data)  # ids are not sent to the page
        return marker, data

    def audited() -> list[str]:
        return sorted(p for (p,) in server.rows(select(AuditEntry.patient_id).where(
            AuditEntry.action == "staff.viewed_patient")))

    marker, data = look(None)
    assert data is not None and audited() == sorted(a["patient_id"] for a in first)
    kiosk.push(arrived(first[0]))
    marker, data = look(marker)
    assert data is not None and data["waiting"] == 1
    assert audited() == sorted(a["patient_id"] for a in first)  # re-sent, not re-audited
    later = booked(server, site, per_day=1)  # an appointment added to today's schedule
    marker, data = look(marker)
    assert data is not None
    assert audited() == sorted(a["patient_id"] for a in first + later)
    assert look(marker)[1] is None  # nothing changed, nothing sent, nothing audited
