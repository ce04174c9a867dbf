"""form.response: stored once, kept as a valid FHIR R4 QuestionnaireResponse, counted in
the patient's history (completed only), refused with a reason naming ids and fields."""

from __future__ import annotations

import copy
import json
import uuid
from datetime import date

import pytest
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from sqlalchemy import func, select

from intake_samples import PHQ9, form_response, qr
from practice_server import fhir_resources
from practice_server.models import Event, FormResponse
from server_helpers import add_schedule, backdate_changes, site_today


@pytest.fixture
def appointments(server, site):
    with server.sessions.begin() as db:
        return add_schedule(db, site.id, [site_today()], per_day=3)


def stored(server) -> list[FormResponse]:
    with server.sessions() as db:
        return list(db.scalars(select(FormResponse).order_by(FormResponse.received_at)))


def test_a_completed_response_is_stored_once_and_is_a_valid_fhir_resource(server, kiosk, appointments):
    a = appointments[0]
    e = form_response(a)
    assert kiosk.push(e) == [{"id": e["id"], "status": "accepted", "reason": None}]
    assert kiosk.push(e) == [{"id": e["id"], "status": "duplicate", "reason": None}]
    rows = stored(server)
    assert len(rows) == 1
    row = rows[0]
    assert (row.status, row.language, row.questionnaire_url, row.score_total, row.score_band) == (
        "completed", "es", PHQ9, 11.0, "moderate")
    assert row.day == date(2025, 5, 1)  # authored 09:41 -05:00 is May 1st in Chicago
    resource = fhir_resources.questionnaire_response(row)
    QuestionnaireResponse.model_validate(resource)  # raises when not valid R4(B)
    assert resource["subject"] == {"reference": f"Patient/{a['patient_id']}"}
    assert resource["status"] == "completed" and resource["questionnaire"] == PHQ9 + "|1.0"
    assert resource["item"] == qr()["item"]  # the answers exactly as sent
    assert resource["extension"] == [{"url": fhir_resources.APPOINTMENT_EXTENSION,
                                      "valueReference": {"reference": f"Appointment/{a['id']}"}}]
    assert resource["authored"].startswith("2025-05-01T14:41:00")  # kept in UTC


def test_an_in_progress_response_is_stored_as_such_and_not_in_the_history(server, kiosk, appointments):
    a = appointments[0]
    assert kiosk.push(form_response(a, status="in-progress"))[0]["status"] == "accepted"
    row = stored(server)[0]
    assert row.status == "in-progress"
    QuestionnaireResponse.model_validate(fhir_resources.questionnaire_response(row))
    seen, _, _ = kiosk.pull_all()
    assert seen["patients"][a["patient_id"]]["history"] == {}


def test_a_completed_response_reaches_every_kiosk_in_the_patients_history(server, site, kiosk, appointments):
    other = server.kiosk(site.id, "kiosk-2")
    with server.sessions.begin() as db:
        backdate_changes(db)  # no re-sent overlap: what comes next is what changed
    _, cursor, _ = other.pull_all()
    a = appointments[0]
    older = form_response(a, response=qr(authored="2024-03-02T10:00:00-06:00"))
    newer = form_response(a)
    assert [r["status"] for r in kiosk.push(older, newer)] == ["accepted", "accepted"]
    seen, _, _ = other.pull_all(cursor)
    assert seen["patients"][a["patient_id"]]["history"] == {f"form:{PHQ9}": "2025-05-01"}
    assert set(seen["patients"]) == {a["patient_id"]}  # only the patient who changed comes again


def test_without_authored_the_event_time_is_used(server, kiosk, appointments):
    e = form_response(appointments[0], response=qr(authored=None))
    e["created_at"] = "2025-06-02T03:00:00+00:00"  # June 1st, 22:00 in Chicago
    assert kiosk.push(e)[0]["status"] == "accepted"
    assert stored(server)[0].day == date(2025, 6, 1)


def test_a_subject_the_server_would_set_anyway_is_accepted(server, kiosk, appointments):
    a = appointments[0]
    response = {**qr(), "subject": {"reference": f"Patient/{a['patient_id']}"}}
    assert kiosk.push(form_response(a, response=response))[0]["status"] == "accepted"


def test_another_sites_appointment_is_refused(server, kiosk, appointments):
    other_site = server.site("Southside Clinic")
    with server.sessions.begin() as db:
        elsewhere = add_schedule(db, other_site.id, [site_today()], per_day=1, tag="S")[0]
    result = kiosk.push(form_response(elsewhere))[0]
    assert result == {"id": result["id"], "status": "rejected",
                      "reason": f"no appointment {elsewhere['id']} at this kiosk's site"}
    assert stored(server) == []


def test_the_wrong_patient_for_the_appointment_is_refused(server, kiosk, appointments):
    e = form_response(appointments[0], patient_id=appointments[1]["patient_id"])
    result = kiosk.push(e)[0]
    assert result["status"] == "rejected"
    assert result["reason"] == f"appointment {appointments[0]['id']} is not for patient {appointments[1]['patient_id']}"


def _broken(change) -> dict:
    response = copy.deepcopy(qr())
    change(response)
    return response


@pytest.mark.parametrize("response, words", [
    (_broken(lambda r: r.update(subject={"reference": "Patient/someone-else"})), "response.subject"),
    (_broken(lambda r: r.update(status="in-progress")), "response.status"),
    (_broken(lambda r: r.update(resourceType="Observation")), "response.resourceType"),
    (_broken(lambda r: r.update(author={"reference": "Practitioner/1"})), "response.author"),
    (_broken(lambda r: r["item"][0].pop("linkId")), "response.item.0.linkId"),
    (_broken(lambda r: r["item"][0]["answer"][0].update(valueString="x")), "exactly one value"),
    (_broken(lambda r: r["item"][0]["answer"].clear()), "response.item.0.answer"),
    (_broken(lambda r: r["item"][1]["item"][0]["answer"][0].update(valueInteger="2")), "valueInteger"),
    (_broken(lambda r: r["item"][2]["answer"][0].update(valueDecimal=True)), "valueDecimal"),
    (_broken(lambda r: r["item"][3]["answer"][0].update(valueDate="30/04/2025")), "valueDate"),
    (_broken(lambda r: r["item"][3]["answer"][0].update(valueDate="2025-02-30")), "valueDate"),
    (_broken(lambda r: r.update(authored="2025-05-01T25:41:00-05:00")), "response.authored"),
    (_broken(lambda r: r.update(authored="2025-05-01T09:41:00")), "response.authored: Value error, must be a FHIR dateTime"),
    (_broken(lambda r: r["item"][0].update(item=[{"linkId": "x", "answer": [{"valueBoolean": True}]}])),
     "qrs-1"),
])
def test_a_response_that_would_not_be_valid_fhir_is_refused_naming_the_field(server, kiosk, appointments,
                                                                             response, words):
    result = kiosk.push(form_response(appointments[0], response=response))[0]
    assert result["status"] == "rejected" and words in result["reason"], result
    assert "Little interest" not in result["reason"]  # no answer text (PHI) in reasons
    assert stored(server) == []


@pytest.mark.parametrize("drop", ["patient_id", "appointment_id", "questionnaire", "status", "language",
                                  "response", "score"])
def test_missing_fields_are_refused(server, kiosk, appointments, drop):
    e = form_response(appointments[0])
    del e["payload"][drop]
    result = kiosk.push(e)[0]
    assert result["status"] == "rejected" and drop in result["reason"]


@pytest.mark.parametrize("change, words", [
    ({"status": "stopped"}, "status"), ({"language": "spanish please"}, "language"),
    ({"score": {"total": None, "band": None, "flags": [], "urgent": "yes"}}, "score.urgent"),
    ({"questionnaire": {"url": PHQ9, "version": None, "title": None, "codes": [], "publisher": "x"}},
     "questionnaire.publisher"),
    ({"extra": 1}, "extra"),
])
def test_bad_payload_fields_are_refused(server, kiosk, appointments, change, words):
    result = kiosk.push(form_response(appointments[0], **change))[0]
    assert result["status"] == "rejected" and words in result["reason"], result


def test_a_deeply_nested_response_is_refused(server, kiosk, appointments):
    item: dict = {"linkId": "leaf", "answer": [{"valueBoolean": True}]}
    for i in range(12):
        item = {"linkId": f"g{i}", "item": [item]}
    response = {**qr(), "item": [item]}
    result = kiosk.push(form_response(appointments[0], response=response))[0]
    assert result["status"] == "rejected" and "nested" in result["reason"]


def test_absurd_nesting_is_refused_not_a_500(server, kiosk, appointments):
    e = form_response(appointments[0])
    body = json.dumps({"events": [e]})
    deep = '{"linkId": "g", "item": [' * 3000 + '{"linkId": "x"}' + "]}" * 3000
    body = body.replace('"item": [', '"item": [' + deep + ", ", 1)
    r = kiosk.post("/api/v1/events", body=body.encode())
    assert r.status_code in (200, 422), r.text[:200]
    if r.status_code == 200:
        assert r.json()["results"][0]["status"] == "rejected"


def test_a_response_sent_again_in_a_later_batch_keeps_one_row(server, kiosk, appointments):
    e = form_response(appointments[0])
    kiosk.push(e)
    second = form_response(appointments[1])
    results = kiosk.push(second, e)
    assert [r["status"] for r in results] == ["accepted", "duplicate"]
    assert server.scalar(select(func.count()).select_from(Event)) == 2
    assert sorted(r.event_id for r in stored(server)) == sorted([e["id"], second["id"]])


def test_the_resource_id_is_stable_per_event(server, site, kiosk, appointments):
    other = server.kiosk(site.id, "kiosk-2")
    e = form_response(appointments[0])
    kiosk.push(e)
    other.push(e)  # the same event id from another kiosk is another event (and resource)
    rows = stored(server)
    assert len({r.id for r in rows}) == 2
    assert all(uuid.UUID(r.id).version == 5 for r in rows)
