"""POST /events: stored once, applied once, answered stably; bad input never a 500."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from practice_server import event_types
from practice_server.models import Appointment, Event, Patient
from server_helpers import add_schedule, arrived, event, site_today


@pytest.fixture
def appointments(server, site):
    with server.sessions.begin() as db:
        return add_schedule(db, site.id, [site_today()], per_day=3)


def status_of(server, appointment_id: str) -> str:
    return server.scalar(select(Appointment.status).where(Appointment.id == appointment_id))


def event_count(server) -> int:
    return server.scalar(select(func.count()).select_from(Event))


def test_accepted_then_duplicate(server, kiosk):
    e = event()
    assert kiosk.push(e) == [{"id": e["id"], "status": "accepted", "reason": None}]
    assert kiosk.push(e) == [{"id": e["id"], "status": "duplicate", "reason": None}]
    assert event_count(server) == 1


def test_results_come_in_order_and_one_bad_event_does_not_fail_the_batch(server, kiosk):
    good1, bad, good2 = event(), event("no.such.type"), event()
    results = kiosk.push(good1, bad, good2)
    assert [r["id"] for r in results] == [good1["id"], bad["id"], good2["id"]]
    assert [r["status"] for r in results] == ["accepted", "rejected", "accepted"]
    assert results[1]["reason"] == "unknown event type 'no.such.type'"


def test_a_rejected_event_is_rejected_again_with_the_same_reason(server, kiosk):
    e = event("no.such.type")
    first = kiosk.push(e)
    assert first[0]["status"] == "rejected"
    assert kiosk.push(e) == first
    row = server.rows(select(Event.status, Event.reason, Event.type))
    assert row == [("rejected", first[0]["reason"], "no.such.type")]


def test_the_same_event_id_from_two_kiosks_is_two_events(server, site, kiosk):
    other = server.kiosk(site.id, "kiosk-2")
    e = event()
    assert kiosk.push(e)[0]["status"] == other.push(e)[0]["status"] == "accepted"


def test_arrived_applies_booked_to_arrived_and_keeps_the_kiosk_time(server, kiosk, appointments):
    at = datetime(2025, 5, 1, 14, 3, 11, tzinfo=UTC)
    assert kiosk.push(arrived(appointments[0], at))[0]["status"] == "accepted"
    assert status_of(server, appointments[0]["id"]) == "arrived"
    assert server.scalar(select(Appointment.arrived_at).where(Appointment.id == appointments[0]["id"])) == at
    assert status_of(server, appointments[1]["id"]) == "booked"


def test_arrived_twice_is_stored_without_a_second_change(server, kiosk, appointments):
    first = datetime.now(UTC) - timedelta(minutes=5)
    kiosk.push(arrived(appointments[0], first))
    assert kiosk.push(arrived(appointments[0]))[0]["status"] == "accepted"
    assert server.scalar(select(Appointment.arrived_at).where(Appointment.id == appointments[0]["id"])) == first
    assert event_count(server) == 2


def test_arrival_for_unknown_and_other_sites_appointments_is_rejected(server, kiosk, appointments):
    other_site = server.site("Southside Clinic")
    with server.sessions.begin() as db:
        elsewhere = add_schedule(db, other_site.id, [site_today()], per_day=1, tag="S")[0]
    unknown = {**appointments[0], "id": str(uuid.uuid4())}
    results = kiosk.push(arrived(unknown), arrived(elsewhere))
    assert [r["status"] for r in results] == ["rejected", "rejected"]
    assert "at this kiosk's site" in results[0]["reason"] and "at this kiosk's site" in results[1]["reason"]
    assert status_of(server, elsewhere["id"]) == "booked"


def test_arrival_for_a_cancelled_appointment_is_rejected(server, kiosk, appointments):
    with server.sessions.begin() as db:
        db.get(Appointment, appointments[0]["id"]).status = "cancelled"
    result = kiosk.push(arrived(appointments[0]))[0]
    assert result["status"] == "rejected" and "cancelled" in result["reason"]


@pytest.mark.parametrize("payload, words", [
    ({}, "appointment_id"),
    ({"appointment_id": "x", "patient_id": "y", "clinician_id": "z", "arrived_at": "now"}, "appointment_id"),
    ({"appointment_id": str(uuid.uuid4()), "patient_id": str(uuid.uuid4()), "clinician_id": str(uuid.uuid4()),
      "arrived_at": "2025-05-01T10:00:00"}, "arrived_at"),
])
def test_payload_shape_is_checked_per_type(server, kiosk, payload, words):
    result = kiosk.push(event("appointment.arrived", payload))[0]
    assert result["status"] == "rejected" and words in result["reason"]


@pytest.mark.parametrize("change, field", [({"id": "not-a-uuid"}, "id"), ({"created_at": "yesterday"}, "created_at"),
                                          ({"created_at": "2025-05-01T10:00:00"}, "created_at"),
                                          ({"session_id": "abc"}, "session_id")])
def test_envelope_values_are_checked_per_event(server, kiosk, change, field):
    result = kiosk.push({**event(), **change})[0]
    assert result["status"] == "rejected" and field in result["reason"]


def test_an_id_that_is_no_uuid_is_not_stored(server, kiosk):
    kiosk.push({**event(), "id": "not-a-uuid"})
    assert event_count(server) == 0


def test_nan_in_a_payload_is_rejected_not_a_500(server, kiosk):
    e = event(payload={"seconds": 1})
    body = json.dumps({"events": [e]}).replace('"seconds": 1', '"seconds": NaN').encode()
    r = kiosk.post("/api/v1/events", body=body)
    assert r.status_code == 200 and r.json()["results"][0]["status"] == "rejected"


def test_contact_change_applies_and_reaches_the_other_kiosks(server, site, kiosk, appointments):
    other = server.kiosk(site.id, "kiosk-2")
    _, cursor, _ = other.pull_all()
    patient_id = appointments[0]["patient_id"]
    e = event("patient.contact_changed", {"patient_id": patient_id, "changes": {"phone": "(555) 000-1111"}})
    assert kiosk.push(e)[0]["status"] == "accepted"
    assert server.scalar(select(Patient.phone).where(Patient.id == patient_id)) == "(555) 000-1111"
    seen, _, _ = other.pull_all(cursor)
    assert seen["patients"][patient_id]["phone"] == "(555) 000-1111"


@pytest.mark.parametrize("changes", [{"nickname": "Bo"}, {}, {"phone": None}, {"phone": 5}])
def test_contact_change_with_bad_fields_is_rejected(server, kiosk, appointments, changes):
    e = event("patient.contact_changed", {"patient_id": appointments[0]["patient_id"], "changes": changes})
    assert kiosk.push(e)[0]["status"] == "rejected"


def test_contact_change_for_a_patient_of_another_site_is_rejected(server, kiosk):
    other_site = server.site("Southside Clinic")
    with server.sessions.begin() as db:
        elsewhere = add_schedule(db, other_site.id, [site_today()], per_day=1, tag="S")[0]
    e = event("patient.contact_changed", {"patient_id": elsewhere["patient_id"], "changes": {"phone": "1"}})
    assert kiosk.push(e)[0]["status"] == "rejected"


def test_a_failure_after_storing_leaves_nothing_stored_and_nothing_applied(server, kiosk, appointments, monkeypatch):
    real = event_types.REGISTRY["appointment.arrived"]

    def apply_then_fail(db, ctx, payload):
        real.apply(db, ctx, payload)
        raise RuntimeError("simulated crash after the effect")

    monkeypatch.setitem(event_types.REGISTRY, "appointment.arrived",
                        event_types.EventType(real.name, real.payload, real.check, apply_then_fail))
    r = kiosk.post("/api/v1/events", {"events": [event(), arrived(appointments[0])]})
    assert r.status_code == 500
    assert r.json()["detail"]["code"] == "internal_error"
    assert event_count(server) == 0
    assert status_of(server, appointments[0]["id"]) == "booked"


def test_a_database_error_mid_batch_is_503_and_rolls_everything_back(server, kiosk, appointments, monkeypatch):
    real = event_types.REGISTRY["appointment.arrived"]

    def lose_the_database(db, ctx, payload):
        raise OperationalError("UPDATE appointments", {}, Exception("server closed the connection"))

    monkeypatch.setitem(event_types.REGISTRY, "appointment.arrived",
                        event_types.EventType(real.name, real.payload, real.check, lose_the_database))
    r = kiosk.post("/api/v1/events", {"events": [event(), arrived(appointments[0])]})
    assert r.status_code == 503 and r.json()["detail"]["code"] == "database_unavailable"
    assert event_count(server) == 0


def test_concurrent_pushes_of_one_batch_store_and_apply_each_event_once(server, kiosk, appointments, monkeypatch):
    real = event_types.REGISTRY["appointment.arrived"]
    applied: list[str] = []

    def counting(db, ctx, payload):
        applied.append(payload.appointment_id)
        real.apply(db, ctx, payload)

    monkeypatch.setitem(event_types.REGISTRY, "appointment.arrived",
                        event_types.EventType(real.name, real.payload, real.check, counting))
    batch = [arrived(a) for a in appointments] + [event() for _ in range(20)]
    barrier = threading.Barrier(3)
    answers: list[list[str]] = []

    def push():
        barrier.wait()
        r = kiosk.post("/api/v1/events", {"events": batch})
        assert r.status_code == 200, r.text
        answers.append([x["status"] for x in r.json()["results"]])

    threads = [threading.Thread(target=push) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(answers) == 3
    for i in range(len(batch)):  # each event: accepted by exactly one push
        assert sorted(a[i] for a in answers) == ["accepted", "duplicate", "duplicate"]
    assert event_count(server) == len(batch)
    assert sorted(applied) == sorted(a["id"] for a in appointments)


def test_500_events_are_one_batch_501_are_too_many(server, kiosk):
    assert len(kiosk.push(*[event() for _ in range(500)])) == 500
    r = kiosk.post("/api/v1/events", {"events": [event() for _ in range(501)]})
    assert r.status_code == 422


@pytest.mark.parametrize("body", [b"", b"{not json", b"[]", b'{"events": {}}', b'{"events": [1]}',
                                  b'{"events": [{"type": "visit.ended"}]}', b'"events"', b"\xff\xfe",
                                  b'{"events": [{"id": 5, "type": "visit.ended", "created_at": "x", "payload": {}}]}'])
def test_batch_level_garbage_is_422(server, kiosk, body):
    r = kiosk.post("/api/v1/events", body=body)
    assert r.status_code == 422, r.text
    assert isinstance(r.json()["detail"], list)


def test_an_event_whose_payload_is_no_object_fails_the_batch(server, kiosk):
    r = kiosk.post("/api/v1/events", {"events": [{**event(), "payload": [1, 2]}]})
    assert r.status_code == 422


def test_ids_must_be_unique_in_a_batch(server, kiosk):
    e = event()
    r = kiosk.post("/api/v1/events", {"events": [e, e]})
    assert r.status_code == 422 and "unique" in r.text
    assert event_count(server) == 0


def test_huge_body_is_413_by_content_length(server, kiosk):
    body = b'{"events": [], "pad": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    r = kiosk.post("/api/v1/events", body=body)
    assert r.status_code == 413 and r.json()["detail"]["code"] == "too_large"


def test_huge_streamed_body_is_413_too(server, kiosk):
    def chunks():
        for _ in range(3):
            yield b"x" * (1024 * 1024)

    headers = kiosk.signed_headers("POST", "/api/v1/events", b"")
    r = server.client.post("/api/v1/events", content=chunks(), headers=headers)
    assert "content-length" not in {k.lower() for k in r.request.headers}
    assert r.status_code == 413 and r.json()["detail"]["code"] == "too_large"
