"""alert.raised: stored for the staff dashboard before its form response exists, once per
alert id, logged without PHI; open_alerts and acknowledge."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from intake_samples import PHQ9, alert, form_response
from practice_server import alerts
from practice_server.models import Alert
from server_helpers import add_schedule, site_today


@pytest.fixture
def appointments(server, site):
    with server.sessions.begin() as db:
        return add_schedule(db, site.id, [site_today()], per_day=3)


def open_alerts(server, site_id):
    with server.sessions() as db:
        return alerts.open_alerts(db, site_id)


def test_an_alert_before_its_response_is_open_for_the_site(server, site, kiosk, appointments, caplog):
    a = appointments[0]
    alert_id = str(uuid.uuid4())
    raised_at = datetime(2025, 5, 1, 14, 40, 5, tzinfo=UTC)
    caplog.set_level(logging.INFO)
    results = kiosk.push(alert(a, alert_id, raised_at=raised_at.isoformat()), form_response(a, urgent=True))
    assert [r["status"] for r in results] == ["accepted", "accepted"]
    [only] = open_alerts(server, site.id)
    assert (only.id, only.kind, only.priority, only.patient_id, only.appointment_id) == (
        alert_id, "urgent_answer", "high", a["patient_id"], a["id"])
    assert (only.questionnaire_url, only.flags, only.raised_at) == (PHQ9, ["self_harm"], raised_at)
    lines = [r for r in caplog.records if r.getMessage() == "alert.raised"]
    assert len(lines) == 1
    logged = str(lines[0].__dict__)
    assert alert_id in logged
    assert "self_harm" not in logged and a["patient_id"] not in logged  # no PHI in the log


def test_the_same_event_twice_and_the_same_alert_in_two_events_keep_one_alert(server, site, kiosk, appointments):
    a = appointments[0]
    alert_id = str(uuid.uuid4())
    first = alert(a, alert_id)
    assert kiosk.push(first)[0]["status"] == "accepted"
    assert kiosk.push(first)[0]["status"] == "duplicate"
    again = alert(a, alert_id.upper())  # re-sent in a new event after a kiosk crash
    assert kiosk.push(again)[0]["status"] == "accepted"
    assert server.scalar(select(func.count()).select_from(Alert)) == 1


def test_two_events_with_one_alert_in_one_batch_keep_one_alert(server, kiosk, appointments):
    alert_id = str(uuid.uuid4())
    results = kiosk.push(alert(appointments[0], alert_id), alert(appointments[0], alert_id))
    assert [r["status"] for r in results] == ["accepted", "accepted"]
    assert server.scalar(select(func.count()).select_from(Alert)) == 1


def test_an_alert_id_of_another_patient_is_refused(server, kiosk, appointments):
    alert_id = str(uuid.uuid4())
    kiosk.push(alert(appointments[0], alert_id))
    result = kiosk.push(alert(appointments[1], alert_id))[0]
    assert result["status"] == "rejected" and alert_id in result["reason"]


def test_alerts_of_another_site_are_refused_and_not_shown(server, site, kiosk, appointments):
    other_site = server.site("Southside Clinic")
    with server.sessions.begin() as db:
        elsewhere = add_schedule(db, other_site.id, [site_today()], per_day=1, tag="S")[0]
    result = kiosk.push(alert(elsewhere, str(uuid.uuid4())))[0]
    assert result["status"] == "rejected" and "at this kiosk's site" in result["reason"]
    other_kiosk = server.kiosk(other_site.id, "kiosk-s")
    other_kiosk.push(alert(elsewhere, str(uuid.uuid4())))
    assert open_alerts(server, site.id) == []
    assert len(open_alerts(server, other_site.id)) == 1


def test_the_wrong_patient_is_refused(server, kiosk, appointments):
    e = alert(appointments[0], str(uuid.uuid4()), patient_id=appointments[1]["patient_id"])
    result = kiosk.push(e)[0]
    assert result["status"] == "rejected" and "is not for patient" in result["reason"]


@pytest.mark.parametrize("change, field", [
    ({"kind": "fire"}, "kind"), ({"priority": "low"}, "priority"), ({"raised_at": "2025-05-01T10:00:00"}, "raised_at"),
    ({"alert_id": "A1"}, "alert_id"), ({"flags": "self_harm"}, "flags"), ({"note": "call now"}, "note"),
])
def test_bad_fields_are_refused(server, kiosk, appointments, change, field):
    e = alert(appointments[0], str(uuid.uuid4()))
    e["payload"].update(change)
    result = kiosk.push(e)[0]
    assert result["status"] == "rejected" and field in result["reason"]


def test_missing_fields_are_refused(server, kiosk, appointments):
    e = alert(appointments[0], str(uuid.uuid4()))
    del e["payload"]["questionnaire_url"]
    result = kiosk.push(e)[0]
    assert result["status"] == "rejected" and "questionnaire_url" in result["reason"]


def test_acknowledged_alerts_are_no_longer_open_and_the_first_acknowledgement_stays(server, site, kiosk,
                                                                                   appointments):
    ids = [str(uuid.uuid4()) for _ in range(2)]
    now = datetime.now(UTC)
    kiosk.push(alert(appointments[0], ids[0], raised_at=(now - timedelta(minutes=5)).isoformat()),
               alert(appointments[1], ids[1], raised_at=now.isoformat()))
    assert [x.id for x in open_alerts(server, site.id)] == ids  # oldest first
    with server.sessions.begin() as db:
        assert alerts.acknowledge(db, site.id, ids[0], "nurse-7", now)
        assert alerts.acknowledge(db, site.id, ids[0], "nurse-9", now + timedelta(minutes=1))
        assert not alerts.acknowledge(db, site.id, str(uuid.uuid4()), "nurse-7", now)
        assert not alerts.acknowledge(db, str(uuid.uuid4()), ids[1], "nurse-7", now)  # another site's
    assert [x.id for x in open_alerts(server, site.id)] == [ids[1]]
    assert server.rows(select(Alert.acknowledged_by).where(Alert.id == ids[0])) == [("nurse-7",)]
