"""No PHI in the log: run whole journeys for a canary patient and grep the log file.

The PHI guard (which redacts registered strings) is left empty on purpose: the code
itself must not log PHI; the guard is only defence in depth.
"""

from __future__ import annotations

import json
import logging
from datetime import date, datetime, time

import pytest

from kiosk.contact_fields import InvalidField
from kiosk.flow import COOLDOWN, DONE, FRONT_DESK, Journey
from kiosk.logging_setup import REDACTED, configure_logging, shutdown_logging
from kiosk.staff import StaffAuth
from kiosk.staff_pin import DEMO_PIN, DEMO_PIN_HASH
from kiosk.store import AppointmentRecord, ClinicianRecord, PatientRecord
from logic_helpers import TODAY, core_steps, events

CANARY = PatientRecord(
    id="8d3c1d9e-6a55-4d8e-9d4b-0c1f6f0a9b11",
    first_name="Zebulonia",
    last_name="Quistgaard-Ørnbæk",
    birth_date=date(1961, 7, 23),
    phone="(555) 867-5309",
    email="zebulonia.q@example.org",
    street="4417 Canarywood Lane",
    city="Tinkerfield",
    state="IL",
    postal_code="62799",
)
NEW_PHONE = "(555) 867-4242"
NEW_EMAIL = "zq.canary@example.org"
CLINICIAN = ClinicianRecord(id="2b7f7c56-3a59-4a4b-8f0e-6c2a4cfa1d01", display_name="Dr. Test")
APPOINTMENT = AppointmentRecord(
    id="5e0a3f3c-1b2d-4e8f-9a6b-7c8d9e0f1a2b",
    patient_id=CANARY.id,
    clinician_id=CLINICIAN.id,
    start=datetime.combine(TODAY, time(13, 0)),
    visit_type="follow_up",
)

FORBIDDEN = [
    CANARY.first_name,
    CANARY.last_name,
    "Quistgaard",
    "Ørnbæk",
    "Ornbaek",
    "quistgaardornbaek",  # the folded form used for matching
    "Quistgaard Ornbaek",  # as the patient typed it
    CANARY.birth_date.isoformat(),  # 1961-07-23
    CANARY.birth_date.strftime("%m/%d/%Y"),  # 07/23/1961
    "7/23/1961",
    "1961-7-23",
    CANARY.phone,
    "867-5309",
    "5558675309",
    "8675309",
    NEW_PHONE,
    "867-4242",
    "5558674242",
    CANARY.email,
    NEW_EMAIL,
    "zebulonia.q",
    CANARY.street,
    "Canarywood",
    CANARY.city,
    "not-an-email-zq",  # refused input
    "99999-9",
]


@pytest.fixture
def log_file(tmp_path):
    root = logging.getLogger()
    old_level = root.level
    path = tmp_path / "logs" / "kiosk.log"
    guard = configure_logging(path, "DEBUG", console=False)
    guard.clear()
    try:
        yield path
    finally:
        guard.clear()
        shutdown_logging()
        root.setLevel(old_level)


def test_no_phi_reaches_the_log(log_file, demo_store, clock):
    store = demo_store
    store.import_schedule([CLINICIAN], [CANARY], [APPOINTMENT])
    journey = Journey(store, core_steps(), clock)
    logging.getLogger("kiosk.test").info("test.started")

    # 1. Wrong birth date (no match), then the right one but "That's not me".
    journey.begin()
    journey.enter_last_name("Quistgaard Ornbaek")
    journey.enter_birth_date(date(1961, 7, 24))
    assert journey.state == FRONT_DESK
    journey.try_again()
    journey.enter_last_name(CANARY.last_name)
    journey.enter_birth_date(CANARY.birth_date)
    journey.confirm(False)
    assert journey.state == FRONT_DESK
    journey.end("start_over")

    # 2. The real check-in, with contact changes and refused input.
    clock.advance(60)
    journey.begin()
    journey.enter_last_name("QUISTGAARD-ORNBAEK")
    journey.enter_birth_date(CANARY.birth_date)
    assert journey.session.appointment.first_name == CANARY.first_name
    journey.confirm(True)
    step = journey.step("review_contact")
    step.save_field(journey, "phone", "555 867 4242")
    step.save_field(journey, "email", NEW_EMAIL)
    for field, typed in [("email", "not-an-email-zq"), ("postal_code", "99999-9"), ("phone", "5558")]:
        with pytest.raises(InvalidField):
            step.save_field(journey, field, typed)
    journey.complete_step("review_contact")
    assert journey.state == DONE
    journey.end("completed")

    # 3. Again: already checked in.
    clock.advance(60)
    journey.begin()
    journey.enter_last_name("quistgaard ørnbæk")
    journey.enter_birth_date(CANARY.birth_date)
    journey.confirm(True)
    assert journey.session.check_in.already
    journey.end("completed")

    # 4. Someone guessing with the canary's name until the cool-down, then staff lift it.
    journey.begin()
    for day in range(1, 6):
        if journey.state == FRONT_DESK:
            journey.try_again()
        journey.enter_last_name(CANARY.last_name)
        journey.enter_birth_date(date(1961, 8, day))
    assert journey.state == COOLDOWN
    auth = StaffAuth(store, DEMO_PIN_HASH, clock)
    auth.sign_in("0000")
    auth.sign_in(DEMO_PIN)
    auth.record("staff.lifted_cooldown")
    journey.clear_cooldown()

    # 5. A visit that times out midway.
    journey.begin()
    journey.enter_last_name(CANARY.last_name)
    journey.end("timeout")

    for handler in logging.getLogger().handlers:
        handler.flush()
    text = log_file.read_text(encoding="utf-8")
    records = [json.loads(line) for line in text.splitlines()]

    # The log really recorded the journeys (so an empty log cannot pass this test).
    logged = [r["event"] for r in records]
    assert logged.count("identify.failed") == 2 + 5
    assert logged.count("visit.ended") == 5
    assert {r.get("reason") for r in records if r["event"] == "visit.ended"} == {
        "start_over", "completed", "cooldown", "timeout",
    }
    # ... and the outbox got the events, PHI included where the server needs it (encrypted at rest).
    assert len(events(store, "patient.contact_changed")) == 2

    folded = text.casefold()
    leaks = [term for term in FORBIDDEN if term.casefold() in folded]
    assert leaks == []
    assert CANARY.id not in text  # not PHI by itself, but no reason to log the patient id either
    assert REDACTED not in text  # nothing needed redacting: the code logs no PHI
    assert not any(r.get("phi_redacted") for r in records)
