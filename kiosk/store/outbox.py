"""The outbox: events written in the same transaction as the state they describe.

States: pending -> sent (server accepted it, or already had it) or dead
(server rejected it; staff see these, nothing is dropped silently).
Payloads are encrypted JSON because they may carry PHI (contact changes).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, literal_column, select, update
from sqlalchemy.sql import ColumnElement
from sqlalchemy.orm import Session

from . import models as m
from .cipher import FieldCipher
from .records import DeadLetter

PENDING = "pending"
SENT = "sent"
DEAD = "dead"

HIGH_PRIORITY = 0  # urgent alerts: sent before anything else pending
NORMAL_PRIORITY = 1

PAYLOAD_AAD = b"outbox.payload"
MAX_ERROR_CHARS = 500


@dataclass(frozen=True, repr=False)
class OutboxEvent:
    """An outbox row with its payload decrypted, for the sync agent."""

    id: str  # uuid4, the server's idempotency key
    event_type: str
    payload: dict[str, Any]
    session_id: str | None
    created_at: datetime  # UTC
    state: str
    attempts: int
    last_error: str | None
    size: int = 0  # bytes of the payload's JSON: the agent keeps each request under a limit

    def __repr__(self) -> str:  # the payload may hold PHI
        return f"OutboxEvent(id={self.id!r}, event_type={self.event_type!r}, state={self.state!r})"


def _json_default(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"event payload value of type {type(value).__name__} is not JSON")


def add_event(
    session: Session,
    cipher: FieldCipher,
    event_type: str,
    payload: dict[str, Any],
    session_id: str | None,
    now: datetime,
    priority: int = NORMAL_PRIORITY,
) -> str:
    """Queue one event in the caller's transaction; returns its id."""
    if not event_type or len(event_type) > 64:
        raise ValueError("event_type must be 1-64 characters")
    if priority not in (HIGH_PRIORITY, NORMAL_PRIORITY):
        raise ValueError("priority is HIGH_PRIORITY or NORMAL_PRIORITY")
    body = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=_json_default)
    event_id = str(uuid.uuid4())
    session.add(
        m.OutboxEvent(
            id=event_id,
            event_type=event_type,
            payload=cipher.encrypt(body, PAYLOAD_AAD),
            session_id=session_id,
            created_at=now,
            state=PENDING,
            priority=priority,
            attempts=0,
        )
    )
    return event_id


def _id_in(ids: list[str]) -> ColumnElement[bool]:
    """`outbox_events.id IN (ids)` with the ids as ONE bound JSON array (SQLite's json_each):
    hundreds of separate bound parameters cost more to render and bind than the update."""
    listed = select(literal_column("value")).select_from(func.json_each(json.dumps(ids)))
    return m.OutboxEvent.id.in_(listed.scalar_subquery())


def pending(
    session: Session, cipher: FieldCipher, limit: int, exclude: Iterable[str] = ()
) -> list[OutboxEvent]:
    """High priority first, then oldest first; rowid breaks ties so events keep the order
    they were written.
    `exclude`: ids left out (the batch the agent has in flight, not yet answered).

    Selects columns, not ORM objects: the agent reads the backlog in batches of
    hundreds, and building ORM instances was most of the kiosk's share of a drain."""
    o = m.OutboxEvent
    query = (
        select(o.id, o.event_type, o.payload, o.session_id, o.created_at, o.state, o.attempts, o.last_error)
        .where(m.OutboxEvent.state == PENDING)
        .order_by(o.priority, o.created_at, literal_column("outbox_events.rowid"))
        .limit(limit)
    )
    exclude = list(exclude)
    if exclude:
        query = query.where(~_id_in(exclude))
    events = []
    for r in session.execute(query):
        body = cipher.decrypt(r.payload, PAYLOAD_AAD)
        events.append(
            OutboxEvent(
                id=r.id,
                event_type=r.event_type,
                payload=json.loads(body),
                session_id=r.session_id,
                created_at=r.created_at,
                state=r.state,
                attempts=r.attempts,
                last_error=r.last_error,
                size=len(body),
            )
        )
    return events


def mark_sent(session: Session, ids: Iterable[str], now: datetime) -> int:
    ids = list(ids)
    if not ids:
        return 0
    result = session.execute(
        update(m.OutboxEvent)
        .where(_id_in(ids), m.OutboxEvent.state == PENDING)
        .values(state=SENT, sent_at=now, attempts=m.OutboxEvent.attempts + 1)
        .execution_options(synchronize_session=False)  # no ORM objects: the agent reads columns
    )
    return result.rowcount


def mark_failed(session: Session, ids: Iterable[str], error: str) -> int:
    """A try that did not get an answer: stays pending, attempts + 1."""
    ids = list(ids)
    if not ids:
        return 0
    result = session.execute(
        update(m.OutboxEvent)
        .where(m.OutboxEvent.id.in_(ids), m.OutboxEvent.state == PENDING)
        .values(attempts=m.OutboxEvent.attempts + 1, last_error=error[:MAX_ERROR_CHARS])
    )
    return result.rowcount


def mark_dead(session: Session, event_id: str, reason: str, now: datetime) -> bool:
    """Pending -> dead plus its dead letter, in the caller's transaction (both or neither).
    The row keeps its encrypted payload: a rejected event is set aside, never dropped."""
    reason = reason[:MAX_ERROR_CHARS]
    result = session.execute(
        update(m.OutboxEvent)
        .where(m.OutboxEvent.id == event_id, m.OutboxEvent.state == PENDING)
        .values(state=DEAD, attempts=m.OutboxEvent.attempts + 1, last_error=reason)
        .returning(m.OutboxEvent.event_type)
    )
    event_type = result.scalar()
    if event_type is None:  # unknown, already sent or already dead
        return False
    session.add(m.DeadLetter(event_id=event_id, event_type=event_type, reason=reason, dead_at=now))
    return True


def dead_letters(session: Session, limit: int) -> list[DeadLetter]:
    """Newest first."""
    d = m.DeadLetter
    rows = session.execute(
        select(d.event_id, d.event_type, d.reason, d.dead_at)
        .order_by(d.dead_at.desc(), d.event_id)
        .limit(limit)
    )
    return [DeadLetter(r.event_id, r.event_type, r.reason, r.dead_at) for r in rows]


def dead_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(m.DeadLetter)) or 0


def patients_with_unfinished_events(
    session: Session, cipher: FieldCipher, after_rowid: int = 0
) -> tuple[set[str], int]:
    """Patient ids named by pending or dead events written after `after_rowid` (the
    payload is encrypted, so it is read here), and the last rowid seen. Retention keeps
    these patients: their events are not settled yet."""
    ids: set[str] = set()
    last = after_rowid
    rowid = literal_column("outbox_events.rowid")
    rows = session.execute(
        select(rowid, m.OutboxEvent.payload).where(
            m.OutboxEvent.state.in_((PENDING, DEAD)), rowid > after_rowid
        )
    )
    for row_id, blob in rows:
        last = max(last, row_id)
        patient_id = json.loads(cipher.decrypt(blob, PAYLOAD_AAD)).get("patient_id")
        if isinstance(patient_id, str):
            ids.add(patient_id)
    return ids, last


def pending_summary(session: Session) -> tuple[int, datetime | None]:
    count, oldest = session.execute(
        select(func.count(), func.min(m.OutboxEvent.created_at)).where(
            m.OutboxEvent.state == PENDING
        )
    ).one()
    return count, oldest  # min() keeps the column type: already aware UTC
