"""Dead letters on the server: events a kiosk sent that were rejected (stored with their
reason, never dropped). Staff list them on the dashboard and either retry one (after the
cause was fixed, e.g. the missing appointment was imported: the event is checked and
applied again now) or resolve it with a note (dealt with by hand)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from .events import ACCEPTED, REJECTED, EventIn, judge
from .event_types import REGISTRY, ApplyContext
from .models import Device, Event, Site


@dataclass(frozen=True)
class DeadLetter:
    device_id: str
    event_id: str
    type: str
    hostname: str
    site_name: str
    received_at: datetime
    reason: str


def open_dead_letters(db: Session, site_ids: tuple[str, ...] = (), limit: int = 200) -> list[DeadLetter]:
    """Rejected events nobody resolved, newest first (ids, type and reason only: the
    payload can hold patient data and is not shown)."""
    query = (select(Event.device_id, Event.event_id, Event.type, Device.hostname, Site.name, Event.received_at,
                    Event.reason)
             .join(Device, Device.id == Event.device_id).join(Site, Site.id == Device.site_id)
             .where(Event.status == REJECTED, Event.resolved_at.is_(None))
             .order_by(Event.received_at.desc()).limit(limit))
    if site_ids:
        query = query.where(Device.site_id.in_(site_ids))
    return [DeadLetter(*row) for row in db.execute(query)]


def _row(db: Session, device_id: str, event_id: str, site_ids: tuple[str, ...]) -> tuple[Event, Device] | None:
    row = db.get(Event, (device_id[:36], event_id[:36].lower()))
    device = db.get(Device, row.device_id) if row is not None else None
    if row is None or device is None or (site_ids and device.site_id not in site_ids):
        return None
    return row, device


def retry(db: Session, device_id: str, event_id: str, now: datetime, site_ids: tuple[str, ...] = ()) -> str | None:
    """Check and apply a rejected event again. Returns None when it was accepted now (or
    had been), else the reason it is still refused. KeyError: no such dead letter."""
    found = _row(db, device_id, event_id, site_ids)
    if found is None:
        raise KeyError(event_id)
    row, device = found
    if row.status == ACCEPTED:
        return None
    envelope = EventIn(id=row.event_id, type=row.type,
                       created_at=row.created_at.isoformat() if row.created_at else "",
                       session_id=row.session_id, payload=json.loads(row.payload))
    verdict = judge(db, ApplyContext(device_id=device.id, site_id=device.site_id, now=now), envelope)
    if verdict.reason is not None:
        row.reason = verdict.reason
        return verdict.reason
    with db.begin_nested():
        apply = REGISTRY[row.type].apply
        if apply is not None:
            apply(db, verdict.ctx, verdict.parsed)
        row.status, row.reason = ACCEPTED, None
    return None


def resolve(db: Session, device_id: str, event_id: str, staff_user: str, note: str, now: datetime,
            site_ids: tuple[str, ...] = ()) -> bool:
    """Mark a dead letter dealt with by hand; the note says how. False: no such one."""
    found = _row(db, device_id, event_id, site_ids)
    if found is None or found[0].status != REJECTED:
        return False
    row = found[0]
    if row.resolved_at is None:
        row.resolved_at, row.resolved_by, row.resolution_note = now, staff_user, note.strip()[:1000]
    return True
