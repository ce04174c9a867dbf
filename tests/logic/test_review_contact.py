"""The review-contact step: each corrected field is validated, normalised and written at once."""

from __future__ import annotations

import dataclasses

import pytest

from kiosk.contact_fields import InvalidField
from kiosk.steps import ReviewContactStep, default_steps
from kiosk.store.demo_clinic import DEMO_PATIENTS
from logic_helpers import MARIA_BORN, events, identify

REVIEW = "review_contact"
MARIA = DEMO_PATIENTS["maria"]


@pytest.fixture
def at_review(journey):
    identify(journey, "garcia lopez", MARIA_BORN)
    journey.confirm(True)
    assert journey.state == REVIEW
    return journey


def step_of(journey) -> ReviewContactStep:
    step = journey.step(REVIEW)
    assert isinstance(step, ReviewContactStep)
    return step


def test_default_steps_start_with_review_contact():
    assert [s.name for s in default_steps()] == [REVIEW, "insurance_card", "consent", "copay", "forms", "portal"]


@pytest.mark.parametrize("typed", ["555-201-9876", "5552019876", "(555) 201-9876", "555.201.9876", "+1 555 201 9876"])
def test_valid_phone_is_normalised_and_written(at_review, demo_store, clock, typed):
    journey = at_review
    session = journey.session
    patient_id = session.appointment.patient_id
    step_of(journey).save_field(journey, "phone", typed)

    assert session.contact.phone == "(555) 201-9876"
    assert session.contact.email == MARIA.email  # the rest untouched
    assert session.changed_fields == ["phone"]
    stored = demo_store.get_contact(patient_id)
    assert stored.phone == "(555) 201-9876"
    assert dataclasses.replace(stored, phone=MARIA.phone) == dataclasses.replace(session.contact, phone=MARIA.phone)

    [changed] = events(demo_store, "patient.contact_changed")
    assert changed.payload == {"patient_id": patient_id, "changes": {"phone": "(555) 201-9876"}}
    assert changed.session_id == session.id
    assert changed.created_at == clock()
    assert journey.state == REVIEW  # saving a field does not move the journey


def test_several_fields_each_get_their_own_event(at_review, demo_store):
    journey = at_review
    step = step_of(journey)
    step.save_field(journey, "email", "Maria.New@Example.ORG")
    step.save_field(journey, "state", "wi")
    step.save_field(journey, "postal_code", "537031234")
    step.save_field(journey, "street", "  1  Lake   Shore Road ")
    step.save_field(journey, "email", "maria.newer@example.org")
    session = journey.session
    assert session.changed_fields == ["email", "state", "postal_code", "street"]
    changes = [e.payload["changes"] for e in events(demo_store, "patient.contact_changed")]
    assert changes == [
        {"email": "Maria.New@example.org"},
        {"state": "WI"},
        {"postal_code": "53703-1234"},
        {"street": "1 Lake Shore Road"},
        {"email": "maria.newer@example.org"},
    ]
    stored = demo_store.get_contact(session.appointment.patient_id)
    assert stored == session.contact
    assert (stored.email, stored.state, stored.postal_code, stored.street) == (
        "maria.newer@example.org", "WI", "53703-1234", "1 Lake Shore Road",
    )
    journey.complete_step(REVIEW)
    assert journey.state == "done"


@pytest.mark.parametrize(
    "field, typed",
    [
        ("email", "maria@"),
        ("email", "maria.example.org"),
        ("email", "maria@@example.org"),
        ("phone", "12"),
        ("phone", "call me"),
        ("phone", "555-201-98765-1234"),
        ("state", "ZZ"),
        ("state", "Ill"),
        ("postal_code", "6270"),
        ("postal_code", "ABCDE"),
        ("postal_code", "62701-12"),
        ("city", "   "),
        ("street", "x" * 81),
    ],
)
def test_invalid_values_raise_and_write_nothing(at_review, demo_store, field, typed):
    journey = at_review
    session = journey.session
    before = session.contact
    with pytest.raises(InvalidField) as caught:
        step_of(journey).save_field(journey, field, typed)
    assert caught.value.message and isinstance(caught.value.message, str)
    assert str(caught.value) == caught.value.message
    assert session.contact == before
    assert session.changed_fields == []
    assert demo_store.get_contact(session.appointment.patient_id) == before
    assert events(demo_store, "patient.contact_changed") == []


@pytest.mark.parametrize(
    "field, typed",
    [
        ("phone", "(555) 201-3344"),
        ("phone", "555 201 3344"),  # normalises to what is stored
        ("email", "maria.garcia@example.org"),
        ("state", "il"),
        ("postal_code", "62701"),
        ("city", " Springfield "),
    ],
)
def test_unchanged_value_writes_no_event(at_review, demo_store, field, typed):
    journey = at_review
    step_of(journey).save_field(journey, field, typed)
    assert journey.session.changed_fields == []
    assert events(demo_store, "patient.contact_changed") == []


def test_unknown_field_and_no_visit_are_refused(at_review, demo_store):
    journey = at_review
    step = step_of(journey)
    with pytest.raises(KeyError):
        step.save_field(journey, "birth_date", "1956-03-14")
    journey.end("completed")
    with pytest.raises(RuntimeError):
        step.save_field(journey, "phone", "555-201-9876")
    assert events(demo_store, "patient.contact_changed") == []


def test_contact_change_is_kept_after_the_visit_ends(at_review, demo_store, clock):
    journey = at_review
    patient_id = journey.session.appointment.patient_id
    step_of(journey).save_field(journey, "phone", "555-201-9876")
    journey.end("timeout")  # the patient walked away without pressing "That's right"
    assert demo_store.get_contact(patient_id).phone == "(555) 201-9876"
    assert len(events(demo_store, "patient.contact_changed")) == 1
