"""The Store facade: the only way the kiosk and the sync agent touch the database.

Every write is one transaction; an event describing a state change goes to the
outbox in the same transaction as the change, so neither exists without the other.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, and_, case, delete, exists, func, or_, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import audit as audit_log
from . import models as m
from . import outbox
from .cipher import FieldCipher, normalise_name
from .database import current_revision, writer
from .errors import StoreError
from .records import (
    CONTACT_FIELDS,
    AppointmentMatch,
    AppointmentRecord,
    CheckInResult,
    ClinicianRecord,
    Contact,
    DeadLetter,
    FormDraft,
    HistoryEntry,
    KioskStatus,
    NewEvent,
    PatientRecord,
    PaymentRecord,
)

log = logging.getLogger(__name__)

# Appointment states. The kiosk only moves booked -> arrived; the rest come from
# the practice through the schedule sync.
BOOKED, ARRIVED, SEEN, CANCELLED = "booked", "arrived", "seen", "cancelled"
APPOINTMENT_STATUSES = (BOOKED, ARRIVED, SEEN, CANCELLED)

EVENT_ARRIVED = "appointment.arrived"
EVENT_CONTACT_CHANGED = "patient.contact_changed"

MINUTES_PER_VISIT_SETTING = "checkin.minutes_per_visit"
DEFAULT_MINUTES_PER_VISIT = 15
LAST_SYNC_SETTING = "sync.last_sync"  # ISO 8601 UTC; mark_sent and record_sync keep it current
SCHEDULE_CURSOR_SETTING = "sync.schedule_cursor"  # the server's opaque cursor, saved with its page
BUNDLE_SETTING = "bundle.{kind}"  # the bundle's JSON body as the server sent it
BUNDLE_ETAG_SETTING = "bundle.{kind}.etag"
BUNDLE_KINDS = ("config", "forms", "consents", "content")
PAYMENT_STARTED = "started"
RESERVED_SETTING_PREFIX = "_store."  # the store's own bookkeeping, not settable
_KEY_CHECK_SETTING = "_store.key_check"
_KEY_CHECK_PLAIN = "clinic-kiosk key check v1"


def _aad(table: str, column: str) -> bytes:
    return f"{table}.{column}".encode()


def _utc(now: datetime) -> datetime:
    if now.tzinfo is None:
        raise ValueError("now must be a timezone-aware datetime")
    return now.astimezone(UTC)


class Store:
    """Use open_store() to get one; it sets up keys, pragmas and the schema."""

    def __init__(self, engine: Engine, cipher: FieldCipher, db_path: Path) -> None:
        self._engine = engine
        self._writer = writer(engine)
        self._cipher = cipher
        self._db_path = db_path

    # -- plumbing -------------------------------------------------------------

    @contextmanager
    def _read(self) -> Iterator[Session]:
        with Session(self._engine, expire_on_commit=False) as s, s.begin():
            yield s

    @contextmanager
    def _write(self) -> Iterator[Session]:
        """One write transaction holding SQLite's write lock from its first statement."""
        with Session(self._writer, expire_on_commit=False) as s, s.begin():
            yield s

    def _enc(self, table: str, column: str, value: str) -> bytes:
        return self._cipher.encrypt(value, _aad(table, column))

    def _dec(self, table: str, column: str, blob: bytes) -> str:
        return self._cipher.decrypt(blob, _aad(table, column))

    def _check_key(self) -> None:
        """Fail early, at open, if the key file is not the one this database was made with."""
        aad = _aad("settings", _KEY_CHECK_SETTING)
        with self._write() as s:
            row = s.get(m.Setting, _KEY_CHECK_SETTING)
            if row is None:
                blob = self._cipher.encrypt(_KEY_CHECK_PLAIN, aad)
                s.add(
                    m.Setting(
                        key=_KEY_CHECK_SETTING,
                        value=base64.b64encode(blob).decode(),
                        updated_at=datetime.now(UTC),
                    )
                )
                return
        if self._cipher.decrypt(base64.b64decode(row.value), aad) != _KEY_CHECK_PLAIN:
            raise StoreError("the data key does not match this database")

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- identification -------------------------------------------------------

    def find_appointments(self, last_name: str, birth_date: date, day: date) -> list[AppointmentMatch]:
        """Appointments on `day` of every patient with this last name and birth date.

        Seen appointments are reported as "arrived" (the patient did arrive);
        cancelled ones are left out.
        """
        if not normalise_name(last_name):
            return []
        index = self._cipher.identity_index(last_name, birth_date)
        a, p = m.Appointment, m.Patient
        query = (
            select(
                a.id, a.patient_id, p.first_name, p.last_name, a.start, a.clinician_id,
                m.Clinician.display_name, a.visit_type, a.status, a.copay_cents, p.portal_account,
            )
            .join(p, a.patient_id == p.id)
            .join(m.Clinician, a.clinician_id == m.Clinician.id)
            .where(
                # Written as IN (subquery) so SQLite starts from the blind index even
                # without statistics; a plain join made it scan the whole day.
                a.patient_id.in_(select(p.id).where(p.identity_index == index)),
                a.day == day,
                a.status.in_((BOOKED, ARRIVED, SEEN)),
            )
            .order_by(a.start, a.id)
        )
        with self._read() as s:
            rows = s.execute(query).all()
        return [
            AppointmentMatch(
                appointment_id=r.id,
                patient_id=r.patient_id,
                first_name=self._dec("patients", "first_name", r.first_name),
                last_name=self._dec("patients", "last_name", r.last_name),
                start=r.start,
                clinician_id=r.clinician_id,
                clinician_name=r.display_name,
                visit_type=r.visit_type,
                status=BOOKED if r.status == BOOKED else ARRIVED,
                copay_cents=r.copay_cents,
                portal_account=bool(r.portal_account),
            )
            for r in rows
        ]

    def appointment_by_id(self, appointment_id: str) -> tuple[AppointmentMatch, date, date] | None:
        """The appointment a check-in QR code names, with its patient's birth date (the
        kiosk asks for it to confirm) and its day; None if unknown or cancelled."""
        a, p = m.Appointment, m.Patient
        query = (
            select(
                a.id, a.patient_id, p.first_name, p.last_name, a.start, a.clinician_id,
                m.Clinician.display_name, a.visit_type, a.status, a.copay_cents, p.portal_account,
                p.birth_date, a.day,
            )
            .join(p, a.patient_id == p.id)
            .join(m.Clinician, a.clinician_id == m.Clinician.id)
            .where(a.id == appointment_id, a.status.in_((BOOKED, ARRIVED, SEEN)))
        )
        with self._read() as s:
            r = s.execute(query).first()
        if r is None:
            return None
        match = AppointmentMatch(
            appointment_id=r.id, patient_id=r.patient_id,
            first_name=self._dec("patients", "first_name", r.first_name),
            last_name=self._dec("patients", "last_name", r.last_name),
            start=r.start, clinician_id=r.clinician_id, clinician_name=r.display_name,
            visit_type=r.visit_type, status=BOOKED if r.status == BOOKED else ARRIVED,
            copay_cents=r.copay_cents, portal_account=bool(r.portal_account),
        )
        return match, date.fromisoformat(self._dec("patients", "birth_date", r.birth_date)), r.day

    def patients_with_identity(self, last_name: str, birth_date: date) -> int:
        if not normalise_name(last_name):
            return 0
        index = self._cipher.identity_index(last_name, birth_date)
        with self._read() as s:
            return s.scalar(select(func.count()).where(m.Patient.identity_index == index)) or 0

    # -- check-in and contact --------------------------------------------------

    def check_in(self, appointment_id: str, session_id: str, now: datetime) -> CheckInResult:
        now = _utc(now)
        with self._write() as s:
            appt = s.get(m.Appointment, appointment_id)
            if appt is None:
                raise StoreError(f"unknown appointment {appointment_id}")
            if appt.status == CANCELLED:
                raise StoreError(f"appointment {appointment_id} is cancelled")
            already = appt.status != BOOKED
            if not already:
                appt.status = ARRIVED
                appt.arrived_at = now
                outbox.add_event(
                    s,
                    self._cipher,
                    EVENT_ARRIVED,
                    {
                        "appointment_id": appt.id,
                        "patient_id": appt.patient_id,
                        "clinician_id": appt.clinician_id,
                        "arrived_at": now,
                    },
                    session_id,
                    now,
                )
                s.flush()
            position = 0 if appt.status == SEEN else self._queue_position(s, appt, fresh=not already)
            minutes = self._minutes_per_visit(s)
            arrived_at = appt.arrived_at or now
        return CheckInResult(
            already=already,
            queue_position=position,
            expected_wait_minutes=max(position - 1, 0) * minutes,
            arrived_at=arrived_at,
        )

    @staticmethod
    def _queue_position(s: Session, appt: m.Appointment, fresh: bool) -> int:
        """1 + patients waiting for the same clinician that day who arrived earlier.

        For a fresh arrival everyone already waiting came first: counting them
        (this row included) follows commit order, so racing check-ins still get
        distinct places even if their clocks disagree. A repeat asks by arrival time.
        """
        a = m.Appointment
        waiting = select(func.count()).where(
            a.clinician_id == appt.clinician_id, a.day == appt.day, a.status == ARRIVED
        )
        if fresh:
            return s.scalar(waiting) or 1
        earlier = or_(
            a.arrived_at < appt.arrived_at,
            and_(a.arrived_at == appt.arrived_at, a.id < appt.id),
        )
        return (s.scalar(waiting.where(earlier)) or 0) + 1

    @staticmethod
    def _minutes_per_visit(s: Session) -> int:
        row = s.get(m.Setting, MINUTES_PER_VISIT_SETTING)
        try:
            return int(row.value) if row else DEFAULT_MINUTES_PER_VISIT
        except ValueError:
            log.warning("setting %s is not a number; using the default", MINUTES_PER_VISIT_SETTING)
            return DEFAULT_MINUTES_PER_VISIT

    def get_contact(self, patient_id: str) -> Contact:
        with self._read() as s:
            p = s.get(m.Patient, patient_id)
            if p is None:
                raise StoreError(f"unknown patient {patient_id}")
            return Contact(**{f: self._dec("patients", f, getattr(p, f)) for f in CONTACT_FIELDS})

    def update_contact(
        self, patient_id: str, changes: dict[str, str], session_id: str, now: datetime
    ) -> None:
        """Store the new values; the event carries only the fields that really changed."""
        now = _utc(now)
        unknown = set(changes) - set(CONTACT_FIELDS)
        if unknown:
            raise ValueError(f"not contact fields: {sorted(unknown)}")
        if not all(isinstance(v, str) for v in changes.values()):
            raise TypeError("contact values must be str")
        with self._write() as s:
            p = s.get(m.Patient, patient_id)
            if p is None:
                raise StoreError(f"unknown patient {patient_id}")
            changed = {
                f: v for f, v in changes.items() if self._dec("patients", f, getattr(p, f)) != v
            }
            if not changed:
                return
            for f, v in changed.items():
                setattr(p, f, self._enc("patients", f, v))
            p.updated_at = now
            outbox.add_event(
                s,
                self._cipher,
                EVENT_CONTACT_CHANGED,
                {"patient_id": patient_id, "changes": changed},
                session_id,
                now,
            )

    # -- events and outbox ------------------------------------------------------

    def record_event(
        self,
        event_type: str,
        payload: dict[str, Any],
        session_id: str | None,
        now: datetime,
        priority: int = outbox.NORMAL_PRIORITY,
    ) -> str:
        """An event with no local state change (identify.failed, step.event ...)."""
        now = _utc(now)
        with self._write() as s:
            return outbox.add_event(s, self._cipher, event_type, payload, session_id, now, priority)

    def record_events(
        self,
        events: Iterable[NewEvent],
        session_id: str | None,
        now: datetime,
        *,
        history: HistoryEntry | None = None,
        close_draft: str | None = None,
        save_draft: tuple[str, dict[str, Any]] | None = None,
    ) -> list[str]:
        """Several events, the patient's history entry and a form draft saved (draft id,
        body) or closed, in ONE transaction: an answer and the alert it raised, or a
        finished form, its response and "done this year", exist together or not at all."""
        now = _utc(now)
        draft_blob = None
        if save_draft is not None:
            draft_blob = self._enc("form_drafts", "body", json.dumps(save_draft[1], sort_keys=True, separators=(",", ":")))
        with self._write() as s:
            if save_draft is not None:
                self._put_draft(s, save_draft[0], session_id or "", draft_blob, now)
            ids = [
                outbox.add_event(s, self._cipher, e.event_type, e.payload, session_id, now, e.priority)
                for e in events
            ]
            if history is not None:
                self._add_local_history(s, history)
            if close_draft is not None:
                # The event now carries the answers: the draft's copy of the PHI goes.
                gone = s.execute(delete(m.FormDraft).where(m.FormDraft.id == close_draft))
                if gone.rowcount != 1:
                    # Closed twice (a double tap, a retry after a crash): the first one stands.
                    raise StoreError(f"form draft {close_draft} is not open")
            return ids

    # -- payments -------------------------------------------------------------------

    def start_payment(self, payment_id: str, appointment_id: str, session_id: str, amount_cents: int,
                      now: datetime) -> None:
        """Written before the terminal is asked: a crash after its approval is then found."""
        now = _utc(now)
        with self._write() as s:
            s.add(m.Payment(id=payment_id, appointment_id=appointment_id, session_id=session_id,
                            amount_cents=amount_cents, state=PAYMENT_STARTED, created_at=now, updated_at=now))

    def finish_payment(self, payment_id: str, state: str, result: dict[str, Any] | None,
                       events: Iterable[NewEvent], now: datetime) -> bool:
        """The terminal's answer and its events, in one transaction. False (and nothing
        written) if the payment was already settled: a retry never records it twice."""
        now = _utc(now)
        if state == PAYMENT_STARTED:
            raise ValueError("a payment is finished with the terminal's answer, not 'started'")
        with self._write() as s:
            row = s.get(m.Payment, payment_id)
            if row is None:
                raise StoreError(f"unknown payment {payment_id}")
            if row.state != PAYMENT_STARTED:
                return False
            row.state, row.updated_at = state, now
            if result is not None:
                row.result = self._enc("payments", "result", json.dumps(result, sort_keys=True))
            for e in events:
                outbox.add_event(s, self._cipher, e.event_type, e.payload, row.session_id, now, e.priority)
            return True

    def payments(self, *, appointment_id: str | None = None, state: str | None = None) -> list[PaymentRecord]:
        """Payments, oldest first; e.g. state="started" at start-up (to reconcile)."""
        query = select(m.Payment).order_by(m.Payment.created_at, m.Payment.id)
        if appointment_id is not None:
            query = query.where(m.Payment.appointment_id == appointment_id)
        if state is not None:
            query = query.where(m.Payment.state == state)
        with self._read() as s:
            return [
                PaymentRecord(r.id, r.appointment_id, r.session_id, r.amount_cents, r.state,
                              json.loads(self._dec("payments", "result", r.result)) if r.result else None)
                for r in s.scalars(query)
            ]

    # -- form drafts and patient history ------------------------------------------

    def save_draft(self, draft_id: str, session_id: str, body: dict[str, Any], now: datetime) -> None:
        """Create or replace a draft (called after every confirmed answer). A draft exists
        only while its form is open: closing it (record_events) deletes it."""
        now = _utc(now)
        blob = self._enc("form_drafts", "body", json.dumps(body, sort_keys=True, separators=(",", ":")))
        with self._write() as s:
            self._put_draft(s, draft_id, session_id, blob, now)

    @staticmethod
    def _put_draft(s: Session, draft_id: str, session_id: str, blob: bytes, now: datetime) -> None:
        draft = s.get(m.FormDraft, draft_id)
        if draft is None:
            s.add(m.FormDraft(id=draft_id, session_id=session_id, body=blob, created_at=now, updated_at=now))
        else:
            draft.body, draft.updated_at = blob, now

    def open_drafts(self, session_id: str | None = None) -> list[FormDraft]:
        """Open drafts, oldest first; of one visit, or of every visit if session_id is None."""
        d = m.FormDraft
        query = select(d).order_by(d.created_at, d.id)
        if session_id is not None:
            query = query.where(d.session_id == session_id)
        with self._read() as s:
            rows = s.scalars(query).all()
            return [
                FormDraft(r.id, r.session_id, json.loads(self._dec("form_drafts", "body", r.body)), r.updated_at)
                for r in rows
            ]

    def patient_history(self, patient_id: str) -> dict[str, date]:
        """When the patient last completed each form / signed each consent version: the
        practice's record and this kiosk's, whichever is later."""
        with self._read() as s:
            p = s.get(m.Patient, patient_id)
            if p is None:
                raise StoreError(f"unknown patient {patient_id}")
            merged: dict[str, date] = {}
            for column in ("history", "local_history"):
                for key, day in self._history(p, column).items():
                    if key not in merged or day > merged[key]:
                        merged[key] = day
            return merged

    def _history(self, p: m.Patient, column: str) -> dict[str, date]:
        blob = getattr(p, column)
        if blob is None:
            return {}
        out = {}
        for key, value in json.loads(self._dec("patients", column, blob)).items():
            try:
                out[key] = date.fromisoformat(value)
            except (TypeError, ValueError):
                log.warning("patient history entry with a bad date ignored")
        return out

    def _add_local_history(self, s: Session, entry: HistoryEntry) -> None:
        p = s.get(m.Patient, entry.patient_id)
        if p is None:
            raise StoreError(f"unknown patient {entry.patient_id}")
        local = {k: v.isoformat() for k, v in self._history(p, "local_history").items()}
        local[entry.key] = entry.day.isoformat()
        p.local_history = self._enc("patients", "local_history", json.dumps(local, sort_keys=True))

    def outbox_pending(self, limit: int = 100, exclude: Iterable[str] = ()) -> list[outbox.OutboxEvent]:
        """The oldest pending events; `exclude`: ids to leave out (a batch still in flight)."""
        with self._read() as s:
            return outbox.pending(s, self._cipher, limit, exclude)

    def mark_sent(self, ids: Iterable[str]) -> int:
        """Server accepted (or already had) these events. Returns rows changed."""
        ids = list(ids)
        if not ids:
            return 0
        now = datetime.now(UTC)
        with self._write() as s:
            count = outbox.mark_sent(s, ids, now)
            # One upsert statement (the ORM's merge is a SELECT, then an UPDATE).
            row = {"key": LAST_SYNC_SETTING, "value": now.isoformat(), "updated_at": now}
            upsert = sqlite_insert(m.Setting).values(row)
            s.execute(upsert.on_conflict_do_update(
                index_elements=[m.Setting.key],
                set_={"value": upsert.excluded.value, "updated_at": upsert.excluded.updated_at},
            ))
        return count

    def mark_failed(self, ids: Iterable[str], error: str) -> int:
        """A push that got no usable answer: events stay pending, attempts + 1."""
        with self._write() as s:
            return outbox.mark_failed(s, ids, error)

    def mark_dead(self, event_id: str, reason: str) -> bool:
        """Server rejected the event: keep it, out of the queue, for staff to see.

        Moves the outbox row to "dead" (its encrypted payload stays) and writes its
        dead letter in one transaction. False if the event is not pending (unknown,
        sent, or dead already). `reason` is the server's code/text and must not contain PHI.
        """
        now = datetime.now(UTC)
        with self._write() as s:
            return outbox.mark_dead(s, event_id, reason, now)

    def dead_letters(self, limit: int = 50) -> list[DeadLetter]:
        """The events the server rejected, newest first (no payloads)."""
        with self._read() as s:
            return outbox.dead_letters(s, limit)

    # -- sync bookkeeping ----------------------------------------------------------

    def record_sync(self, now: datetime) -> None:
        """A complete sync with the server ended at `now` (what status().last_sync shows)."""
        now = _utc(now)
        with self._write() as s:
            s.merge(m.Setting(key=LAST_SYNC_SETTING, value=now.isoformat(), updated_at=now))

    def schedule_cursor(self) -> str:
        """Where the next schedule pull starts ("" before the first one)."""
        return self.get_setting(SCHEDULE_CURSOR_SETTING, "") or ""

    def bundle(self, kind: str) -> tuple[dict[str, Any], str] | None:
        """The last bundle of `kind` saved from the server and its ETag, or None."""
        self._check_kind(kind)
        with self._read() as s:
            body = s.get(m.Setting, BUNDLE_SETTING.format(kind=kind))
            etag = s.get(m.Setting, BUNDLE_ETAG_SETTING.format(kind=kind))
        if body is None:
            return None
        try:
            value = json.loads(body.value)
        except ValueError:
            log.warning("setting %s is not JSON; ignoring it", BUNDLE_SETTING.format(kind=kind))
            return None
        return value, etag.value if etag else ""

    def bundle_etag(self, kind: str) -> str | None:
        """The ETag to send as If-None-Match (None: nothing saved yet)."""
        saved = self.bundle(kind)
        return saved[1] or None if saved else None

    def save_bundle(self, kind: str, body: dict[str, Any], etag: str) -> None:
        """Keep a bundle from the server with its ETag, in one transaction.

        For the config bundle, its minutes_per_visit also becomes the check-in
        setting (same transaction, so the two never disagree after a crash).
        """
        self._check_kind(kind)
        if not isinstance(body, dict):
            raise TypeError("a bundle body is a JSON object")
        if not isinstance(etag, str):
            raise TypeError("etag is a str")
        minutes = None
        if kind == "config":
            items = body.get("items")
            value = items.get("minutes_per_visit") if isinstance(items, dict) else None
            if value is not None:
                if type(value) is not int or not 1 <= value <= 480:
                    raise ValueError("config bundle: minutes_per_visit must be a whole number 1..480")
                minutes = value
        text = json.dumps(body, sort_keys=True, separators=(",", ":"))
        now = datetime.now(UTC)
        with self._write() as s:
            s.merge(m.Setting(key=BUNDLE_SETTING.format(kind=kind), value=text, updated_at=now))
            s.merge(m.Setting(key=BUNDLE_ETAG_SETTING.format(kind=kind), value=etag, updated_at=now))
            if minutes is not None:
                s.merge(m.Setting(key=MINUTES_PER_VISIT_SETTING, value=str(minutes), updated_at=now))

    @staticmethod
    def _check_kind(kind: str) -> None:
        if kind not in BUNDLE_KINDS:
            raise ValueError(f"unknown bundle kind {kind!r}; known: {', '.join(BUNDLE_KINDS)}")

    # -- kiosk state ------------------------------------------------------------

    def status(self) -> KioskStatus:
        db_bytes = sum(
            p.stat().st_size
            for p in (self._db_path, self._db_path.with_name(self._db_path.name + "-wal"))
            if p.exists()
        )
        with self._read() as s:
            pending, oldest = outbox.pending_summary(s)
            dead = outbox.dead_count(s)
            last = s.get(m.Setting, LAST_SYNC_SETTING)
        last_sync = None
        if last is not None:
            try:
                last_sync = _utc(datetime.fromisoformat(last.value))
            except ValueError:
                log.warning("setting %s is not an aware ISO time", LAST_SYNC_SETTING)
        return KioskStatus(
            db_bytes=db_bytes,
            outbox_pending=pending,
            outbox_oldest=oldest,
            last_sync=last_sync,
            schema_revision=current_revision(self._engine),
            dead_letters=dead,
        )

    def audit(self, actor: str, action: str, detail: dict[str, Any]) -> None:
        """Append to the hash-chained audit log. Ids and codes only, never PHI."""
        with self._write() as s:
            audit_log.append(s, actor, action, detail, datetime.now(UTC))

    def verify_audit(self) -> bool:
        with self._read() as s:
            return audit_log.verify(s)

    def get_setting(self, key: str, default: str | None = None) -> str | None:
        with self._read() as s:
            row = s.get(m.Setting, key)
            return row.value if row else default

    def set_setting(self, key: str, value: str) -> None:
        """Small plain-text kiosk state (never PHI)."""
        if key.startswith(RESERVED_SETTING_PREFIX):
            raise ValueError(f"setting keys starting with {RESERVED_SETTING_PREFIX!r} are reserved")
        if not isinstance(value, str):
            raise TypeError("setting values are str")
        with self._write() as s:
            s.merge(m.Setting(key=key, value=value, updated_at=datetime.now(UTC)))

    # -- schedule -----------------------------------------------------------------

    def import_schedule(
        self,
        clinicians: Iterable[ClinicianRecord] = (),
        patients: Iterable[PatientRecord] = (),
        appointments: Iterable[AppointmentRecord] = (),
    ) -> None:
        """Insert or update schedule data in one transaction (batched statements).

        A local arrival is never undone by an incoming "booked": the practice
        just has not received the arrival event yet.
        """
        with self._write() as s:
            self._import(s, list(clinicians), list(patients), list(appointments))

    def apply_schedule_page(
        self,
        clinicians: Iterable[ClinicianRecord],
        patients: Iterable[PatientRecord],
        appointments: Iterable[AppointmentRecord],
        cursor: str,
    ) -> None:
        """One page of the server's schedule and the cursor after it, in ONE transaction:
        a crash leaves either both or neither, never a cursor ahead of its data.

        Same upsert rules as import_schedule (an incoming "booked" never undoes a
        local arrival; "cancelled" is stored as is). Rows are encrypted before the
        write lock is taken, so the kiosk app waits as little as possible.
        """
        if not isinstance(cursor, str):
            raise TypeError("cursor is the server's opaque str")
        rows = self._import_rows(list(clinicians), list(patients), list(appointments))
        now = datetime.now(UTC)
        with self._write() as s:
            self._import_prepared(s, *rows)
            s.merge(m.Setting(key=SCHEDULE_CURSOR_SETTING, value=cursor, updated_at=now))

    def reset_schedule_cursor(self) -> None:
        """Start the next pull from the beginning (the server said the cursor is bad)."""
        self.set_setting(SCHEDULE_CURSOR_SETTING, "")

    def _import(
        self,
        s: Session,
        clinicians: list[ClinicianRecord],
        patients: list[PatientRecord],
        appointments: list[AppointmentRecord],
    ) -> None:
        self._import_prepared(s, *self._import_rows(clinicians, patients, appointments))

    def _import_rows(
        self,
        clinicians: list[ClinicianRecord],
        patients: list[PatientRecord],
        appointments: list[AppointmentRecord],
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
        """Encrypt and check the rows (no database needed)."""
        now = datetime.now(UTC)
        return (
            [{"id": c.id, "display_name": c.display_name} for c in clinicians],
            [self._patient_row(p, now) for p in patients],
            [self._appointment_row(a) for a in appointments],
        )

    def _import_prepared(
        self,
        s: Session,
        clinician_rows: list[dict[str, Any]],
        patient_rows: list[dict[str, Any]],
        appointment_rows: list[dict[str, Any]],
    ) -> None:
        if clinician_rows:
            stmt = sqlite_insert(m.Clinician)
            s.execute(
                stmt.on_conflict_do_update(
                    index_elements=[m.Clinician.id],
                    set_={"display_name": stmt.excluded.display_name},
                ),
                clinician_rows,
            )
        if patient_rows:
            stmt = sqlite_insert(m.Patient)
            # local_history is not overwritten: the practice may not have this kiosk's news yet.
            updated = (*m.PHI_COLUMNS, "history", "portal_account", "identity_index", "updated_at")
            s.execute(
                stmt.on_conflict_do_update(
                    index_elements=[m.Patient.id],
                    set_={c: stmt.excluded[c] for c in updated},
                ),
                patient_rows,
            )
        if appointment_rows:
            stmt = sqlite_insert(m.Appointment)
            a = m.Appointment
            # (no IN here: expanding parameters do not work with executemany)
            local_arrived = or_(a.status == ARRIVED, a.status == SEEN)
            keep_local = and_(stmt.excluded.status == BOOKED, local_arrived)
            set_ = {c: stmt.excluded[c] for c in ("patient_id", "clinician_id", "start", "day", "visit_type", "copay_cents")}
            set_["status"] = case((keep_local, a.status), else_=stmt.excluded.status)
            try:
                s.execute(stmt.on_conflict_do_update(index_elements=[a.id], set_=set_), appointment_rows)
            except IntegrityError:
                raise StoreError("schedule refers to an unknown patient or clinician id") from None

    def _patient_row(self, p: PatientRecord, now: datetime) -> dict[str, Any]:
        row: dict[str, Any] = {"id": p.id, "created_at": now, "updated_at": now}
        values = {f: getattr(p, f) for f in m.PHI_COLUMNS}
        values["birth_date"] = p.birth_date.isoformat()
        for f, v in values.items():
            row[f] = self._enc("patients", f, v)
        row["identity_index"] = self._cipher.identity_index(p.last_name, p.birth_date)
        row["history"] = self._enc("patients", "history", json.dumps(p.history, sort_keys=True)) if p.history else None
        row["portal_account"] = p.portal_account
        return row

    @staticmethod
    def _appointment_row(a: AppointmentRecord) -> dict[str, Any]:
        if a.start.tzinfo is not None:
            raise ValueError(f"appointment {a.id}: start is naive local clinic time")
        if a.status not in APPOINTMENT_STATUSES:
            raise ValueError(f"appointment {a.id}: unknown status {a.status!r}")
        return {
            "id": a.id,
            "patient_id": a.patient_id,
            "clinician_id": a.clinician_id,
            "start": a.start,
            "day": a.start.date(),
            "visit_type": a.visit_type,
            "status": a.status,
            "copay_cents": a.copay_cents,
        }

    def load_demo_clinic(self, today: date) -> None:
        """Fill an empty schedule with the synthetic demo clinic (idempotent)."""
        from .demo_clinic import build_demo_schedule

        with self._write() as s:
            if s.scalar(select(m.Appointment.id).limit(1)) is not None:
                return
            self._import(s, *build_demo_schedule(today))

    def purge_before(self, day: date) -> int:
        """Retention: drop appointments before `day`, patients left with none,
        and sent events older than `day`. Returns the number of patients removed.

        Pending and dead events are never deleted (not delivered, or waiting for
        staff), and a patient one of them names is kept with them.
        """
        cutoff = datetime.combine(day, time(), tzinfo=UTC)
        a, p, o = m.Appointment, m.Patient, m.OutboxEvent
        no_sync = {"synchronize_session": False}  # nothing is loaded in this session
        # Decrypting the unsettled events is the slow part: done before the write lock,
        # so the kiosk app is never kept waiting; only events written meanwhile are
        # read again under the lock.
        with self._read() as s:
            keep, seen = outbox.patients_with_unfinished_events(s, self._cipher)
        with self._write() as s:
            keep |= outbox.patients_with_unfinished_events(s, self._cipher, after_rowid=seen)[0]
            s.execute(delete(a).where(a.day < day), execution_options=no_sync)
            gone = s.execute(
                delete(p).where(~exists().where(a.patient_id == p.id), p.id.not_in(keep)),
                execution_options=no_sync,
            )
            s.execute(
                delete(o).where(o.state == outbox.SENT, o.created_at < cutoff),
                execution_options=no_sync,
            )
            # Settled payments go too; one still "started" waits for its reconciliation.
            s.execute(
                delete(m.Payment).where(m.Payment.state != PAYMENT_STARTED, m.Payment.updated_at < cutoff),
                execution_options=no_sync,
            )
            return gone.rowcount
