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
