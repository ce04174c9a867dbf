"""Alerts that need a person on the dashboard: urgent answers, "needs help at kiosk N",
copay problems, dead letters with retry and resolve; who may do what; all audited."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import insert, select

from intake_samples import alert
from practice_server import alerts, schedule
from practice_server.dashboard import accounts
from practice_server.dashboard.models import StaffSession
from practice_server.models import Alert, Appointment, AuditEntry, Event, Patient
from server_helpers import add_schedule, arrived, event, site_today

PASSWORD = "maple kettle orbit lantern"
HTML = {"Accept": "text/html"}


def sign_in(server, username, role):
    with server.sessions.begin() as db:
        if username not in {a.username for a in accounts.list_all(db)}:
            accounts.create(db, username, username.title(), role, PASSWORD, datetime.now(UTC))
    server.client.cookies.clear()
    assert server.client.post("/staff/login", data={"username": username, "password": PASSWORD},
                              follow_redirects=False).status_code == 303
    return server.scalar(select(StaffSession.csrf_token).order_by(StaffSession.created_at.desc()))


def booked(server, site):
    with server.sessions.begin() as db:
        return add_schedule(db, site.id, [site_today()], per_day=3, tag="Al")


def payment(appointment, status, cents=2500, minutes_ago=0):
    return event("payment.recorded", {
        "appointment_id": appointment["id"], "idempotency_key": uuid.uuid4().hex, "status": status,
        "amount_cents": cents, "decline_reason": "insufficient funds" if status == "declined" else None,
        "at": (datetime.now(UTC) - timedelta(minutes=minutes_ago)).isoformat()})


def page(server, site) -> str:
    r = server.client.get(f"/staff/alerts?site={site.id}", headers=HTML)
    assert r.status_code == 200
    return r.text


def test_failed_check_ins_make_one_help_alert_per_kiosk_without_a_patient(server, site, kiosk):
    kiosk.push(event("identify.failed", {"reason": "no_match", "attempt": 1}),
               event("identify.failed", {"reason": "no_match", "attempt": 2}),
               event("identify.cooldown", {"attempts": 3, "seconds": 300}))
    [only] = server.rows(select(Alert.kind, Alert.patient_id, Alert.occurrences, Alert.device_id))
    assert (only.kind, only.patient_id, only.occurrences, only.device_id) == ("needs_help", None, 3, kiosk.device_id)
    sign_in(server, "desk", "front_desk")
    text = page(server, site)
    assert "A patient needs help at kiosk kiosk-1" in text and "3 times" in text and "paused check-ins" in text


def test_a_declined_copay_alerts_until_paid_and_the_board_follows(server, site, kiosk):
    a = booked(server, site)[0]
    kiosk.push(arrived(a), payment(a, "declined", minutes_ago=2))
    sign_in(server, "desk", "front_desk")
    text = page(server, site)
    assert "Copay problem: ZyxAl0, Pat0" in text and "$25.00: the card was declined" in text
    board = server.client.get(f"/staff/arrivals?site={site.id}", headers=HTML).text
    assert 'class="v-problem">Problem' in board
    kiosk.push(payment(a, "approved"))
    assert "Copay problem" not in page(server, site)  # paid on a second try: closed by itself
    assert 'class="v-paid">Paid' in server.client.get(f"/staff/arrivals?site={site.id}", headers=HTML).text
    kiosk.push(payment(a, "declined", minutes_ago=5))  # an older failure arriving late changes nothing
    assert 'class="v-paid">Paid' in server.client.get(f"/staff/arrivals?site={site.id}", headers=HTML).text


def test_urgent_answers_come_first_and_acknowledging_is_audited(server, site, kiosk):
    appointments = booked(server, site)
    kiosk.push(event("identify.failed", {"reason": "no_match", "attempt": 1}))
    kiosk.push(alert(appointments[1], str(uuid.uuid4())))
    csrf = sign_in(server, "nurse", "clinician")
    text = page(server, site)
    assert text.index("Urgent answer: ZyxAl1, Pat1") < text.index("needs help at kiosk")
    assert "self harm" in text and "A clinician should see the patient now" in text
    with server.sessions() as db:
        urgent = next(a for a in alerts.open_alerts(db, site.id) if a.kind == "urgent_answer")
    url = f"/staff/alerts/{urgent.id}/acknowledge"
    assert server.client.post(url, data={"site": site.id}, follow_redirects=False).status_code == 403
    assert server.client.post(url, data={"site": site.id, "csrf": csrf}, follow_redirects=False).status_code == 303
    assert "Urgent answer" not in page(server, site)
    audit = server.rows(select(AuditEntry.action, AuditEntry.code, AuditEntry.patient_id, AuditEntry.staff_user)
                        .where(AuditEntry.action == "alert.acknowledged"))
    assert [(a.code, a.patient_id) for a in audit] == [("urgent_answer", appointments[1]["patient_id"])]
    assert audit[0].staff_user and server.scalar(select(Alert.acknowledged_by).where(Alert.id == urgent.id)) == "Nurse"


def test_a_dead_letter_is_retried_after_its_cause_is_fixed(server, site, kiosk):
    missing = {"id": str(uuid.uuid4()), "patient_id": str(uuid.uuid4()), "clinician_id": str(uuid.uuid4())}
    [result] = kiosk.push(arrived(missing))
    assert result["status"] == "rejected"
    event_url = f"/staff/dead-letters/{kiosk.device_id}/{result['id']}"
    csrf = sign_in(server, "desk", "front_desk")
    assert "appointment.arrived" in page(server, site)
    assert server.client.post(event_url + "/retry", data={"csrf": csrf, "site": site.id},
                              follow_redirects=False).status_code == 403  # only admins retry
    csrf = sign_in(server, "itadmin", "admin")
    server.client.post(event_url + "/retry", data={"csrf": csrf, "site": site.id}, follow_redirects=False)
    assert server.scalar(select(Event.status).where(Event.event_id == result["id"])) == "rejected"  # still no appointment
    with server.sessions.begin() as db:  # the schedule import brings the appointment
        template = add_schedule(db, site.id, [site_today()], per_day=1, tag="Late")[0]
        db.execute(insert(Patient), [{"id": missing["patient_id"], "first_name": "Late", "last_name": "Comer",
                                      "birth_date": datetime(1980, 1, 1).date(), "updated_at": datetime.now(UTC)}])
        db.execute(insert(Appointment), [{
            "id": missing["id"], "site_id": site.id, "patient_id": missing["patient_id"],
            "clinician_id": template["clinician_id"], "start": datetime.combine(site_today(), time(15)),
            "day": site_today(), "visit_type": "follow_up", "status": "booked", **schedule.stamp_new(db)}])
    server.client.post(event_url + "/retry", data={"csrf": csrf, "site": site.id}, follow_redirects=False)
    assert server.scalar(select(Event.status).where(Event.event_id == result["id"])) == "accepted"
    assert server.scalar(select(Appointment.status).where(Appointment.id == missing["id"])) == "arrived"
    actions = [c for (c,) in server.rows(select(AuditEntry.code).where(AuditEntry.action == "dead_letter.retried"))]
    assert actions == ["still_rejected", "accepted"]
    assert "appointment.arrived" not in page(server, site)


def test_retry_applies_an_arrival_once_the_cancellation_is_undone(server, site, kiosk):
    a = booked(server, site)[0]
    with server.sessions.begin() as db:  # the appointment was cancelled at the desk: the arrival is refused
        db.execute(Appointment.__table__.update().where(Appointment.id == a["id"]).values(status="cancelled"))
    [result] = kiosk.push(arrived(a))
    assert result["status"] == "rejected" and "cancelled" in result["reason"]
    with server.sessions.begin() as db:
        db.execute(Appointment.__table__.update().where(Appointment.id == a["id"]).values(status="booked"))
    csrf = sign_in(server, "itadmin", "admin")
    server.client.post(f"/staff/dead-letters/{kiosk.device_id}/{result['id']}/retry",
                       data={"csrf": csrf, "site": site.id}, follow_redirects=False)
    assert server.scalar(select(Appointment.status).where(Appointment.id == a["id"])) == "arrived"


def test_resolving_needs_a_note_and_takes_it_off_the_list(server, site, kiosk):
    [result] = kiosk.push(event("no.such_type", {}))
    assert result["status"] == "rejected"
    csrf = sign_in(server, "desk", "front_desk")
    url = f"/staff/dead-letters/{kiosk.device_id}/{result['id']}/resolve"
    r = server.client.post(url, data={"csrf": csrf, "site": site.id, "note": "  "}, follow_redirects=False)
    assert r.status_code == 400 and "Write a short note" in r.text
    r = server.client.post(url, data={"csrf": csrf, "site": site.id, "note": "kiosk updated by IT"},
                           follow_redirects=False)
    assert r.status_code == 303
    assert "no.such_type" not in page(server, site)
    row = server.rows(select(Event.resolution_note, Event.resolved_by).where(Event.event_id == result["id"]))[0]
    assert row.resolution_note == "kiosk updated by IT" and row.resolved_by
    assert server.scalar(select(AuditEntry.action).where(AuditEntry.action == "dead_letter.resolved"))
