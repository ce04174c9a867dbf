"""Failed identification attempts and the cool-down that follows too many of them."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from kiosk.flow import (
    CONFIRM,
    COOLDOWN,
    COOLDOWN_SETTING,
    FAILURES_SETTING,
    FRONT_DESK,
    LAST_NAME,
    WELCOME,
    IdentifyPolicy,
    Journey,
)
from kiosk.store import open_store
from logic_helpers import MARIA_BORN, core_steps, events, identify

WRONG_BORN = date(1970, 1, 1)


def fail_once(journey: Journey) -> None:
    """One failed attempt, starting a visit if needed, from any state."""
    if journey.session is None:
        journey.begin()
    elif journey.state == FRONT_DESK:
        journey.try_again()
    journey.enter_last_name("Nobody")
    journey.enter_birth_date(WRONG_BORN)


def test_five_failures_start_the_cooldown(journey, demo_store, clock):
    for attempt in range(1, 5):
        fail_once(journey)
        assert journey.state == FRONT_DESK
        assert demo_store.get_setting(FAILURES_SETTING) == str(attempt)
    assert journey.cooldown_remaining() == 0
    session = journey.session

    fail_once(journey)
    assert journey.state == COOLDOWN
    assert journey.session is None
    assert session.phi_strings() == []  # the visit was ended and wiped
    assert journey.cooldown_remaining() == pytest.approx(120)
    assert demo_store.get_setting(FAILURES_SETTING) == "0"

    kinds = [e.event_type for e in events(demo_store)]
    assert kinds == ["identify.failed"] * 5 + ["identify.cooldown", "visit.ended"]
    failed = events(demo_store, "identify.failed")
    assert [e.payload["attempt"] for e in failed] == [1, 2, 3, 4, 5]
    assert {e.payload["reason"] for e in failed} == {"no_match"}
    [cooldown] = events(demo_store, "identify.cooldown")
    assert cooldown.payload == {"attempts": 5, "seconds": 120}
    assert cooldown.session_id == session.id
    [ended] = events(demo_store, "visit.ended")
    assert ended.payload["reason"] == "cooldown"
    assert ended.session_id == session.id


def test_cooldown_until_is_the_clock_plus_the_policy(journey, demo_store, clock):
    for _ in range(5):
        fail_once(journey)
    until = datetime.fromisoformat(demo_store.get_setting(COOLDOWN_SETTING))
    assert (until - clock()).total_seconds() == 120


def test_begin_during_cooldown_stays_in_cooldown(journey, demo_store, clock):
    for _ in range(5):
        fail_once(journey)
    before = len(events(demo_store))
    clock.advance(60)
    journey.begin()
    assert journey.state == COOLDOWN
    assert journey.session is None
    assert journey.cooldown_remaining() == pytest.approx(60)
    journey.end("cooldown")  # what the cooldown screen may do: no visit, no event
    assert journey.state == COOLDOWN
    assert len(events(demo_store)) == before


def test_cooldown_survives_a_restart(journey, demo_store, clock, data_dir, key_file):
    for _ in range(5):
        fail_once(journey)
    clock.advance(30)

    # A new Journey on the same store (the app restarted) starts in cool-down.
    restarted = Journey(demo_store, core_steps(), clock)
    assert restarted.state == COOLDOWN
    restarted.begin()
    assert restarted.state == COOLDOWN and restarted.session is None

    # So does one on a freshly opened store (the whole process restarted).
    demo_store.close()
    with open_store(data_dir, key_file) as reopened:
        again = Journey(reopened, core_steps(), clock)
        assert again.state == COOLDOWN
        assert again.cooldown_remaining() == pytest.approx(90)
        again.begin()
        assert again.state == COOLDOWN


def test_cooldown_passes_when_the_clock_moves_on(journey, demo_store, clock):
    for _ in range(5):
        fail_once(journey)
    clock.advance(119)
    journey.begin()
    assert journey.state == COOLDOWN
    assert journey.cooldown_remaining() == pytest.approx(1)
    clock.advance(1)
    assert journey.cooldown_remaining() == 0
    journey.end("cooldown_over")  # the cooldown screen's countdown reached zero
    assert journey.state == WELCOME
    journey.begin()
    assert journey.state == LAST_NAME
    # The counter started again from zero: one failure is attempt 1, not 6.
    fail_once(journey)
    assert events(demo_store, "identify.failed")[-1].payload["attempt"] == 1
    assert journey.state == FRONT_DESK
    # And a new Journey made after the cool-down starts at the welcome screen.
    assert Journey(demo_store, core_steps(), clock).state == WELCOME


def test_staff_can_clear_the_cooldown(journey, demo_store, clock):
    for _ in range(5):
        fail_once(journey)
    assert journey.state == COOLDOWN
    journey.clear_cooldown()
    assert journey.state == WELCOME
    assert journey.cooldown_remaining() == 0
    assert demo_store.get_setting(FAILURES_SETTING) == "0"
    journey.begin()
    assert journey.state == LAST_NAME
    assert Journey(demo_store, core_steps(), clock).state == WELCOME


def test_clear_cooldown_resets_a_partial_failure_count(journey, demo_store):
    for _ in range(3):
        fail_once(journey)
    journey.clear_cooldown()
    assert journey.state == FRONT_DESK  # not in cool-down: the visit goes on
    assert demo_store.get_setting(FAILURES_SETTING) == "0"


def test_failures_count_across_visits(journey, demo_store):
    """The counter is the kiosk's, not the visit's: starting over does not reset it."""
    for _ in range(4):
        fail_once(journey)
        journey.end("start_over")
    assert demo_store.get_setting(FAILURES_SETTING) == "4"
    fail_once(journey)
    assert journey.state == COOLDOWN


def test_a_successful_confirm_resets_the_failure_count(journey, demo_store):
    for _ in range(4):
        fail_once(journey)
    journey.try_again()
    journey.enter_last_name("garcia lopez")
    journey.enter_birth_date(MARIA_BORN)
    assert journey.state == CONFIRM
    assert demo_store.get_setting(FAILURES_SETTING) == "4"  # matching alone does not reset it
    journey.confirm(True)
    assert demo_store.get_setting(FAILURES_SETTING) == "0"
    journey.end("completed")

    for attempt in range(1, 5):
        fail_once(journey)
        assert journey.state == FRONT_DESK
        assert events(demo_store, "identify.failed")[-1].payload["attempt"] == attempt
    fail_once(journey)
    assert journey.state == COOLDOWN


def test_mixed_failure_reasons_all_count(journey, demo_store):
    identify(journey, "smith", date(1980, 1, 1), "Joan")  # first_name_mismatch
    journey.try_again()
    journey.enter_last_name("garcia lopez")
    journey.enter_birth_date(MARIA_BORN)
    journey.confirm(False)  # patient_rejected_match
    journey.try_again()
    journey.enter_last_name("de la cruz")
    journey.enter_birth_date(date(1990, 7, 21))  # no_appointment_today
    journey.try_again()
    journey.enter_last_name("nobody")
    journey.enter_birth_date(WRONG_BORN)  # no_match
    assert journey.state == FRONT_DESK
    journey.try_again()
    journey.enter_last_name("garcia lopez")
    journey.enter_birth_date(MARIA_BORN)
    journey.confirm(False)
    assert journey.state == COOLDOWN
    reasons = [e.payload["reason"] for e in events(demo_store, "identify.failed")]
    assert reasons == [
        "first_name_mismatch",
        "patient_rejected_match",
        "no_appointment_today",
        "no_match",
        "patient_rejected_match",
    ]
    assert events(demo_store, "appointment.arrived") == []


def test_custom_policy(demo_store, clock):
    journey = Journey(demo_store, core_steps(), clock, IdentifyPolicy(max_attempts=2, cooldown_seconds=30))
    fail_once(journey)
    assert journey.state == FRONT_DESK
    fail_once(journey)
    assert journey.state == COOLDOWN
    assert journey.cooldown_remaining() == pytest.approx(30)
    [cooldown] = events(demo_store, "identify.cooldown")
    assert cooldown.payload == {"attempts": 2, "seconds": 30}
    clock.advance(30)
    journey.begin()
    assert journey.state == LAST_NAME


def test_try_again_during_a_cooldown_set_elsewhere_ends_the_visit(demo_store, clock):
    """Two journeys on one store (e.g. two app windows): the other one hit the limit."""
    mine = Journey(demo_store, core_steps(), clock)
    other = Journey(demo_store, core_steps(), clock)
    fail_once(mine)
    assert mine.state == FRONT_DESK
    for _ in range(4):
        fail_once(other)
    assert other.state == COOLDOWN
    session = mine.session
    mine.try_again()
    assert mine.state == COOLDOWN
    assert mine.session is None
    assert session.phi_strings() == []
    assert events(demo_store, "visit.ended")[-1].payload["reason"] == "cooldown"
