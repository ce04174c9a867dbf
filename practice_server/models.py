"""SQLAlchemy 2 models of the practice server database.

The migration in migrations/versions is written by hand and must match these models
(tests/server/test_migrations.py compares them on SQLite and PostgreSQL).

Times: columns typed UTCDateTime take and give aware UTC datetimes; Appointment.start
is the clinic's naive local wall-clock time (as the kiosk has it), Appointment.day its date.
JSON is stored as canonical text (sorted keys) so it compares and hashes the same everywhere.
Patient data here is plaintext: protecting the server database at rest (disk
encryption, PostgreSQL access control) is the practice's infrastructure job.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Sequence,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from kiosk.store.models import UTCDateTime

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
UUID_LEN = 36


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


# PostgreSQL hands out schedule change numbers from this sequence (no lock between
# writers); SQLite, whose writers are serialised anyway, uses the counters table.
SCHEDULE_CHANGE_SEQ = Sequence("schedule_change_seq", metadata=Base.metadata)


class Site(Base):
    __tablename__ = "sites"

    id: Mapped[str] = mapped_column(String(UUID_LEN), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    timezone: Mapped[str] = mapped_column(String(64))  # IANA name, e.g. America/Chicago
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Bundle(Base):
    """What a site's kiosks download from /bundles/{kind} (config overrides, forms ...)."""

    __tablename__ = "bundles"
    __table_args__ = (PrimaryKeyConstraint("site_id", "kind", name="pk_bundles"),)

    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"))
    kind: Mapped[str] = mapped_column(String(16))
    items: Mapped[str] = mapped_column(Text)  # canonical JSON
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Clinician(Base):
    __tablename__ = "clinicians"

    id: Mapped[str] = mapped_column(String(UUID_LEN), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200))


class Patient(Base):
    __tablename__ = "patients"

    id: Mapped[str] = mapped_column(String(UUID_LEN), primary_key=True)
    first_name: Mapped[str] = mapped_column(String(200))
    last_name: Mapped[str] = mapped_column(String(200))
    birth_date: Mapped[date] = mapped_column(Date)
    phone: Mapped[str] = mapped_column(String(100), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    street: Mapped[str] = mapped_column(String(200), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    state: Mapped[str] = mapped_column(String(100), default="")
    postal_code: Mapped[str] = mapped_column(String(20), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Appointment(Base):
    """The unit of the schedule pull: a change to the row, its patient or its
    clinician gives it a new change_seq (see schedule.py)."""

    __tablename__ = "appointments"
    __table_args__ = (
        Index("ix_appointments_site_id_change_seq", "site_id", "change_seq"),
        Index("ix_appointments_site_id_day", "site_id", "day"),
        Index("ix_appointments_patient_id_day", "patient_id", "day"),
        Index("ix_appointments_clinician_id_day", "clinician_id", "day"),
    )

    id: Mapped[str] = mapped_column(String(UUID_LEN), primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"))
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"))
    clinician_id: Mapped[str] = mapped_column(ForeignKey("clinicians.id"))
    start: Mapped[datetime] = mapped_column(DateTime)  # naive local clinic time
    day: Mapped[date] = mapped_column(Date)  # == start.date()
    visit_type: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))  # booked, arrived, seen, cancelled
    arrived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    change_seq: Mapped[int] = mapped_column(BigInteger)
    # When the change was made (the database's transaction time on PostgreSQL).
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Counter(Base):
    """Named counters (SQLite's schedule change numbers)."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


class EnrolmentToken(Base):
    """Single-use, expiring. Only the SHA-256 of the token is kept."""

    __tablename__ = "enrolment_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    device_id: Mapped[str | None] = mapped_column(String(UUID_LEN))


class Device(Base):
    __tablename__ = "devices"

    id: Mapped[str] = mapped_column(String(UUID_LEN), primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), index=True)
    public_key: Mapped[str] = mapped_column(String(64))  # base64 of 32 raw Ed25519 bytes
    hostname: Mapped[str] = mapped_column(String(253))
    version: Mapped[str | None] = mapped_column(String(64))
    enrolled_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(Text)


class DeviceStatus(Base):
    """The last heartbeat of each kiosk (the fleet view)."""

    __tablename__ = "device_status"

    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id"), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[str | None] = mapped_column(String(64))
    backlog: Mapped[int | None] = mapped_column(Integer)
    oldest_unsent_age_seconds: Mapped[float | None] = mapped_column(Float)
    kiosk_clock: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disk_free_bytes: Mapped[int | None] = mapped_column(BigInteger)
    dead_letters: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)


class Nonce(Base):
    """Signature nonces seen; the primary key makes a replay fail in any worker."""

    __tablename__ = "nonces"
    __table_args__ = (PrimaryKeyConstraint("device_id", "nonce", name="pk_nonces"),)

    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id"))
    nonce: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)  # the signature's


class Event(Base):
    """Every event a kiosk pushed, once per (device, event id), forever."""

    __tablename__ = "events"
    __table_args__ = (
        PrimaryKeyConstraint("device_id", "event_id", name="pk_events"),
        Index("ix_events_type_received_at", "type", "received_at"),
    )

    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id"))
    event_id: Mapped[str] = mapped_column(String(UUID_LEN))  # canonical lower-case UUID
    type: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # kiosk clock
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    session_id: Mapped[str | None] = mapped_column(String(UUID_LEN))
    status: Mapped[str] = mapped_column(String(16))  # accepted or rejected
    reason: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[str] = mapped_column(Text)  # canonical JSON


class AuditEntry(Base):
    """Refused requests, enrolments and IT actions. Ids and codes only, never a body."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    action: Mapped[str] = mapped_column(String(64))  # e.g. request.refused, device.enrolled
    code: Mapped[str | None] = mapped_column(String(64))  # e.g. replayed, revoked
    device_id: Mapped[str | None] = mapped_column(String(64), index=True)  # as claimed
    site_id: Mapped[str | None] = mapped_column(String(UUID_LEN))
    path: Mapped[str | None] = mapped_column(String(200))
    client_address: Mapped[str | None] = mapped_column(String(100))
