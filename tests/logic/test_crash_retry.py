"""Faults in the middle of the journey's writes: never a half state, and a retry does it once.

Two kinds of fault are simulated:
- a real database failure, with a SQLite trigger that aborts one statement of the
  store's write transaction (as a full disk or an I/O error would);
- an exception raised from a store method or from inside its transaction (monkeypatch).
"""

from __future__ import annotations

from datetime import date

import pytest

from kiosk import flow
from kiosk.flow import (
    CONFIRM,
    COOLDOWN,
    COOLDOWN_SETTING,
    DONE,
    FAILURES_SETTING,
    FRONT_DESK,
    WELCOME,
    Journey,
)
from kiosk.store import outbox as store_outbox
from kiosk.store.demo_clinic import DEMO_PATIENTS
from logic_helpers import MARIA_BORN, TODAY, core_steps, events, identify
from tests.store.store_helpers import add_trigger, drop_trigger

REVIEW = "review_contact"


class SimulatedCrash(RuntimeError):
    pass


def crashing(message: str):
    """A stand-in for a store function that fails the way a power cut or bad disk would."""

    def crash(*_args, **_kwargs):
        raise SimulatedCrash(message)

    return crash




def maria_status(store) -> str:
    [match] = store.find_appointments("garcia lopez", MARIA_BORN, TODAY)
    return match.status


def assert_not_checked_in(journey, store) -> None:
    assert journey.state == CONFIRM
    assert journey.session.appointment is not None  # the patient can simply press "Yes" again
    assert maria_status(store) == "booked"
    assert events(store, "appointment.arrived") == []


def assert_checked_in_once(journey, store) -> None:
    assert journey.state == REVIEW
    assert journey.session.check_in.already is False
    assert journey.session.contact is not None
    assert maria_status(store) == "arrived"
    arrived = events(store, "appointment.arrived")
    assert len(arrived) == 1
    assert arrived[0].payload["appointment_id"] == journey.session.appointment.appointment_id
    assert arrived[0].session_id == journey.session.id


# -- confirm(): the check-in write -------------------------------------------------------


@pytest.mark.parametrize(
    "when",
    [
        "BEFORE INSERT ON outbox_events",  # the arrival event cannot be written
        "BEFORE UPDATE ON appointments",  # the status change cannot be written
        "AFTER UPDATE ON appointments",  # the row changed, then the statement failed
    ],
)
def test_database_failure_during_check_in_leaves_nothing_half_done(journey, demo_store, data_dir, when):
    identify(journey, "garcia lopez", MARIA_BORN)
    add_trigger(data_dir, "fault", when)
    with pytest.raises(Exception, match="simulated write failure"):
        journey.confirm(True)
    assert_not_checked_in(journey, demo_store)

    drop_trigger(data_dir, "fault")
    journey.confirm(True)
    assert_checked_in_once(journey, demo_store)

    # A second press (double tap, or a retry after an unclear failure) adds nothing.
    journey.end("completed")
    identify(journey, "garcia lopez", MARIA_BORN)
    journey.confirm(True)
    assert journey.state == DONE and journey.session.check_in.already
    assert len(events(demo_store, "appointment.arrived")) == 1


@pytest.mark.parametrize(
    "fault",
    [
        # The appointment row is already set to arrived in the transaction when the event write blows up.
        "event write inside the check-in transaction",
        "clearing the failure count before check-in",
    ],
)
def test_crash_during_confirm_then_retry_checks_in_once(journey, demo_store, monkeypatch, fault):
    identify(journey, "garcia lopez", MARIA_BORN)
    if fault.startswith("event write"):
        monkeypatch.setattr(store_outbox, "add_event", crashing("power cut while queueing the event"))
    else:
        monkeypatch.setattr(demo_store, "set_setting", crashing("settings write failed"))
    with pytest.raises(SimulatedCrash):
        journey.confirm(True)
    assert_not_checked_in(journey, demo_store)

    monkeypatch.undo()
    journey.confirm(True)
    assert_checked_in_once(journey, demo_store)


def test_crash_after_the_check_in_committed(journey, demo_store, monkeypatch):
    """A fault in what confirm() does around the check-in (reading the contact details)
    must not leave the patient checked in by a journey that still asks "Is this you?",
    and pressing "Yes" again must continue the same visit, not report "already checked in"
    and skip the contact review."""
    identify(journey, "garcia lopez", MARIA_BORN)
    monkeypatch.setattr(demo_store, "get_contact", crashing("read failed"))
    with pytest.raises(SimulatedCrash):
        journey.confirm(True)
    # Whatever happened in the database, it is whole: arrived <=> exactly one event.
    arrived = events(demo_store, "appointment.arrived")
    assert (maria_status(demo_store) == "arrived") == (len(arrived) == 1)
    assert len(arrived) <= 1
    assert journey.state == CONFIRM

    monkeypatch.undo()
    journey.confirm(True)
    assert_checked_in_once(journey, demo_store)
    journey.complete_step(REVIEW)
    assert journey.state == DONE


# -- end(): the visit.ended write -----------------------------------------------------------


def test_crash_recording_visit_ended_still_wipes_the_session(journey, demo_store, monkeypatch):
    identify(journey, "garcia lopez", MARIA_BORN)
    journey.confirm(True)
    session = journey.session
    assert session.phi_strings()

    monkeypatch.setattr(demo_store, "record_event", crashing("outbox write failed"))
    with pytest.raises(SimulatedCrash):
        journey.end("timeout")
    # The PHI is gone from memory even though the analytics event could not be written.
    assert session.phi_strings() == []
    assert journey.session is None
    assert journey.state == WELCOME
    # The check-in itself (its own transaction) is unaffected.
    assert len(events(demo_store, "appointment.arrived")) == 1
    assert maria_status(demo_store) == "arrived"

    monkeypatch.undo()
    journey.begin()  # the kiosk carries on with the next patient
    assert journey.session is not session


def test_database_failure_recording_visit_ended_still_wipes(journey, demo_store, data_dir):
    identify(journey, "garcia lopez", MARIA_BORN)
    session = journey.session
    add_trigger(data_dir, "fault", "BEFORE INSERT ON outbox_events")
    with pytest.raises(Exception, match="simulated write failure"):
        journey.end("start_over")
    assert session.phi_strings() == [] and journey.session is None
    drop_trigger(data_dir, "fault")
    assert events(demo_store) == []


# -- _fail(): the failure counter, its events and the cool-down -------------------------------


def test_crash_recording_a_failure_still_counts_it(journey, demo_store, monkeypatch):
    journey.begin()
    journey.enter_last_name("nobody")

    monkeypatch.setattr(demo_store, "record_event", crashing("outbox write failed"))
    with pytest.raises(SimulatedCrash):
        journey.enter_birth_date(date(1970, 1, 1))
    assert demo_store.get_setting(FAILURES_SETTING) == "1"  # counted: fail safe


def test_cooldown_engages_even_if_its_events_cannot_be_written(journey, demo_store, monkeypatch):
    """The limit on guesses must not depend on the outbox: a failing event write at the
    last allowed attempt must still start the cool-down and end (wipe) the visit."""
    for _ in range(4):
        if journey.session is None:
            journey.begin()
        else:
            journey.try_again()
        journey.enter_last_name("nobody")
        journey.enter_birth_date(date(1970, 1, 1))
    assert journey.state == FRONT_DESK
    journey.try_again()
    journey.enter_last_name("nobody")
    session = journey.session

    monkeypatch.setattr(demo_store, "record_event", crashing("outbox write failed"))
    with pytest.raises(SimulatedCrash):
        journey.enter_birth_date(date(1970, 1, 1))
    assert journey.cooldown_remaining() > 0
    assert demo_store.get_setting(COOLDOWN_SETTING)
    assert journey.state == COOLDOWN
    assert journey.session is None and session.phi_strings() == []

    monkeypatch.undo()
    journey.begin()
    assert journey.state == COOLDOWN
    assert Journey(demo_store, core_steps(), journey.clock).state == COOLDOWN


def test_cooldown_engages_when_the_database_refuses_events(journey, demo_store, data_dir):
    for _ in range(4):
        if journey.session is None:
            journey.begin()
        else:
            journey.try_again()
        journey.enter_last_name("nobody")
        journey.enter_birth_date(date(1970, 1, 1))
    journey.try_again()
    journey.enter_last_name("garcia lopez")
    journey.enter_birth_date(MARIA_BORN)
    add_trigger(data_dir, "fault", "BEFORE INSERT ON outbox_events")
    with pytest.raises(Exception, match="simulated write failure"):
        journey.confirm(False)
    drop_trigger(data_dir, "fault")
    assert journey.state == COOLDOWN and journey.session is None
    journey.begin()
    assert journey.state == COOLDOWN
    assert events(demo_store, "appointment.arrived") == []


# -- save_field(): the contact write ---------------------------------------------------------


@pytest.mark.parametrize("when", ["BEFORE INSERT ON outbox_events", "BEFORE UPDATE ON patients"])
def test_database_failure_saving_a_contact_field(journey, demo_store, data_dir, when):
    identify(journey, "garcia lopez", MARIA_BORN)
    journey.confirm(True)
    session = journey.session
    patient_id = session.appointment.patient_id
    step = journey.step(REVIEW)
    add_trigger(data_dir, "fault", when)
    with pytest.raises(Exception, match="simulated write failure"):
        step.save_field(journey, "phone", "555-201-9876")
    assert demo_store.get_contact(patient_id).phone == DEMO_PATIENTS["maria"].phone
    assert session.contact.phone == DEMO_PATIENTS["maria"].phone  # the screen shows what is stored
    assert session.changed_fields == []
    assert events(demo_store, "patient.contact_changed") == []

    drop_trigger(data_dir, "fault")
    step.save_field(journey, "phone", "555-201-9876")
    step.save_field(journey, "phone", "555-201-9876")  # a second tap changes nothing
    assert demo_store.get_contact(patient_id).phone == "(555) 201-9876"
    assert session.contact.phone == "(555) 201-9876"
    assert len(events(demo_store, "patient.contact_changed")) == 1


def test_crash_inside_the_contact_transaction(journey, demo_store, monkeypatch):
    identify(journey, "garcia lopez", MARIA_BORN)
    journey.confirm(True)
    patient_id = journey.session.appointment.patient_id

    monkeypatch.setattr(store_outbox, "add_event", crashing("power cut"))
    with pytest.raises(SimulatedCrash):
        journey.step(REVIEW).save_field(journey, "email", "maria.new@example.org")
    monkeypatch.undo()
    assert demo_store.get_contact(patient_id).email == DEMO_PATIENTS["maria"].email
    assert events(demo_store, "patient.contact_changed") == []
    journey.step(REVIEW).save_field(journey, "email", "maria.new@example.org")
    assert demo_store.get_contact(patient_id).email == "maria.new@example.org"
    assert len(events(demo_store, "patient.contact_changed")) == 1


def test_flow_module_constants_are_what_the_tests_assume():
    assert flow.IdentifyPolicy().max_attempts == 5
    assert flow.IdentifyPolicy().cooldown_seconds == 120
    assert FRONT_DESK == "front_desk" and COOLDOWN == "cooldown"
