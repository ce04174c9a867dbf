"""Patients checking in through the kiosk's own code (Journey + steps), no window.

Shared by the end-to-end, offline and chaos tests: they need events made the way the
kiosk makes them, not rows typed into the outbox by hand.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from kiosk.flow import CONFIRM, FIRST_NAME, Journey
from kiosk.steps import default_steps
from kiosk.store import Store
from kiosk.store.demo_clinic import DEMO_PATIENTS


def check_in(
    store: Store,
    clock: Callable[[], datetime],
    last_name: str,
    born: date,
    first_name: str | None = None,
    new_phone: str | None = None,
) -> str:
    """One visit: identify, confirm, (maybe) correct the phone, finish. Returns the
    appointment id; raises AssertionError if the kiosk did not find the patient."""
    journey = Journey(store, default_steps(), clock)
    journey.begin()
    journey.enter_last_name(last_name)
    journey.enter_birth_date(born)
    if journey.state == FIRST_NAME:
        assert first_name, "two patients share this name and birth date"
        journey.enter_first_name(first_name)
    assert journey.state == CONFIRM, f"the kiosk did not find the patient (state {journey.state})"
    appointment_id = journey.session.appointment.appointment_id
    journey.confirm(True)
    if new_phone is not None:
        journey.step("review_contact").save_field(journey, "phone", new_phone)
    journey.complete_step("review_contact")
    journey.end("done")
    return appointment_id


def fail_to_identify(store: Store, clock: Callable[[], datetime]) -> None:
    """A patient the kiosk cannot find (an identify.failed event)."""
    journey = Journey(store, default_steps(), clock)
    journey.begin()
    journey.enter_last_name("Nobody-Here")
    journey.enter_birth_date(date(1901, 1, 1))
    journey.end("abandoned")


def site_noon(days: int = 0, timezone: str = "America/Chicago") -> datetime:
    """Noon at the site on its today + `days`, as aware UTC. The server's demo schedule
    is built for the site's today; a kiosk clock at the site's noon puts the journey's
    "today" on that same date at any hour the tests run."""
    zone = ZoneInfo(timezone)
    site_today = datetime.now(zone).date() + timedelta(days=days)
    return datetime.combine(site_today, time(12), tzinfo=zone).astimezone(UTC)


DEMO = {key: DEMO_PATIENTS[key] for key in ("maria", "john_smith", "walter")}


def intake_visit(store: Store, clock: Callable[[], datetime], last_name: str, born: date,
                 urgent: bool = False) -> str:
    """A whole visit after check-in, through the kiosk's steps: card photos (from the demo
    camera's recorded frames, encoded as the preview does), the first consent signed and
    the rest left for the desk, every form answered (PHQ-9 item 9 positive if `urgent`).
    Returns the patient id."""
    import math

    import cv2

    from hardware.camera import DEMO_REPLAY_DIR
    from hardware.card_capture import encode_card_image
    from kiosk.signature import Signature
    from kiosk.steps.insurance_card import CardPhoto

    journey = Journey(store, default_steps(), clock)
    journey.begin()
    journey.enter_last_name(last_name)
    journey.enter_birth_date(born)
    assert journey.state == CONFIRM, journey.state
    patient_id = journey.session.appointment.patient_id
    journey.confirm(True)
    journey.complete_step("review_contact")

    card = journey.step("insurance_card")
    card.start_photos(journey)
    for side in ("card_front", "card_back"):
        frame = cv2.imread(str(sorted((DEMO_REPLAY_DIR / side).glob("*.jpg"))[-1]))
        image = encode_card_image(frame)
        card.captured(journey, CardPhoto(image.jpeg, image.width, image.height, 1500.0, "auto"))
        card.keep(journey)

    consent = journey.step("consent")
    name = [(40 + 5 * i + 20 * math.sin(i / 3), 120 - 50 * abs(math.sin(i / 4))) for i in range(100)]
    assert consent.sign(journey, Signature((tuple(name),), 600, 200)) is None
    while journey.state == "consent":
        consent.defer(journey)

    forms = journey.step("forms")
    while journey.state == "forms":
        if forms.showing_calm_message(journey):
            forms.dismiss_calm_message(journey)
            continue
        page = forms.runner(journey).page
        if page.kind == "add_another" or page.item_type == "boolean":
            values = [False]
        elif page.options:
            values = [page.options[1 if urgent and page.link_id == "44260-8" else 0][0]]
        elif page.kind == "display":
            values = None
        else:
            values = ["Check-up"]
        if values is not None:
            assert forms.answer(journey, values) is None
        assert forms.next(journey) is None
    journey.end("completed")
    return patient_id
