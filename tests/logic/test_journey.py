"""The check-in journey (kiosk.flow) end to end against a real encrypted store."""

from __future__ import annotations

import json
import time as time_module
from datetime import UTC, date, datetime, time

import pytest

from kiosk import flow
from kiosk.flow import (
    BIRTH_DATE,
    CONFIRM,
    DONE,
    FAILURES_SETTING,
    FIRST_NAME,
    FRONT_DESK,
    LAST_NAME,
    WELCOME,
    Journey,
    Step,
)
from kiosk.store import Contact
from kiosk.store.demo_clinic import DEMO_PATIENTS
from logic_helpers import core_steps, ANA_BORN, MARIA_BORN, SMITH_BORN, TODAY, events, identify

REVIEW = "review_contact"
MARIA = DEMO_PATIENTS["maria"]


def maria_contact() -> Contact:
    return Contact(MARIA.phone, MARIA.email, MARIA.street, MARIA.city, MARIA.state, MARIA.postal_code)


# -- happy path ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    ["garcia lopez", "GARCIA-LÓPEZ", "Garcia Lopez", "García-López", "  garcía   LOPEZ ", "garcialopez"],
)
def test_maria_checks_in_whatever_way_she_types_her_name(journey, demo_store, clock, typed):
    assert journey.state == WELCOME and journey.session is None
    journey.begin()
    assert journey.state == LAST_NAME
    journey.enter_last_name(typed)
    assert journey.state == BIRTH_DATE
    assert journey.session.last_name == " ".join(typed.split())
    journey.enter_birth_date(MARIA_BORN)
    assert journey.state == CONFIRM
    match = journey.session.appointment
    assert (match.first_name, match.last_name) == ("Maria", "García-López")
    assert match.clinician_name == "Dr. Luis Fernández"
    assert match.start == datetime.combine(TODAY, time(10, 20))
    assert match.status == "booked"

    journey.confirm(True)
    assert journey.state == REVIEW
    result = journey.session.check_in
    assert result.already is False
    assert result.queue_position >= 1
    assert result.arrived_at == clock()
    assert journey.session.contact == maria_contact()

    journey.complete_step(REVIEW)
    assert journey.state == DONE

    arrived = events(demo_store, "appointment.arrived")
    assert len(arrived) == 1
    payload = arrived[0].payload
    assert payload["appointment_id"] == match.appointment_id
    assert payload["patient_id"] == match.patient_id
    assert payload["clinician_id"] == match.clinician_id
    assert datetime.fromisoformat(payload["arrived_at"]) == clock()
    assert arrived[0].session_id == journey.session.id
    # No failures were counted along the way.
    assert events(demo_store, "identify.failed") == []
    assert demo_store.get_setting(FAILURES_SETTING) == "0"


def test_checking_in_again_in_a_new_session_is_already_done(journey, demo_store, clock):
    identify(journey, "garcia lopez", MARIA_BORN)
    journey.confirm(True)
    journey.complete_step(REVIEW)
    first_session = journey.session.id
    first_position = journey.session.check_in.queue_position
    journey.end("completed")
    assert journey.state == WELCOME

    clock.advance(300)
    identify(journey, "GARCIA-LÓPEZ", MARIA_BORN)
    assert journey.session.id != first_session
    assert journey.state == CONFIRM
    assert journey.session.appointment.status == "arrived"
    journey.confirm(True)
    assert journey.state == DONE
    result = journey.session.check_in
    assert result.already is True
    assert result.queue_position == first_position
    assert journey.session.contact is None  # no contact review for a repeat
    assert len(events(demo_store, "appointment.arrived")) == 1

    # And again with a brand-new Journey on the same store (as after an app restart).
    journey.end("completed")
    again = Journey(demo_store, core_steps(), clock)
    identify(again, "Garcia Lopez", MARIA_BORN)
    again.confirm(True)
    assert again.state == DONE and again.session.check_in.already is True
    assert len(events(demo_store, "appointment.arrived")) == 1


def test_journey_today_is_the_local_date_of_the_clock(demo_store, clock, monkeypatch):
    """Just after midnight UTC it is still `TODAY` in Chicago: Maria is found."""
    if not hasattr(time_module, "tzset"):
        pytest.skip("needs time.tzset")
    monkeypatch.setenv("TZ", "America/Chicago")
    time_module.tzset()
    try:
        clock.now = datetime(2025, 3, 11, 3, 30, tzinfo=UTC)  # 21:30 on March 10 in Chicago
        journey = Journey(demo_store, core_steps(), clock)
        identify(journey, "garcia lopez", MARIA_BORN)
        assert journey.state == CONFIRM
    finally:
        monkeypatch.undo()
        time_module.tzset()


def test_a_patient_already_marked_arrived_goes_straight_to_done(journey, demo_store, clock):
    identify(journey, "garcia lopez", MARIA_BORN)
    demo_store.check_in(journey.session.appointment.appointment_id, "front-desk", clock())
    journey.confirm(True)
    assert journey.state == DONE
    assert journey.session.check_in.already is True
    assert len(events(demo_store, "appointment.arrived")) == 1


# -- same last name and birth date ------------------------------------------------------


def test_smiths_are_asked_for_their_first_name(journey, demo_store):
    journey.begin()
    journey.enter_last_name("smith")
    journey.enter_birth_date(SMITH_BORN)
    assert journey.state == FIRST_NAME
    assert {m.first_name for m in journey.session.candidates} == {"John", "Jane"}
    assert journey.session.appointment is None
    assert events(demo_store) == []  # asking for the first name is not a failure


@pytest.mark.parametrize("typed", ["jane", "Jane", " JANE ", "jáne"])
def test_first_name_resolves_jane(journey, demo_store, typed):
    identify(journey, "Smith", SMITH_BORN, typed)
    assert journey.state == CONFIRM
    match = journey.session.appointment
    assert match.first_name == "Jane"
    assert match.clinician_name == "Dr. Mei Chen"
    assert match.start == datetime.combine(TODAY, time(9, 40))
    journey.confirm(True)
    assert journey.state == REVIEW
    arrived = events(demo_store, "appointment.arrived")
    assert [e.payload["appointment_id"] for e in arrived] == [match.appointment_id]


def test_first_name_resolves_john(journey):
    identify(journey, "SMITH", SMITH_BORN, "john")
    assert journey.state == CONFIRM
    assert journey.session.appointment.first_name == "John"
    assert journey.session.appointment.visit_type == "annual_physical"


def test_wrong_first_name_is_a_failed_attempt(journey, demo_store):
    identify(journey, "smith", SMITH_BORN, "Joan")
    assert journey.state == FRONT_DESK
    assert journey.session.appointment is None
    failed = events(demo_store, "identify.failed")
    assert [e.payload for e in failed] == [{"reason": "first_name_mismatch", "attempt": 1}]
    assert failed[0].session_id == journey.session.id
    assert demo_store.get_setting(FAILURES_SETTING) == "1"
    assert events(demo_store, "appointment.arrived") == []


def test_blank_first_name_asks_again_without_counting(journey, demo_store):
    identify(journey, "smith", SMITH_BORN)
    journey.enter_first_name("  - ")
    assert journey.state == FIRST_NAME
    assert journey.notice == "Please type your first name."
    assert events(demo_store) == []
    journey.enter_first_name("Jane")
    assert journey.state == CONFIRM
    assert journey.notice == ""


def test_first_name_matches_one_part_of_a_compound_first_name():
    assert flow._first_name_matches("maria", "Maria José")
    assert flow._first_name_matches("jose", "Maria José")
    assert flow._first_name_matches("mariajose", "Maria-José")
    assert flow._first_name_matches("jose", "María-José")
    assert not flow._first_name_matches("mar", "Maria")


# -- no match / no appointment today ---------------------------------------------------


def test_no_match_and_no_appointment_today_look_the_same_but_log_different_reasons(demo_store, clock):
    stranger = Journey(demo_store, core_steps(), clock)
    identify(stranger, "Nobody-Here", date(1970, 1, 1))
    ana = Journey(demo_store, core_steps(), clock)
    identify(ana, "de la cruz", ANA_BORN)

    # The patient sees exactly the same thing.
    assert stranger.state == ana.state == FRONT_DESK
    assert stranger.notice == ana.notice == ""
    assert stranger.session.appointment is None and ana.session.appointment is None

    failed = events(demo_store, "identify.failed")
    by_session = {e.session_id: e.payload for e in failed}
    assert by_session == {
        stranger.session.id: {"reason": "no_match", "attempt": 1},
        ana.session.id: {"reason": "no_appointment_today", "attempt": 2},
    }


@pytest.mark.parametrize("typed", ["De La Cruz", "DELACRUZ", "de-la-cruz"])
def test_ana_has_no_appointment_today(journey, demo_store, typed):
    identify(journey, typed, ANA_BORN)
    assert journey.state == FRONT_DESK
    assert [e.payload["reason"] for e in events(demo_store, "identify.failed")] == ["no_appointment_today"]


def test_right_name_wrong_birth_date_is_no_match(journey, demo_store):
    identify(journey, "garcia lopez", date(1956, 3, 15))
    assert journey.state == FRONT_DESK
    assert [e.payload["reason"] for e in events(demo_store, "identify.failed")] == ["no_match"]


def test_blank_last_name_asks_again_without_counting(journey, demo_store):
    journey.begin()
    for typed in ["", "   ", "-'."]:
        journey.enter_last_name(typed)
        assert journey.state == LAST_NAME
        assert journey.notice == "Please type your last name."
    assert events(demo_store) == []
    journey.enter_last_name("garcia lopez")
    assert journey.state == BIRTH_DATE and journey.notice == ""


# -- confirm(False), back, try_again --------------------------------------------------


def test_not_me_counts_as_a_failure_and_checks_nobody_in(journey, demo_store):
    identify(journey, "garcia lopez", MARIA_BORN)
    appointment_id = journey.session.appointment.appointment_id
    journey.confirm(False)
    assert journey.state == FRONT_DESK
    assert [e.payload for e in events(demo_store, "identify.failed")] == [
        {"reason": "patient_rejected_match", "attempt": 1}
    ]
    assert demo_store.get_setting(FAILURES_SETTING) == "1"
    assert events(demo_store, "appointment.arrived") == []
    [match] = demo_store.find_appointments("garcia lopez", MARIA_BORN, TODAY)
    assert match.appointment_id == appointment_id and match.status == "booked"


def test_back_goes_one_question_back_and_keeps_answers(journey):
    journey.begin()
    journey.back()
    assert journey.state == LAST_NAME  # nothing before the first question
    journey.enter_last_name("Smith")
    assert journey.state == BIRTH_DATE
    journey.back()
    assert journey.state == LAST_NAME
    assert journey.session.last_name == "Smith"
    journey.enter_last_name("Smith")
    journey.enter_birth_date(SMITH_BORN)
    assert journey.state == FIRST_NAME
    journey.back()
    assert journey.state == BIRTH_DATE
    assert journey.session.birth_date == SMITH_BORN
    journey.enter_birth_date(SMITH_BORN)
    journey.enter_first_name("Jane")
    assert journey.state == CONFIRM
    journey.back()
    assert journey.state == CONFIRM  # back is only for the identification questions


def test_try_again_keeps_the_session_id_but_wipes_phi(journey, demo_store):
    identify(journey, "smith", SMITH_BORN, "Joan")
    assert journey.state == FRONT_DESK
    session = journey.session
    session_id = session.id
    assert session.phi_strings()  # last name, first name, birth date, candidates
    stages_before = [s.stage for s in session.stages]

    journey.try_again()
    assert journey.state == LAST_NAME
    assert journey.session is session and session.id == session_id
    assert session.phi_strings() == []
    assert (session.last_name, session.first_name, session.birth_date) == ("", "", None)
    assert session.candidates == [] and session.appointment is None
    assert [s.stage for s in session.stages] == [*stages_before, LAST_NAME]

    # The same session can now identify someone and their events carry the same id.
    journey.enter_last_name("smith")
    journey.enter_birth_date(SMITH_BORN)
    journey.enter_first_name("jane")
    journey.confirm(True)
    [arrived] = events(demo_store, "appointment.arrived")
    assert arrived.session_id == session_id


def test_actions_without_a_visit_are_refused(journey):
    with pytest.raises(RuntimeError):
        journey.enter_last_name("smith")
    with pytest.raises(RuntimeError):
        journey.try_again()
    journey.begin()
    with pytest.raises(RuntimeError):
        journey.confirm(True)  # nobody matched yet
    with pytest.raises(RuntimeError):
        journey.complete_step(REVIEW)  # not at that step
    with pytest.raises(KeyError):
        journey.step("no_such_step")


# -- end of the visit -----------------------------------------------------------------------


def test_end_records_timings_without_phi_and_wipes_the_session(journey, demo_store, clock):
    journey.begin()
    clock.advance(3)
    journey.enter_last_name("García-López")
    clock.advance(7)
    journey.enter_birth_date(MARIA_BORN)
    clock.advance(2.5)
    journey.confirm(True)
    clock.advance(20)
    journey.complete_step(REVIEW)
    clock.advance(4)
    session = journey.session
    assert session.phi_strings()
    journey.end("completed")

    assert journey.session is None and journey.state == WELCOME and journey.notice == ""
    assert session.phi_strings() == []
    assert session.contact is None and session.check_in is None and session.changed_fields == []

    [ended] = events(demo_store, "visit.ended")
    assert ended.session_id == session.id
    assert ended.created_at == clock()
    assert ended.payload == {
        "reason": "completed",
        "language": "en",
        "checked_in": True,
        "stages": [
            {"stage": LAST_NAME, "seconds": 3.0},
            {"stage": BIRTH_DATE, "seconds": 7.0},
            {"stage": CONFIRM, "seconds": 2.5},
            {"stage": REVIEW, "seconds": 20.0},
            {"stage": DONE, "seconds": 4.0},
        ],
    }
    assert all(s["seconds"] >= 0 for s in ended.payload["stages"])
    text = json.dumps(ended.payload, ensure_ascii=False).casefold()
    for phi in ["maria", "garcía", "garcia", "lópez", "lopez", "1956", "03/14", "555", "elm", "springfield",
                "62701", "example.org", journey.store.find_appointments("garcia lopez", MARIA_BORN, TODAY)[0].patient_id]:
        assert phi.casefold() not in text


def test_end_midway_records_the_reason_and_language(journey, demo_store, clock):
    journey.begin()
    journey.set_language("es")
    journey.enter_last_name("smith")
    clock.advance(61)
    journey.end("timeout")
    [ended] = events(demo_store, "visit.ended")
    assert ended.payload["reason"] == "timeout"
    assert ended.payload["language"] == "es"
    assert ended.payload["checked_in"] is False
    assert [s["stage"] for s in ended.payload["stages"]] == [LAST_NAME, BIRTH_DATE]
    assert ended.payload["stages"][-1]["seconds"] == 61.0
    assert "smith" not in json.dumps(ended.payload).casefold()


def test_end_without_a_visit_records_nothing(journey, demo_store):
    journey.end("cooldown_over")
    assert journey.state == WELCOME
    assert events(demo_store) == []


def test_stage_timings_never_negative_even_if_the_clock_steps_back(journey, demo_store, clock):
    journey.begin()
    clock.advance(-30)  # e.g. an NTP correction
    journey.enter_last_name("smith")
    clock.advance(5)
    journey.end("start_over")
    [ended] = events(demo_store, "visit.ended")
    assert [s["seconds"] for s in ended.payload["stages"]] == [0.0, 5.0]


# -- pluggable steps --------------------------------------------------------------------------


class PhysicalForm(Step):
    name = "physical_form"
    visit_types = frozenset({"annual_physical"})


class Goodbye(Step):
    name = "goodbye"


def test_steps_apply_by_visit_type(demo_store, clock):
    steps = [*core_steps(), PhysicalForm(), Goodbye()]
    john = Journey(demo_store, steps, clock)
    identify(john, "smith", SMITH_BORN, "john")  # annual physical
    john.confirm(True)
    assert john.state == REVIEW
    john.complete_step(REVIEW)
    assert john.state == "physical_form"
    john.complete_step("physical_form")
    assert john.state == "goodbye"
    john.complete_step("goodbye")
    assert john.state == DONE

    jane = Journey(demo_store, steps, clock)
    identify(jane, "smith", SMITH_BORN, "jane")  # follow-up: no physical form
    jane.confirm(True)
    jane.complete_step(REVIEW)
    assert jane.state == "goodbye"


def test_no_steps_goes_straight_to_done(demo_store, clock):
    journey = Journey(demo_store, [], clock)
    identify(journey, "garcia lopez", MARIA_BORN)
    journey.confirm(True)
    assert journey.state == DONE
    assert journey.session.check_in.already is False


def test_begin_during_a_visit_closes_and_wipes_the_old_one(journey):
    journey.begin()
    journey.enter_last_name("García-López")
    old = journey.session
    journey.begin()
    assert journey.session is not old and journey.session.last_name == ""
    assert old.phi_strings() == []
    ended = [e for e in journey.store.outbox_pending(100) if e.event_type == "visit.ended"]
    assert [e.payload["reason"] for e in ended] == ["abandoned"]
