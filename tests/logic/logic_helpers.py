"""Small builders shared by the logic tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from kiosk.flow import Journey
from kiosk.store import OutboxEvent, Store

# A fixed "today". The journey takes "today" as clock().astimezone().date(), i.e. the
# machine's local date, so NOW is local noon of TODAY expressed in UTC: whatever the
# machine's time zone, the journey's today is TODAY.
TODAY = date(2025, 3, 10)  # = tests/conftest.py TEST_TODAY, the demo_store fixture's day
NOW = datetime.combine(TODAY, time(12, 0)).astimezone().astimezone(UTC)

MARIA_BORN = date(1956, 3, 14)
SMITH_BORN = date(1980, 1, 1)
ANA_BORN = date(1990, 7, 21)


class FakeClock:
    """An injected clock: a mutable, timezone-aware UTC datetime."""

    def __init__(self, now: datetime) -> None:
        assert now.tzinfo is not None
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def events(store: Store, event_type: str | None = None) -> list[OutboxEvent]:
    """Pending events of `event_type`; without one, all but the drop-off analytics
    (step.event, tested in test_dropoff_events.py), which every screen change writes."""
    pending = store.outbox_pending(100_000)
    if event_type is None:
        return [e for e in pending if e.event_type != "step.event"]
    return [e for e in pending if e.event_type == event_type]


def identify(journey: Journey, last_name: str, born: date, first_name: str | None = None) -> None:
    """Begin a visit and answer the identification questions."""
    journey.begin()
    journey.enter_last_name(last_name)
    journey.enter_birth_date(born)
    if first_name is not None:
        journey.enter_first_name(first_name)


def core_steps() -> list:
    """Identification and the contact review only: the journey tests are about the core;
    the card, consent and forms steps have their own tests."""
    from kiosk.steps import ReviewContactStep

    return [ReviewContactStep()]
