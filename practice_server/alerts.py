"""alert.raised: something staff must see now (an urgent answer on a form), and the
site's open alerts for the staff dashboard.

The kiosk raises the alert before it sends the form response it belongs to, so the
response need not exist yet. The alert id is made on the kiosk: the same alert sent
again (in another event) keeps its first row.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .bundles import canonical_json
from .event_base import ApplyContext, FlagName, Id, Payload, Rejection, check_visit
from .models import Alert

log = logging.getLogger(__name__)


class AlertRaised(Payload):
    alert_id: str = Id
    kind: Literal["urgent_answer"]
    priority: Literal["high"]
    patient_id: str = Id
    appointment_id: str = Id
    questionnaire_url: str = Field(min_length=1, max_length=500)
    flags: list[FlagName] = Field(max_length=50)
    raised_at: AwareDatetime


def check(db: Session, ctx: ApplyContext, p: AlertRaised) -> None:
    check_visit(db, ctx, p.patient_id, p.appointment_id)
    earlier = db.get(Alert, p.alert_id.lower())
    if earlier is not None and (earlier.site_id, earlier.patient_id) != (ctx.site_id, p.patient_id.lower()):
        raise Rejection(f"alert {p.alert_id} already exists for another patient or site")


def apply(db: Session, ctx: ApplyContext, p: AlertRaised) -> None:
    alert_id = p.alert_id.lower()
    if db.get(Alert, alert_id) is not None:
        return  # the same alert again: it is already on the dashboard
    try:
        with db.begin_nested():  # another worker may be storing the same alert right now
            db.add(Alert(
                id=alert_id, site_id=ctx.site_id, kind=p.kind, priority=p.priority,
                patient_id=p.patient_id.lower(), appointment_id=p.appointment_id.lower(),
                detail=canonical_json({"questionnaire_url": p.questionnaire_url, "flags": p.flags}),
                raised_at=p.raised_at, received_at=ctx.now,
            ))
    except IntegrityError:
        return
    # Ids only: the flags say what the patient answered.
    log.warning("alert.raised", extra={"fields": {
        "alert_id": alert_id, "site_id": ctx.site_id, "kind": p.kind, "priority": p.priority}})


@dataclass(frozen=True)
class OpenAlert:
    id: str
    kind: str
    priority: str
    patient_id: str
    appointment_id: str
    questionnaire_url: str | None
    flags: list[str]
    raised_at: datetime
    received_at: datetime


def open_alerts(db: Session, site_id: str) -> list[OpenAlert]:
    """The site's alerts nobody acknowledged yet, oldest first."""
    rows = db.scalars(
        select(Alert).where(Alert.site_id == site_id, Alert.acknowledged_at.is_(None))
        .order_by(Alert.raised_at, Alert.id)
    )
    out = []
    for a in rows:
        detail = json.loads(a.detail)
        out.append(OpenAlert(
            id=a.id, kind=a.kind, priority=a.priority, patient_id=a.patient_id,
            appointment_id=a.appointment_id, questionnaire_url=detail.get("questionnaire_url"),
            flags=list(detail.get("flags", [])), raised_at=a.raised_at, received_at=a.received_at,
        ))
    return out


def acknowledge(db: Session, site_id: str, alert_id: str, by: str, now: datetime) -> bool:
    """A staff member saw the alert. False when the site has no such alert; acknowledging
    twice keeps the first time and person."""
    if now.tzinfo is None:
        raise ValueError("`now` must be timezone-aware")
    alert = db.get(Alert, alert_id.lower()) if len(alert_id) <= 36 else None
    if alert is None or alert.site_id != site_id:
        return False
    if alert.acknowledged_at is None:
        alert.acknowledged_at, alert.acknowledged_by = now, by[:200]
        db.flush()
    return True
