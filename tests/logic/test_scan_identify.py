"""Identification by a scanned code: the reminder's QR code (then only the birth date) or
a driver's licence (name and birth date from it)."""

from __future__ import annotations

from datetime import date

from logic_helpers import MARIA_BORN, SMITH_BORN, TODAY, events
from kiosk.flow import BIRTH_DATE, CONFIRM, FRONT_DESK, QR_OTHER_DAY, QR_UNREADABLE, QR_USED, SCAN


def maria_appointment(store) -> str:
    [match] = store.find_appointments("García-López", MARIA_BORN, TODAY)
    return match.appointment_id


def test_a_checkin_code_asks_only_the_birth_date(journey, demo_store):
    journey.begin_scan()
    assert journey.state == SCAN
    journey.use_checkin_code(maria_appointment(demo_store))
    assert journey.state == BIRTH_DATE
    journey.enter_birth_date(MARIA_BORN)
    assert journey.state == CONFIRM and journey.session.appointment.first_name == "Maria"


def test_a_lost_phone_does_not_check_anyone_in(journey, demo_store):
    journey.begin_scan()
    journey.use_checkin_code(maria_appointment(demo_store))
    journey.enter_birth_date(date(1970, 1, 1))
    assert journey.state == FRONT_DESK
    [failed] = events(demo_store, "identify.failed")
    assert failed.payload["reason"] == "code_birth_date_mismatch"


def test_a_used_code_unknown_code_or_other_day_gets_plain_words(journey, demo_store, clock):
    appointment = maria_appointment(demo_store)
    journey.begin_scan()
    journey.use_checkin_code("00000000-0000-4000-8000-000000000000")
    assert journey.state == SCAN and journey.notice == QR_UNREADABLE
    journey.use_checkin_code(appointment)
    journey.enter_birth_date(MARIA_BORN)
    journey.confirm(True)
    journey.end("completed")
    journey.begin_scan()
    journey.use_checkin_code(appointment)
    assert journey.state == SCAN and journey.notice == QR_USED
    journey.end("start_over")
    clock.advance(24 * 3600)
    journey.begin_scan()
    journey.use_checkin_code(appointment)
    assert journey.notice in (QR_OTHER_DAY, QR_USED)


def test_back_from_the_birth_date_of_a_code_returns_to_the_camera(journey, demo_store):
    journey.begin_scan()
    journey.use_checkin_code(maria_appointment(demo_store))
    journey.back()
    assert journey.state == SCAN and journey.session.code_appointment == ""


def test_a_licence_identifies_and_its_first_name_settles_same_name_same_birthday(journey, demo_store):
    journey.begin_scan()
    journey.use_licence("SMITH", "JANE", SMITH_BORN, expired=True, address={"street": "1 Elm St"})
    assert journey.state == CONFIRM and journey.session.appointment.first_name == "Jane"
    [used] = events(demo_store, "identify.licence_used")
    assert used.payload == {"expired": True}  # no number, no name, no address
    assert "1 Elm St" in journey.session.phi_strings()
    journey.end("start_over")
    assert journey.session is None


def test_a_licence_of_someone_without_an_appointment_is_a_plain_no_match(journey, demo_store):
    journey.begin_scan()
    journey.use_licence("NOBODY", "PAT", date(1970, 1, 1), expired=False)
    assert journey.state == FRONT_DESK
