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
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    Sequence,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql import false

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
    # The language of the patient's reminders (practice_server/locales has en and es).
    language: Mapped[str] = mapped_column(String(35), default="en", server_default="en")
    # The patient already has a patient-portal account (the kiosk then offers no invitation).
    portal_account: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
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
    # Staff marked the patient roomed on the dashboard (status becomes "seen": the kiosks'
    # word for "no longer waiting", so queue positions move up).
    roomed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    copay_cents: Mapped[int | None] = mapped_column(Integer)  # from the practice's schedule; None = unknown
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
        Index("ix_events_status_received_at", "status", "received_at"),  # the dead letters
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
    # A rejected event (a dead letter) a staff member dealt with on the dashboard.
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by: Mapped[str | None] = mapped_column(String(UUID_LEN))  # staff account id
    resolution_note: Mapped[str | None] = mapped_column(Text)


class AuditEntry(Base):
    """Refused requests, enrolments, IT actions, staff sign-ins and every staff view of
    patient data. Ids and codes only, never a body."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    action: Mapped[str] = mapped_column(String(64))  # e.g. request.refused, device.enrolled
    code: Mapped[str | None] = mapped_column(String(64))  # e.g. replayed, revoked
    device_id: Mapped[str | None] = mapped_column(String(64), index=True)  # as claimed
    site_id: Mapped[str | None] = mapped_column(String(UUID_LEN))
    path: Mapped[str | None] = mapped_column(String(200))
    client_address: Mapped[str | None] = mapped_column(String(100))
    staff_user: Mapped[str | None] = mapped_column(String(UUID_LEN), index=True)  # dashboard staff account id
    patient_id: Mapped[str | None] = mapped_column(String(UUID_LEN), index=True)  # whose data was viewed
    fhir_client: Mapped[str | None] = mapped_column(String(64))  # the EHR client that read (fhir_api.py)


# -- what patients do at the kiosk (event effects; see the event type modules) ---------------


class FormResponse(Base):
    """A questionnaire answered at the kiosk (form.response). FHIR: fhir_resources.py."""

    __tablename__ = "form_responses"
    __table_args__ = (
        UniqueConstraint("device_id", "event_id", name="uq_form_responses_device_id_event_id"),
        Index("ix_form_responses_patient_id_questionnaire_url", "patient_id", "questionnaire_url"),
        Index("ix_form_responses_site_id_day", "site_id", "day"),
    )

    id: Mapped[str] = mapped_column(String(UUID_LEN), primary_key=True)  # the FHIR id
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"))
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id"))
    event_id: Mapped[str] = mapped_column(String(UUID_LEN))
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"))
    appointment_id: Mapped[str] = mapped_column(ForeignKey("appointments.id"))
    questionnaire_url: Mapped[str] = mapped_column(String(500))
    questionnaire_version: Mapped[str | None] = mapped_column(String(64))
    questionnaire_title: Mapped[str | None] = mapped_column(String(300))
    codes: Mapped[str] = mapped_column(Text)  # canonical JSON [{"system", "code"}]
    status: Mapped[str] = mapped_column(String(16))  # completed or in-progress
    language: Mapped[str] = mapped_column(String(35))
    authored: Mapped[datetime] = mapped_column(UTCDateTime)
    day: Mapped[date] = mapped_column(Date)  # authored, in the site's time zone
    items: Mapped[str] = mapped_column(Text)  # canonical JSON: QuestionnaireResponse.item as sent
    score_total: Mapped[float | None] = mapped_column(Float)
    score_band: Mapped[str | None] = mapped_column(String(64))
    flags: Mapped[str] = mapped_column(Text)  # canonical JSON list of flag names
    urgent: Mapped[bool] = mapped_column(Boolean)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Alert(Base):
    """Something staff must see now (alert.raised), e.g. an urgent answer. The kiosk
    sends it before the form response it belongs to."""

    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_site_id_acknowledged_at", "site_id", "acknowledged_at"),)

    id: Mapped[str] = mapped_column(String(UUID_LEN), primary_key=True)  # made by the kiosk
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"))
    kind: Mapped[str] = mapped_column(String(32))  # urgent_answer, needs_help, payment_problem
    priority: Mapped[str] = mapped_column(String(16))  # high or normal
    # None for "needs help at kiosk N": nobody was identified.
    patient_id: Mapped[str | None] = mapped_column(ForeignKey("patients.id"))
    appointment_id: Mapped[str | None] = mapped_column(ForeignKey("appointments.id"))
    device_id: Mapped[str | None] = mapped_column(ForeignKey("devices.id"))  # the kiosk it came from
    detail: Mapped[str] = mapped_column(Text)  # canonical JSON, per kind (alerts.py)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime)  # kiosk clock
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The same open alert raised again (another failed try at the same kiosk) counts up.
    occurrences: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    last_raised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(String(200))


class VisitPayment(Base):
    """Where a visit's copay stands after the kiosk (payment.recorded / payment.deferred):
    paid, deferred (pay at the desk) or problem (declined, timed out, failed). The latest
    payment event by the kiosk's time wins; the events themselves stay in `events`."""

    __tablename__ = "visit_payments"

    appointment_id: Mapped[str] = mapped_column(ForeignKey("appointments.id"), primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"))
    state: Mapped[str] = mapped_column(String(16))
    amount_cents: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime)  # of the event that set `state`
    day: Mapped[date] = mapped_column(Date)  # the appointment's day (copay collected per day)


class ConsentDocument(Base):
    """Every consent document version (per language) the practice ever published or
    served: a signature is accepted only for a text registered here."""

    __tablename__ = "consent_documents"
    __table_args__ = (PrimaryKeyConstraint("id", "version", "language", name="pk_consent_documents"),)

    id: Mapped[str] = mapped_column(String(64))  # e.g. hipaa-notice
    version: Mapped[str] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(35))
    kind: Mapped[str] = mapped_column(String(16))  # privacy, financial or treatment
    title: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)  # exactly as shown: sync_protocol.consent_hash.consent_text
    sha256: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PatientConsent(Base):
    """A consent signed at the kiosk (consent.signed) or left for the front desk
    (consent.deferred). Signed ones are FHIR Consents (fhir_resources.py)."""

    __tablename__ = "patient_consents"
    __table_args__ = (
        UniqueConstraint("device_id", "event_id", name="uq_patient_consents_device_id_event_id"),
        Index("ix_patient_consents_patient_id_document_id", "patient_id", "document_id"),
    )

    id: Mapped[str] = mapped_column(String(UUID_LEN), primary_key=True)  # the FHIR id
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"))
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id"))
    event_id: Mapped[str] = mapped_column(String(UUID_LEN))
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"))
    appointment_id: Mapped[str] = mapped_column(ForeignKey("appointments.id"))
    document_id: Mapped[str] = mapped_column(String(64))
    document_version: Mapped[str] = mapped_column(String(40))
    document_language: Mapped[str] = mapped_column(String(35))
    document_sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # signed or deferred
    deferred_reason: Mapped[str | None] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime)  # signed_at, or the event's time
    day: Mapped[date] = mapped_column(Date)  # `at` in the site's time zone
    signature_png: Mapped[bytes | None] = mapped_column(LargeBinary)
    signature_strokes: Mapped[int | None] = mapped_column(Integer)
    signature_points: Mapped[int | None] = mapped_column(Integer)
    signature_width: Mapped[int | None] = mapped_column(Integer)
    signature_height: Mapped[int | None] = mapped_column(Integer)
    # The pen strokes as the kiosk recorded them (kiosk/signature.py JSON), when it sent them.
    signature_stroke_data: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)


class InsuranceCard(Base):
    """A card side photographed at the kiosk (FHIR DocumentReference, fhir_resources.py),
    or the patient's answer that there is no card to take (status skipped)."""

    __tablename__ = "insurance_cards"
    __table_args__ = (
        UniqueConstraint("device_id", "event_id", name="uq_insurance_cards_device_id_event_id"),
        Index("ix_insurance_cards_patient_id_side", "patient_id", "side"),
    )

    id: Mapped[str] = mapped_column(String(UUID_LEN), primary_key=True)  # the FHIR id
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"))
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id"))
    event_id: Mapped[str] = mapped_column(String(UUID_LEN))
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"))
    appointment_id: Mapped[str] = mapped_column(ForeignKey("appointments.id"))
    # current (the newest image of this side), superseded (a newer one came), skipped
    status: Mapped[str] = mapped_column(String(16))
    side: Mapped[str | None] = mapped_column(String(8))  # front or back
    skipped_reason: Mapped[str | None] = mapped_column(String(32))  # no_card or declined
    image_jpeg: Mapped[bytes | None] = mapped_column(LargeBinary)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    capture: Mapped[str | None] = mapped_column(String(8))  # auto or manual
    sharpness: Mapped[float | None] = mapped_column(Float)
    at: Mapped[datetime] = mapped_column(UTCDateTime)  # captured_at, or the event's time
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StepEvent(Base):
    """One step of the kiosk journey started, completed, backed out of or abandoned
    (step.event): drop-off analytics, no PHI. `day` is the site's local date."""

    __tablename__ = "step_events"
    __table_args__ = (
        PrimaryKeyConstraint("device_id", "event_id", name="pk_step_events"),
        Index("ix_step_events_site_id_day", "site_id", "day"),
    )

    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id"))
    event_id: Mapped[str] = mapped_column(String(UUID_LEN))
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"))
    session_id: Mapped[str | None] = mapped_column(String(UUID_LEN))
    step: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))  # started, completed, backed_out, abandoned
    seconds: Mapped[float] = mapped_column(Float)
    language: Mapped[str] = mapped_column(String(35))
    age_band: Mapped[str | None] = mapped_column(String(8))
    visit_type: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)  # kiosk clock
    day: Mapped[date] = mapped_column(Date)


class KioskVisit(Base):
    """One patient's use of a kiosk (a session), rolled up from its step events as they
    arrive (step_events.apply), so analytics over a year read one row per visit instead
    of every step. No PHI."""

    __tablename__ = "kiosk_visits"
    __table_args__ = (Index("ix_kiosk_visits_site_id_day", "site_id", "day"),)

    session_id: Mapped[str] = mapped_column(String(UUID_LEN), primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"))
    day: Mapped[date] = mapped_column(Date)  # the first step's site-local day
    language: Mapped[str] = mapped_column(String(35))  # the latest step's (a patient may switch)
    age_band: Mapped[str | None] = mapped_column(String(8))
    visit_type: Mapped[str | None] = mapped_column(String(32))
    checked_in: Mapped[bool] = mapped_column(Boolean)  # reached "You are checked in"
    seconds: Mapped[float] = mapped_column(Float)  # time in the stages before it, summed


class SatisfactionRating(Base):
    """The one-tap rating at the end of check-in (visit.rated; satisfaction.py). No PHI."""

    __tablename__ = "satisfaction_ratings"
    __table_args__ = (
        PrimaryKeyConstraint("device_id", "event_id", name="pk_satisfaction_ratings"),
        Index("ix_satisfaction_ratings_site_id_day", "site_id", "day"),
    )

    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id"))
    event_id: Mapped[str] = mapped_column(String(UUID_LEN))
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"))
    session_id: Mapped[str | None] = mapped_column(String(UUID_LEN))
    rating: Mapped[int] = mapped_column(Integer)  # 1 hard, 2 okay, 3 easy
    language: Mapped[str] = mapped_column(String(35))
    age_band: Mapped[str | None] = mapped_column(String(8))
    visit_type: Mapped[str | None] = mapped_column(String(32))
    rated_at: Mapped[datetime] = mapped_column(UTCDateTime)  # kiosk clock
    day: Mapped[date] = mapped_column(Date)  # the site's local date


# -- check-in codes and appointment reminders (practice_keys.py, reminders.py) -----------------


class CheckinKey(Base):
    """A public key of the practice's check-in signing keys; the private half is in a
    0600 file on the host that signs (practice_keys.py), never in the database.
    Published to kiosks while it may sign (not retired) or a code it signed may still be
    valid (signed_until in the future), and never after it was revoked."""

    __tablename__ = "checkin_keys"

    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    public_key: Mapped[str] = mapped_column(String(64))  # base64 of 32 raw Ed25519 bytes
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # a newer key signs since
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # never trusted again
    signed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)  # latest expiry it signed


class Reminder(Base):
    """The e-mail reminder of one appointment: claimed (sending), sent or failed (tried
    again by the next run). One row per appointment, so no reminder goes out twice."""

    __tablename__ = "reminders"

    appointment_id: Mapped[str] = mapped_column(ForeignKey("appointments.id"), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))  # sending, sent or failed
    token_id: Mapped[str | None] = mapped_column(String(16))  # of the check-in code it carries
    attempts: Mapped[int] = mapped_column(Integer)
    last_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)  # error class and SMTP code: no addresses
