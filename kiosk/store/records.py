"""Plain frozen dataclasses the store hands out and takes in (no ORM objects leak)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any


@dataclass(frozen=True)
class AppointmentMatch:
    appointment_id: str
    patient_id: str
    first_name: str
    last_name: str
    start: datetime  # naive local clinic time
    clinician_id: str
    clinician_name: str
    visit_type: str
    status: str  # "booked" or "arrived"
    copay_cents: int | None = None  # amount due at check-in (None: nothing to collect)
    portal_account: bool = False  # the patient already has a portal account


@dataclass(frozen=True)
class Contact:
    phone: str
    email: str
    street: str
    city: str
    state: str
    postal_code: str


CONTACT_FIELDS = ("phone", "email", "street", "city", "state", "postal_code")


@dataclass(frozen=True)
class CheckInResult:
    already: bool
    queue_position: int  # 1 = next for the clinician; 0 = already seen
    expected_wait_minutes: int
    arrived_at: datetime  # UTC


@dataclass(frozen=True)
class KioskStatus:
    db_bytes: int
    outbox_pending: int
    outbox_oldest: datetime | None
    last_sync: datetime | None
    schema_revision: str
    dead_letters: int = 0  # events the server rejected; staff must look at them


@dataclass(frozen=True)
class DeadLetter:
    """An event the server rejected. No payload: it may hold PHI and staff need the why."""

    event_id: str
    event_type: str
    reason: str  # the server's reason, never PHI
    dead_at: datetime  # UTC


# Schedule data coming in (from the sync agent, the demo clinic or a benchmark).


@dataclass(frozen=True)
class ClinicianRecord:
    id: str
    display_name: str


@dataclass(frozen=True, repr=False)
class PatientRecord:
    id: str
    first_name: str
    last_name: str
    birth_date: date
    phone: str = ""
    email: str = ""
    street: str = ""
    city: str = ""
    state: str = ""
    postal_code: str = ""

    # "form:<url>" / "consent:<id>@<version>" -> ISO date, from the practice (schedule pull).
    history: dict[str, str] = field(default_factory=dict)
    portal_account: bool = False

    def __repr__(self) -> str:  # PHI must not reach logs through a repr
        return f"PatientRecord(id={self.id!r}, <PHI hidden>)"


@dataclass(frozen=True)
class AppointmentRecord:
    id: str
    patient_id: str
    clinician_id: str
    start: datetime  # naive local clinic time
    visit_type: str
    status: str = "booked"
    copay_cents: int | None = None


# Steps after check-in write these.


@dataclass(frozen=True, repr=False)
class NewEvent:
    """An event to queue; several are written in one transaction by Store.record_events."""

    event_type: str
    payload: dict[str, Any]
    priority: int = 1  # outbox.NORMAL_PRIORITY; outbox.HIGH_PRIORITY (0) jumps the backlog

    def __repr__(self) -> str:  # the payload may hold PHI
        return f"NewEvent({self.event_type!r})"


@dataclass(frozen=True)
class HistoryEntry:
    """The patient completed a form or signed a consent (key "form:<url>" or
    "consent:<id>@<version>") on `day`; kept so the next visit does not ask again."""

    patient_id: str
    key: str
    day: date


@dataclass(frozen=True, repr=False)
class FormDraft:
    id: str
    session_id: str
    body: dict[str, Any]  # decrypted: questionnaire, answers so far, ids
    updated_at: datetime

    def __repr__(self) -> str:
        return f"FormDraft(id={self.id!r}, session_id={self.session_id!r})"


@dataclass(frozen=True, repr=False)
class PaymentRecord:
    """A payment the kiosk asked of the terminal; `result` is what the terminal answered
    (token, brand, last four, approval code; never a card number)."""

    id: str  # the idempotency key
    appointment_id: str
    session_id: str
    amount_cents: int
    state: str
    result: dict[str, Any] | None

    def __repr__(self) -> str:
        return f"PaymentRecord(id={self.id!r}, state={self.state!r}, amount_cents={self.amount_cents})"
