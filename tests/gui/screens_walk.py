"""Bring the app to every screen it has, with a real visit behind it, for layout checks."""
from __future__ import annotations

import itertools
import uuid
from datetime import date, datetime, timedelta

from kiosk import flow
from kiosk import ui_driver as ui
from kiosk.store.records import AppointmentRecord, ClinicianRecord, PatientRecord

_names = itertools.count()
BORN = date(1961, 5, 17)


def _twins(app) -> str:
    """Two new patients sharing a last name and birth date, both booked today; the last name."""
    last = "Walk" + "".join(chr(ord("a") + int(d)) for d in str(next(_names)))
    today = app.clock().astimezone().date()
    clinician = ClinicianRecord(str(uuid.uuid4()), "Dr. Imani Walker-Osei")
    patients = [
        PatientRecord(str(uuid.uuid4()), first, last, BORN, "(555) 301-2233", "walk.test@example.org",
                      "1200 Long Boulevard Apartment 14B", "Springfield", "IL", "62704")
        for first in ("Alexandria", "Bartholomew")
    ]
    start = datetime.combine(today, datetime.min.time()).replace(hour=11)
    appointments = [AppointmentRecord(str(uuid.uuid4()), p.id, clinician.id, start, "follow_up", copay_cents=2500)
                    for p in patients]
    app.store.import_schedule([clinician], patients, appointments)
    return last


def every_screen(app, restyle=lambda: None):
    """Yield each screen name once it is showing (journey driven directly, not by touch).

    `restyle` re-applies the text size and colours under test after a visit ends (the end
    of a visit puts them back to the defaults for the next patient)."""
    journey = app.journey
    last = _twins(app)

    def show():
        app._activity()  # as if touched: the walk is slower than any patient at a screen
        app.sync()
        ui.pump(3)
        return app.manager.current

    yield show()  # welcome
    app.begin_visit(scan=True)
    yield show()  # scan (the camera starts; nothing to read)
    journey.back()
    yield show()  # last_name
    app.screen("last_name").ids.entry.value = last.upper()
    journey.enter_last_name(last)
    yield show()  # birth_date
    journey.enter_birth_date(BORN)
    yield show()  # first_name
    journey.enter_first_name("Bartholomew")
    yield show()  # confirm
    journey.confirm(True)
    yield show()  # review_contact
    app.edit_contact("email")
    ui.pump(3)
    yield app.manager.current  # edit_contact
    journey.complete_step("review_contact")
    yield show()  # insurance_card: do you have your card?
    app.screen("insurance_card").start_photos()
    yield show()  # insurance_card: the camera
    app.screen("insurance_card").skip()
    yield show()  # consent: the text
    app.screen("consent").to_signing()
    ui.pump(3)
    yield app.manager.current  # consent: the signature pad
    while journey.state == "consent":
        journey.step("consent").defer(journey)
    yield show()  # copay: the amount, pay with card or at the desk
    journey.step("copay").pay_at_desk(journey)
    yield show()  # forms: a typed answer (the reason for the visit)
    forms = journey.step("forms")
    forms.answer(journey, ["Check-up"])
    forms.next(journey)
    yield show()  # forms: a yes/no question
    journey.complete_step("forms")
    yield show()  # portal: the invitation's QR code
    journey.complete_step("portal")
    yield show()  # done
    app.end_visit("test")
    restyle()
    app.begin_visit()
    journey.enter_last_name("Nobody")
    journey.enter_birth_date(date(1970, 1, 1))
    yield show()  # front_desk
    app.end_visit("test")
    restyle()
    until = app.clock() + timedelta(seconds=60)
    app.store.set_setting(flow.COOLDOWN_SETTING, until.isoformat())
    journey.state = flow.COOLDOWN
    yield show()  # cooldown
    app.journey.clear_cooldown()
    app.open_staff()
    ui.pump(3)
    yield app.manager.current  # staff_pin
    app.enter_staff_mode()
    ui.pump(3)
    yield app.manager.current  # staff
    app.leave_staff_mode()
    app.show("problem")
    ui.pump(3)
    yield app.manager.current  # problem
    app.sync()
    ui.pump(2)
    app.open_education()
    restyle()
    ui.pump(3)
    yield app.manager.current  # education: the list
    app.screen("education").open_article("high-blood-pressure")
    ui.pump(3)
    yield app.manager.current  # education: the reader
    app.leave_education()
    ui.pump(2)
