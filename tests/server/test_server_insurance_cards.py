"""insurance_card.captured / .skipped: real JPEGs only, within the size limit, kept as
valid FHIR R4 DocumentReferences; a newer photo of a side supersedes the older one."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from fhir.resources.R4B.documentreference import DocumentReference
from sqlalchemy import func, select

from intake_samples import b64, card_captured, card_skipped, jpeg_bytes, png_bytes
from practice_server import fhir_resources
from practice_server.insurance_cards import MAX_JPEG_BYTES
from practice_server.models import InsuranceCard
from server_helpers import add_schedule, site_today


@pytest.fixture
def appointments(server, site):
    with server.sessions.begin() as db:
        return add_schedule(db, site.id, [site_today()], per_day=3)


def cards(server) -> list[InsuranceCard]:
    with server.sessions() as db:
        return list(db.scalars(select(InsuranceCard).order_by(InsuranceCard.at)))


def test_a_captured_side_is_stored_once_as_a_valid_document_reference(server, kiosk, appointments):
    a = appointments[0]
    image = jpeg_bytes()
    at = datetime(2025, 5, 1, 14, 50, 1, tzinfo=UTC)
    e = card_captured(a, "back", image=image, captured_at=at)
    assert kiosk.push(e) == [{"id": e["id"], "status": "accepted", "reason": None}]
    assert kiosk.push(e)[0]["status"] == "duplicate"
    [row] = cards(server)
    assert (row.status, row.side, row.image_jpeg, row.capture, row.sharpness) == (
        "current", "back", image, "auto", 143.5)
    resource = fhir_resources.document_reference(row)
    DocumentReference.model_validate(resource)  # raises when not valid R4(B)
    assert resource["status"] == "current"
    assert resource["type"]["coding"][0] == {"system": "http://loinc.org", "code": "64290-0",
                                             "display": "Health insurance card"}
    assert resource["subject"] == {"reference": f"Patient/{a['patient_id']}"}
    assert resource["date"] == at.isoformat() and resource["description"] == "Insurance card, back"
    attachment = resource["content"][0]["attachment"]
    assert attachment["contentType"] == "image/jpeg" and base64.b64decode(attachment["data"]) == image
    assert attachment["size"] == len(image)
    assert attachment["hash"] == base64.b64encode(hashlib.sha1(image).digest()).decode()
    assert resource["context"]["related"] == [{"reference": f"Appointment/{a['id']}"}]


def test_a_newer_photo_of_a_side_supersedes_the_older_even_when_it_arrives_first(server, kiosk, appointments):
    a = appointments[0]
    now = datetime.now(UTC)
    old, new, back = (card_captured(a, "front", captured_at=now - timedelta(days=30)),
                      card_captured(a, "front", captured_at=now, image=jpeg_bytes(seed=2)),
                      card_captured(a, "back", captured_at=now - timedelta(days=31)))
    kiosk.push(new)
    kiosk.push(old, back)  # a kiosk that was offline for a month
    by_event = {c.event_id: c for c in cards(server)}
    assert by_event[new["id"]].status == "current"
    assert by_event[old["id"]].status == "superseded"
    assert by_event[back["id"]].status == "current"  # the other side is another document
    DocumentReference.model_validate(fhir_resources.document_reference(by_event[old["id"]]))


def test_a_skipped_card_is_stored_without_a_document(server, kiosk, appointments):
    e = card_skipped(appointments[0], "declined")
    assert kiosk.push(e)[0]["status"] == "accepted"
    assert kiosk.push(e)[0]["status"] == "duplicate"
    [row] = cards(server)
    assert (row.status, row.skipped_reason, row.image_jpeg) == ("skipped", "declined", None)
    with pytest.raises(ValueError):
        fhir_resources.document_reference(row)
    assert kiosk.push(card_skipped(appointments[0], "lost"))[0]["status"] == "rejected"


def test_every_fhir_resource_of_a_patient_is_listed(server, kiosk, appointments):
    a = appointments[0]
    kiosk.push(card_captured(a, "front"), card_skipped(a), card_captured(a, "back"))
    with server.sessions() as db:
        resources = fhir_resources.for_patient(db, a["patient_id"])
    assert [r["resourceType"] for r in resources] == ["DocumentReference", "DocumentReference"]


@pytest.mark.parametrize("image, words", [
    ("%%%not base64", "image_jpeg is not valid base64"),
    (b64(png_bytes()), "image_jpeg is not a JPEG image"),
    (b64(b"\xff\xd8\xff" + b"\0" * 20), "image_jpeg is under"),
    (b64(b"\xff\xd8\xff\xe0" + b"\0" * MAX_JPEG_BYTES), "image_jpeg is over 384 KiB"),
])
def test_an_image_that_is_no_jpeg_or_too_big_is_refused(server, kiosk, appointments, image, words):
    e = card_captured(appointments[0])
    e["payload"]["image_jpeg"] = image
    result = kiosk.push(e)[0]
    assert result["status"] == "rejected" and words in result["reason"], result
    assert server.scalar(select(func.count()).select_from(InsuranceCard)) == 0


def test_a_big_photo_within_the_limit_is_accepted(server, kiosk, appointments):
    image = jpeg_bytes(640, 480, noise=True)
    assert 250_000 < len(image) <= MAX_JPEG_BYTES
    assert kiosk.push(card_captured(appointments[0], image=image))[0]["status"] == "accepted"


@pytest.mark.parametrize("change, field", [
    ({"side": "left"}, "side"), ({"capture": "burst"}, "capture"), ({"width": 0}, "width"),
    ({"width": "320"}, "width"), ({"sharpness": -1}, "sharpness"), ({"captured_at": "2025-05-01T10:00:00"},
                                                                     "captured_at"),
])
def test_bad_fields_are_refused(server, kiosk, appointments, change, field):
    e = card_captured(appointments[0])
    e["payload"].update(change)
    result = kiosk.push(e)[0]
    assert result["status"] == "rejected" and field in result["reason"], result


@pytest.mark.parametrize("field", ["side", "image_jpeg", "captured_at", "appointment_id"])
def test_missing_fields_are_refused(server, kiosk, appointments, field):
    e = card_captured(appointments[0])
    del e["payload"][field]
    result = kiosk.push(e)[0]
    assert result["status"] == "rejected" and field in result["reason"]


def test_other_sites_appointment_and_wrong_patient_are_refused(server, kiosk, appointments):
    other_site = server.site("Southside Clinic")
    with server.sessions.begin() as db:
        elsewhere = add_schedule(db, other_site.id, [site_today()], per_day=1, tag="S")[0]
    wrong = card_skipped(appointments[0])
    wrong["payload"]["patient_id"] = appointments[2]["patient_id"]
    results = kiosk.push(card_captured(elsewhere), card_skipped(elsewhere), wrong)
    assert [r["status"] for r in results] == ["rejected"] * 3
    assert "at this kiosk's site" in results[0]["reason"] and "is not for patient" in results[2]["reason"]
