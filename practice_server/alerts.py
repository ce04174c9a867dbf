"""Alerts that need a person, and the site's open alerts for the staff dashboard:

- urgent_answer (alert.raised): an urgent answer on a form, e.g. self-harm. High priority.
- needs_help: a patient could not check in at kiosk N (identify.failed: the kiosk sent
  them to the front desk; identify.cooldown: the kiosk paused after repeated tries).
  Nobody was identified, so there is no patient; one open alert per kiosk counts up.
- payment_problem: the copay at the kiosk was declined, timed out or failed. A later
  approved payment for the same visit closes it.

The kiosk raises the alert before it sends the form response it belongs to, so the
response need not exist yet. The alert id is made on the kiosk: the same alert sent
again (in another event) keeps its first row.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, Field
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .bundles import canonical_json
from .event_base import ApplyContext, FlagName, Id, Payload, Rejection, check_visit
from .models import Alert, Appointment

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
                patient_id=p.patient_id.lower(), appointment_id=p.appointment_id.lower(), device_id=ctx.device_id,
                detail=canonical_json({"questionnaire_url": p.questionnaire_url, "flags": p.flags}),
                raised_at=p.raised_at, last_raised_at=p.raised_at, received_at=ctx.now, occurrences=1,
            ))
    except IntegrityError:
        return
    # Ids only: the flags say what the patient answered.
    log.warning("alert.raised", extra={"fields": {
        "alert_id": alert_id, "site_id": ctx.site_id, "kind": p.kind, "priority": p.priority}})


# -- needs help at a kiosk, payment problems (raised by the server from kiosk events) ------------

PAYMENT_PROBLEMS = ("declined", "timeout", "error")


def raise_needs_help(db: Session, ctx: ApplyContext, payload: dict) -> None:
    """identify.failed / identify.cooldown: the patient at this kiosk needs the desk."""
    cooldown = "seconds" in payload  # identify.cooldown carries the pause length
    raised_at = ctx.created_at or ctx.now
    open_one = db.scalar(select(Alert).where(
        Alert.device_id == ctx.device_id, Alert.kind == "needs_help", Alert.acknowledged_at.is_(None)))
    if open_one is not None:
        open_one.occurrences += 1
        open_one.last_raised_at = max(raised_at, open_one.last_raised_at or open_one.raised_at)
        if cooldown:
            open_one.detail = canonical_json({"cooldown": True, "reason": "cooldown"})
        return
    reason = str(payload.get("reason", "cooldown" if cooldown else "unknown"))[:40]
    db.add(Alert(id=str(uuid.uuid4()), site_id=ctx.site_id, kind="needs_help", priority="normal",
                 device_id=ctx.device_id, detail=canonical_json({"cooldown": cooldown, "reason": reason}),
                 raised_at=raised_at, last_raised_at=raised_at, received_at=ctx.now, occurrences=1))


def raise_payment_problem(db: Session, ctx: ApplyContext, p) -> None:
    """payment.recorded: a problem opens an alert; an approval closes the visit's open ones."""
    appointment_id = p.appointment_id.lower()
    if p.status == "approved":
        for alert in db.scalars(select(Alert).where(
                Alert.appointment_id == appointment_id, Alert.kind == "payment_problem",
                Alert.acknowledged_at.is_(None))):
            alert.acknowledged_at, alert.acknowledged_by = ctx.now, "kiosk: paid later"
        return
    if p.status not in PAYMENT_PROBLEMS:
        return  # cancelled by the patient, or stored offline: nothing went wrong
    patient_id = db.scalar(select(Appointment.patient_id).where(Appointment.id == appointment_id))
    db.add(Alert(id=str(uuid.uuid4()), site_id=ctx.site_id, kind="payment_problem", priority="normal",
                 patient_id=patient_id, appointment_id=appointment_id, device_id=ctx.device_id,
                 detail=canonical_json({"status": p.status, "amount_cents": p.amount_cents,
                                        "decline_reason": p.decline_reason}),
                 raised_at=p.at, last_raised_at=p.at, received_at=ctx.now, occurrences=1))


# -- the dashboard's view ------------------------------------------------------------------------


@dataclass(frozen=True)
class OpenAlert:
    id: str
    kind: str
    priority: str
    patient_id: str | None
    appointment_id: str | None
    device_id: str | None
    detail: dict
    raised_at: datetime
    last_raised_at: datetime
    received_at: datetime
    occurrences: int

    @property
    def questionnaire_url(self) -> str | None:
        return self.detail.get("questionnaire_url")

    @property
    def flags(self) -> list[str]:
        return list(self.detail.get("flags", []))


def open_alerts(db: Session, site_id: str) -> list[OpenAlert]:
    """The site's alerts nobody acknowledged yet: high priority first, then oldest first."""
    rows = db.scalars(
        select(Alert).where(Alert.site_id == site_id, Alert.acknowledged_at.is_(None))
        .order_by(Alert.priority != "high", Alert.raised_at, Alert.id)
    )
    return [OpenAlert(
        id=a.id, kind=a.kind, priority=a.priority, patient_id=a.patient_id, appointment_id=a.appointment_id,
        device_id=a.device_id, detail=json.loads(a.detail), raised_at=a.raised_at,
        last_raised_at=a.last_raised_at or a.raised_at, received_at=a.received_at, occurrences=a.occurrences,
    ) for a in rows]


def open_alert_count(db: Session, site_ids: tuple[str, ...]) -> int:
    query = select(func.count()).select_from(Alert).where(Alert.acknowledged_at.is_(None))
    if site_ids:
        query = query.where(Alert.site_id.in_(site_ids))
    return int(db.scalar(query) or 0)


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
