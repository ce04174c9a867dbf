"""SQLAlchemy 2 models of the kiosk database.

Migrations in migrations/versions are written by hand and must match these
models (tests/store/test_migrations.py compares them).

Time conventions:
- created_at, arrived_at, sent_at ... are UTC. UTCDateTime refuses naive values
  and returns aware ones, so local and UTC times cannot be mixed by accident.
- Appointment.start is the clinic's naive local wall-clock time, exactly as the
  schedule shows it; Appointment.day is its date (indexed for "today" look-ups).
PHI columns hold AES-GCM ciphertext (see cipher.py); the only searchable value is
the keyed blind index Patient.identity_index.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

UUID_LEN = 36


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetime in, stored as naive UTC, aware UTC out."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):  # type: ignore[override]
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("a UTC column got a naive datetime; pass an aware one")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):  # type: ignore[override]
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Clinician(Base):
    __tablename__ = "clinicians"

    id: Mapped[str] = mapped_column(String(UUID_LEN), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200))


class Patient(Base):
    __tablename__ = "patients"

    id: Mapped[str] = mapped_column(String(UUID_LEN), primary_key=True)
    # Encrypted PHI, AAD b"patients.<column>"; birth_date is the ISO date string.
    first_name: Mapped[bytes] = mapped_column(LargeBinary)
    last_name: Mapped[bytes] = mapped_column(LargeBinary)
    birth_date: Mapped[bytes] = mapped_column(LargeBinary)
    phone: Mapped[bytes] = mapped_column(LargeBinary)
    email: Mapped[bytes] = mapped_column(LargeBinary)
    street: Mapped[bytes] = mapped_column(LargeBinary)
    city: Mapped[bytes] = mapped_column(LargeBinary)
    state: Mapped[bytes] = mapped_column(LargeBinary)
    postal_code: Mapped[bytes] = mapped_column(LargeBinary)
    # HMAC(last name, birth date); not unique: relatives can share both.
    identity_index: Mapped[bytes] = mapped_column(LargeBinary(32), index=True)
    # Encrypted JSON {"form:<url>": "YYYY-MM-DD", "consent:<id>@<version>": ...}: when the
    # patient last completed a form or signed a consent. `history` is the practice's (from
    # the schedule pull, overwritten by it); `local_history` is what this kiosk recorded
    # and the server may not know yet. Both are read together; NULL means none.
    history: Mapped[bytes | None] = mapped_column(LargeBinary)
    local_history: Mapped[bytes | None] = mapped_column(LargeBinary)
    # Has a patient-portal account (from the practice): no invitation is offered then.
    portal_account: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


PHI_COLUMNS = (
    "first_name",
    "last_name",
    "birth_date",
    "phone",
    "email",
    "street",
    "city",
    "state",
    "postal_code",
)


class Appointment(Base):
    __tablename__ = "appointments"
    __table_args__ = (
        Index("ix_appointments_patient_id_day", "patient_id", "day"),
        Index("ix_appointments_clinician_id_day", "clinician_id", "day"),
    )

    id: Mapped[str] = mapped_column(String(UUID_LEN), primary_key=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"))
    clinician_id: Mapped[str] = mapped_column(ForeignKey("clinicians.id"))
    start: Mapped[datetime] = mapped_column(DateTime)  # naive local clinic time
    day: Mapped[date] = mapped_column(Date, index=True)  # == start.date()
    visit_type: Mapped[str] = mapped_column(String(32))
    # booked -> arrived (kiosk) -> seen (from the practice); or cancelled.
    status: Mapped[str] = mapped_column(String(16), default="booked")
    arrived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    copay_cents: Mapped[int | None] = mapped_column(Integer)  # amount due, from the practice


class Payment(Base):
    """A copay asked of the payment terminal. Written BEFORE the terminal is asked (state
    "started"), so a crash between the terminal's approval and the kiosk's record is found
    at the next start and settled by the idempotency key (= id): never charged twice.
    Only what the terminal returns is kept: token, brand, last four, approval code."""

    __tablename__ = "payments"

    id: Mapped[str] = mapped_column(String(UUID_LEN), primary_key=True)  # the idempotency key
    appointment_id: Mapped[str] = mapped_column(String(UUID_LEN), index=True)
    session_id: Mapped[str] = mapped_column(String(UUID_LEN))
    amount_cents: Mapped[int] = mapped_column(Integer)
    # started -> approved | declined | cancelled | timeout | offline | error | deferred
    state: Mapped[str] = mapped_column(String(16), index=True)
    result: Mapped[bytes | None] = mapped_column(LargeBinary)  # encrypted JSON of the terminal's answer
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class OutboxEvent(Base):
    """One event waiting for (or done with) the sync agent; see outbox.py."""

    __tablename__ = "outbox_events"
    __table_args__ = (
        Index("ix_outbox_events_state_created_at", "state", "created_at"),
        Index("ix_outbox_events_state_priority_created_at", "state", "priority", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(UUID_LEN), primary_key=True)  # idempotency key
    event_type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[bytes] = mapped_column(LargeBinary)  # encrypted JSON, AAD b"outbox.payload"
    session_id: Mapped[str | None] = mapped_column(String(UUID_LEN))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    # 0 is sent before 1 (an urgent alert jumps the backlog); ascending so one index serves.
    priority: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class FormDraft(Base):
    """A form being filled: saved after every confirmed answer, so a crash or a timeout
    loses nothing the patient confirmed. Deleted in the transaction that writes its
    form.response event (form finished or visit ended); a draft found at start-up is
    from a visit a crash cut short, and is sent as a partial response."""

    __tablename__ = "form_drafts"

    id: Mapped[str] = mapped_column(String(UUID_LEN), primary_key=True)
    session_id: Mapped[str] = mapped_column(String(UUID_LEN), index=True)
    # Encrypted JSON: the questionnaire, the answers so far, ids; AAD b"form_drafts.body".
    body: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DeadLetter(Base):
    """An event the server rejected: one row per dead outbox event, for staff to see.

    The outbox row itself stays (state "dead", payload still encrypted): nothing the
    patient confirmed is ever dropped. This table holds no payload, only why.
    """

    __tablename__ = "dead_letters"

    event_id: Mapped[str] = mapped_column(ForeignKey("outbox_events.id"), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)  # the server's reason; never PHI
    dead_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class AuditEntry(Base):
    """Append-only (database triggers refuse UPDATE and DELETE); see audit.py."""

    __tablename__ = "audit_entries"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(100))
    detail: Mapped[str] = mapped_column(Text)  # canonical JSON; ids only, never PHI
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class Setting(Base):
    """Small kiosk state (staff lockout, last sync ...). Plain text: never PHI."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
