"""POST /events: store each (device, event id) once, forever, and apply it, atomically.

The whole batch is one transaction; each event runs in its own SAVEPOINT, so a bad
event is answered `rejected` without touching the others, and a database error fails
the whole request with nothing half-applied. The event row is inserted BEFORE its
effect: when two workers race with the same event, the second one's insert waits
for the first and then hits the primary key, its savepoint is rolled back (effect
included) and it answers from the stored row — one row, one effect.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import case, insert, literal, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import schedule
from .auth import Caller
from .bundles import canonical_json
from .event_types import REGISTRY, UUID_PATTERN, ApplyContext, Rejection, parse_payload
from .models import Appointment, Event

log = logging.getLogger(__name__)

MAX_EVENTS = 500
ACCEPTED, DUPLICATE, REJECTED = "accepted", "duplicate", "rejected"
_UUID = re.compile(UUID_PATTERN)


class EventIn(BaseModel):
    """The envelope. Wrong JSON types here fail the batch (422); what is wrong inside
    well-typed fields (id not a UUID, unknown type, payload shape) rejects the event."""

    model_config = ConfigDict(extra="ignore")

    id: str = Field(min_length=1, max_length=100)
    type: str = Field(min_length=1, max_length=200)
    created_at: str = Field(max_length=64, description="ISO 8601 with an offset")
    session_id: str | None = Field(default=None, max_length=100)
    payload: dict[str, Any]


class EventBatch(BaseModel):
    events: list[EventIn] = Field(max_length=MAX_EVENTS)

    @model_validator(mode="after")
    def _unique_ids(self) -> EventBatch:
        if len({e.id for e in self.events}) != len(self.events):
            raise ValueError("event ids must be unique within a batch")
        return self


class EventResult(BaseModel):
    id: str
    status: str = Field(description="accepted, duplicate or rejected")
    reason: str | None


class EventResults(BaseModel):
    results: list[EventResult]


def results_json(results: list[EventResult]) -> bytes:
    """The 200 answer's body (the results are built here, so nothing to validate again)."""
    return EventResults.model_construct(results=results).model_dump_json().encode()


ARRIVED = "appointment.arrived"
# The stock arrival type: its effect is applied for a run of arrivals at once (one
# change_seq, one UPDATE) by _apply_arrivals. Any other apply (tests swap the type in
# REGISTRY) runs one event at a time.
_STOCK_ARRIVED = REGISTRY[ARRIVED]


@dataclass(frozen=True)
class _Verdict:
    stored_type: str
    created_at: datetime | None
    session_id: str | None
    reason: str | None
    parsed: Any
    ctx: ApplyContext  # the batch's context with this event's id, time and session


def push(db: Session, caller: Caller, batch: EventBatch, now: datetime) -> list[EventResult]:
    """Process the batch in `db`'s transaction (the caller commits)."""
    ctx = ApplyContext(device_id=caller.device_id, site_id=caller.site_id, now=now)
    try:
        with db.begin_nested():
            results = _push_bulk(db, ctx, batch.events)
    except IntegrityError:
        results = [_one(db, ctx, ev) for ev in batch.events]
    counts = {s: sum(r.status == s for r in results) for s in (ACCEPTED, DUPLICATE, REJECTED)}
    log.info("events.pushed", extra={"fields": {"device_id": caller.device_id, **counts}})
    return results


def _one(db: Session, ctx: ApplyContext, ev: EventIn) -> EventResult:
    if not _UUID.match(ev.id):
        # Not stored: there is no sound key for it. The answer is stable all the same.
        return EventResult(id=ev.id, status=REJECTED, reason="id must be a UUID")
    event_id = ev.id.lower()
    stored = db.get(Event, (ctx.device_id, event_id))
    if stored is not None:
        return _answer_from(stored, ev.id)
    verdict = judge(db, ctx, ev)
    try:
        payload_json = canonical_json(ev.payload)
    except ValueError:
        payload_json, verdict = "{}", _rejected(verdict, "payload holds NaN or Infinity, which JSON does not allow")
    row = Event(
        device_id=ctx.device_id, event_id=event_id, type=verdict.stored_type,
        created_at=verdict.created_at, received_at=ctx.now, session_id=verdict.session_id,
        status=REJECTED if verdict.reason else ACCEPTED, reason=verdict.reason, payload=payload_json,
    )
    try:
        with db.begin_nested():
            db.add(row)
            db.flush()
            if verdict.reason is None:
                apply = REGISTRY[ev.type].apply
                if apply is not None:
                    apply(db, verdict.ctx, verdict.parsed)
    except IntegrityError:
        # Another worker stored this event between our look-up and our insert.
        stored = db.get(Event, (ctx.device_id, event_id), populate_existing=True)
        if stored is None:
            raise
        return _answer_from(stored, ev.id)
    return EventResult(id=ev.id, status=row.status, reason=row.reason)


def _push_bulk(db: Session, ctx: ApplyContext, batch: list[EventIn]) -> list[EventResult]:
    """The whole batch at once (in the caller's savepoint). Same answers as `_one`."""
    keys = {ev.id: ev.id.lower() for ev in batch if _UUID.match(ev.id)}
    stored = {
        row.event_id: row
        for row in db.execute(
            select(Event.event_id, Event.status, Event.reason).where(
                Event.device_id == ctx.device_id, Event.event_id.in_(set(keys.values()))
            )
        )
    } if keys else {}
    # The events' appointments in one query: their checks then find them in the
    # session (db.get) instead of one SELECT each. Kept referenced for the batch.
    appointments = _load_appointments(db, batch)  # noqa: F841 (held: the session maps them weakly)
    results: list[EventResult] = []
    rows: list[dict[str, Any]] = []
    effects: list[tuple[EventIn, _Verdict]] = []
    for ev in batch:
        if ev.id not in keys:
            results.append(EventResult(id=ev.id, status=REJECTED, reason="id must be a UUID"))
            continue
        earlier = stored.get(keys[ev.id])
        if earlier is not None:
            results.append(_answer_from(earlier, ev.id))
            continue
        verdict = judge(db, ctx, ev)
        try:
            payload_json = canonical_json(ev.payload)
        except ValueError:
            payload_json, verdict = "{}", _rejected(verdict, "payload holds NaN or Infinity, which JSON does not allow")
        status = REJECTED if verdict.reason else ACCEPTED
        rows.append({
            "device_id": ctx.device_id, "event_id": keys[ev.id], "type": verdict.stored_type,
            "created_at": verdict.created_at, "received_at": ctx.now, "session_id": verdict.session_id,
            "status": status, "reason": verdict.reason, "payload": payload_json,
        })
        if status == ACCEPTED and REGISTRY[ev.type].apply is not None:
            effects.append((ev, verdict))
        results.append(EventResult(id=ev.id, status=status, reason=verdict.reason))
    if rows:
        # Core executemany on the table: the ORM's bulk-insert path costs more than the insert.
        db.execute(insert(Event.__table__), rows)  # the primary key refuses a racing duplicate
    # In batch order, after the rows: same as one by one. A run of stock arrivals is
    # applied at once (same outcome: booked -> arrived, the first arrival's time wins).
    arrivals: list[Any] = []
    for ev, verdict in effects:
        event_type = REGISTRY[ev.type]
        if event_type is _STOCK_ARRIVED:
            arrivals.append(verdict.parsed)
            continue
        _apply_arrivals(db, arrivals)
        arrivals = []
        event_type.apply(db, verdict.ctx, verdict.parsed)
    _apply_arrivals(db, arrivals)
    return results


def _apply_arrivals(db: Session, arrivals: list[Any]) -> None:
    """event_types' arrival effect (booked -> arrived, arrived_at from the kiosk; any
    other status unchanged) for several arrivals, in one schedule.touch."""
    if not arrivals:
        return
    first: dict[str, datetime] = {}
    for p in arrivals:  # one appointment twice: the first arrival changes it, as one by one
        first.setdefault(p.appointment_id.lower(), p.arrived_at)
    stored_as = Appointment.__table__.c.arrived_at.type  # aware -> UTC, as the column does
    arrived_at = case({i: literal(at, stored_as) for i, at in first.items()}, value=Appointment.id)
    schedule.touch(
        db,
        Appointment.id.in_(list(first)) & (Appointment.status == "booked"),
        {"status": "arrived", "arrived_at": arrived_at},
    )


def _load_appointments(db: Session, batch: list[EventIn]) -> list[Appointment]:
    ids = {
        ev.payload["appointment_id"].lower()
        for ev in batch
        if isinstance(ev.payload.get("appointment_id"), str) and _UUID.match(ev.payload["appointment_id"])
    }
    if not ids:
        return []
    return list(db.scalars(select(Appointment).where(Appointment.id.in_(ids))))


def _answer_from(stored: Any, sent_id: str) -> EventResult:
    if stored.status == ACCEPTED:
        return EventResult(id=sent_id, status=DUPLICATE, reason=None)
    return EventResult(id=sent_id, status=REJECTED, reason=stored.reason)


def _rejected(v: _Verdict, reason: str) -> _Verdict:
    return _Verdict(v.stored_type, v.created_at, v.session_id, v.reason or reason, None, v.ctx)


def judge(db: Session, batch_ctx: ApplyContext, ev: EventIn) -> _Verdict:
    """Everything that decides accepted/rejected, before anything is written."""
    created_at = session_id = None
    ctx = batch_ctx
    try:
        try:
            created_at = datetime.fromisoformat(ev.created_at)
        except ValueError:
            raise Rejection("created_at is not an ISO 8601 time") from None
        if created_at.tzinfo is None:
            created_at = None
            raise Rejection("created_at needs a UTC offset")
        if ev.session_id is not None:
            if not _UUID.match(ev.session_id):
                raise Rejection("session_id must be a UUID or null")
            session_id = ev.session_id.lower()
        event_type = REGISTRY.get(ev.type)
        if event_type is None:
            raise Rejection(f"unknown event type {ev.type[:64]!r}")
        ctx = replace(batch_ctx, event_id=ev.id.lower(), created_at=created_at, session_id=session_id)
        parsed = parse_payload(event_type, ev.payload)
        if event_type.check is not None:
            event_type.check(db, ctx, parsed)
    except Rejection as r:
        return _Verdict(ev.type[:64], created_at, session_id, r.reason, None, ctx)
    return _Verdict(ev.type, created_at, session_id, None, parsed, ctx)
