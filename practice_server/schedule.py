"""The schedule pull: a site's appointments, with their patients and clinicians, by cursor.

The unit of the pull is the appointment. Every change to an appointment, to its
patient or to its clinician gives the appointment row a new `change_seq` (one number
per changing statement) and `changed_at` (the database's transaction time), so
"what changed since the cursor" is one indexed range over appointments.

The cursor (opaque to the kiosk: base64url of JSON) holds
- `since`: the highest change number already sent;
- `thr`: the last day of the window already sent in full; days after it that come
  into the window as time passes are sent whole, whatever their change numbers;
- `ovl`: re-send rows changed after this time. On PostgreSQL a transaction can take
  a change number, then commit after a higher number was already read; such a row
  has changed_at >= (its commit - its duration). Transactions are bounded by the
  database timeouts (db.py), so re-sending OVERLAP of recent changes never misses a
  late commit. The kiosk upserts, so re-sent rows are harmless.
While `more` is true the cursor also holds the position reached (`pos`: change
number + id, keyset paging), the window fixed for this pull (`win`), the pull's
start time (`t0`) and the highest change number sent so far (`max`).

Each patient comes with their `history` (patient_history.py): what they already
completed or signed, so the kiosk can skip it.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import and_, false, func, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from . import patient_history
from .models import SCHEDULE_CHANGE_SEQ, Appointment, Clinician, Counter, Patient

OVERLAP = timedelta(seconds=120)
DEFAULT_LIMIT = 1000
MAX_LIMIT = 2000
MAX_CURSOR_CHARS = 2000
SCHEDULE_COUNTER = "schedule_change_seq"


class BadCursor(ValueError):
    pass


# -- change numbers ------------------------------------------------------------------


def next_change_seq(db: Session) -> int:
    if db.get_bind().dialect.name == "postgresql":
        return int(db.scalar(select(SCHEDULE_CHANGE_SEQ.next_value())))
    # SQLite: writers hold the database lock (BEGIN IMMEDIATE) until they commit, so a
    # plain counter row is race-free and numbers are handed out in commit order.
    counter = db.get(Counter, SCHEDULE_COUNTER)
    if counter is None:
        counter = Counter(name=SCHEDULE_COUNTER, value=0)
        db.add(counter)
    counter.value += 1
    db.flush()
    return counter.value


def db_now(db: Session) -> datetime:
    """The transaction's time by the database clock (several app hosts, one clock)."""
    if db.get_bind().dialect.name == "postgresql":
        return db.scalar(select(func.now())).astimezone(UTC)
    return datetime.now(UTC)


def touch(db: Session, where: ColumnElement[bool], values: dict[str, Any] | None = None) -> int:
    """Update appointments matching `where` (with `values`) and mark them changed.

    Every write to appointments, and every patient/clinician change (touching that
    person's appointments), goes through here so the schedule pull sees it.
    Returns the number of rows changed.
    """
    stamp = {"change_seq": next_change_seq(db), "changed_at": db_now(db)}
    result = db.execute(
        update(Appointment).where(where).values(**(values or {}), **stamp)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def touch_patient(db: Session, patient_id: str, today_utc: date) -> int:
    """A patient changed: re-send their current and future appointments (all sites)."""
    return touch(db, and_(Appointment.patient_id == patient_id,
                          Appointment.day >= today_utc - timedelta(days=2)))


def stamp_new(db: Session) -> dict[str, Any]:
    """change_seq/changed_at for appointments being inserted."""
    return {"change_seq": next_change_seq(db), "changed_at": db_now(db)}


# -- cursor ---------------------------------------------------------------------------


class _Cursor(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    v: int = Field(ge=1, le=1)
    site: str = Field(max_length=36)
    since: int = Field(ge=0)
    thr: date | None = None
    ovl: datetime | None = None
    pos: tuple[int, str] | None = None
    win: tuple[date, date] | None = None
    t0: datetime | None = None
    max: int | None = None


def _encode(cursor: _Cursor) -> str:
    text = cursor.model_dump_json(exclude_none=True)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _decode(text: str, site_id: str) -> _Cursor:
    if not text:
        return _Cursor(v=1, site=site_id, since=0)
    if len(text) > MAX_CURSOR_CHARS:
        raise BadCursor("the cursor is too long")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        cursor = _Cursor.model_validate_json(raw, strict=False)
    except (binascii.Error, ValueError, ValidationError):
        raise BadCursor("the cursor is not one this server made") from None
    in_progress = (cursor.pos, cursor.win, cursor.t0, cursor.max)
    if any(x is None for x in in_progress) and any(x is not None for x in in_progress):
        raise BadCursor("the cursor is not one this server made")
    if cursor.site != site_id:
        raise BadCursor("the cursor belongs to another site")
    for t in (cursor.ovl, cursor.t0):
        if t is not None and t.tzinfo is None:
            raise BadCursor("the cursor is not one this server made")
    return cursor


# -- the pull -------------------------------------------------------------------------


def window(today_local: date, days_ahead: int) -> tuple[date, date]:
    return today_local - timedelta(days=1), today_local + timedelta(days=days_ahead)


def local_today(timezone: str, now: datetime) -> date:
    return now.astimezone(ZoneInfo(timezone)).date()


@dataclass(frozen=True)
class Page:
    cursor: str
    more: bool
    clinicians: list[dict[str, Any]]
    patients: list[dict[str, Any]]
    appointments: list[dict[str, Any]]


def pull(
    db: Session, site_id: str, timezone: str, days_ahead: int, cursor_text: str, limit: int,
    now: datetime,
) -> Page:
    """One page of the site's schedule changes after `cursor_text`. Raises BadCursor."""
    c = _decode(cursor_text, site_id)
    a = Appointment
    if c.pos is not None:
        assert c.win is not None and c.t0 is not None and c.max is not None
        win, t0, top = c.win, c.t0, c.max
    else:
        win, t0, top = window(local_today(timezone, now), days_ahead), db_now(db), c.since
    changed = [a.change_seq > c.since]
    if c.thr is not None:
        changed.append(a.day > c.thr)
    if c.ovl is not None:
        changed.append(a.changed_at >= c.ovl)
    query = select(a).where(a.site_id == site_id, a.day >= win[0], a.day <= win[1], or_(*changed))
    if c.pos is not None:
        seq, last_id = c.pos
        query = query.where(or_(a.change_seq > seq, and_(a.change_seq == seq, a.id > last_id)))
    rows = list(db.scalars(query.order_by(a.change_seq, a.id).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    top = max([top, *(r.change_seq for r in rows)])
    if more:
        last = rows[-1]
        nxt = _Cursor(v=1, site=site_id, since=c.since, thr=c.thr, ovl=c.ovl,
                      pos=(last.change_seq, last.id), win=win, t0=t0, max=top)
    else:
        nxt = _Cursor(v=1, site=site_id, since=top, thr=win[1], ovl=t0 - OVERLAP)
    patient_ids = sorted({r.patient_id for r in rows})
    clinician_ids = sorted({r.clinician_id for r in rows})
    patients = db.scalars(select(Patient).where(Patient.id.in_(patient_ids) if patient_ids else false()))
    history = patient_history.histories(db, patient_ids)
    clinicians = db.scalars(
        select(Clinician).where(Clinician.id.in_(clinician_ids) if clinician_ids else false())
    )
    return Page(
        cursor=_encode(nxt),
        more=more,
        clinicians=[{"id": x.id, "display_name": x.display_name} for x in clinicians],
        patients=[_patient(p, history[p.id]) for p in patients],
        appointments=[_appointment(r) for r in rows],
    )


def _patient(p: Patient, history: dict[str, str]) -> dict[str, Any]:
    return {
        "id": p.id, "first_name": p.first_name, "last_name": p.last_name,
        "birth_date": p.birth_date.isoformat(), "phone": p.phone, "email": p.email,
        "street": p.street, "city": p.city, "state": p.state, "postal_code": p.postal_code,
        "portal_account": p.portal_account, "history": history,
    }


def _appointment(r: Appointment) -> dict[str, Any]:
    return {
        "id": r.id, "patient_id": r.patient_id, "clinician_id": r.clinician_id,
        "start": r.start.replace(microsecond=0).isoformat(), "visit_type": r.visit_type,
        "status": r.status, "copay_cents": r.copay_cents,
    }
