"""The copay events a kiosk pushes: `payment.recorded` (what the terminal answered: token,
brand, last four, approval code; never a card number) and `payment.deferred` ("pay at the
front desk"). Stored as events (payload kept) after these checks; `visit_payments` keeps
where each visit's copay stands for the arrivals board and the copay figures."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from .event_base import ApplyContext, Id, Payload, Rejection
from .models import Appointment, VisitPayment

STATUSES = ("approved", "declined", "cancelled", "timeout", "offline", "error")


class PaymentRecorded(Payload):
    appointment_id: str = Id
    idempotency_key: str = Field(min_length=8, max_length=64)
    status: Literal["approved", "declined", "cancelled", "timeout", "offline", "error"]
    amount_cents: int = Field(ge=0, le=9_999_999)
    token: str | None = Field(default=None, max_length=100)
    brand: str | None = Field(default=None, max_length=20)
    last4: str | None = Field(default=None, pattern=r"^\d{4}$")
    approval_code: str | None = Field(default=None, max_length=40)
    decline_reason: str | None = Field(default=None, max_length=64)
    stored_offline: bool = False
    at: AwareDatetime
    terminal_transaction_id: str | None = Field(default=None, max_length=100)

    @field_validator("token", "approval_code", "terminal_transaction_id", "decline_reason")
    @classmethod
    def _no_card_number(cls, value: str | None) -> str | None:
        # Defence in depth: a long run of digits is refused, whatever sent it.
        if value is not None and sum(c.isdigit() for c in value) >= 12:
            raise ValueError("looks like a card number; only tokens are accepted")
        return value


class PaymentDeferred(Payload):
    appointment_id: str = Id
    amount_cents: int = Field(ge=0, le=9_999_999)
    reason: Literal["front_desk"]


def check_appointment(db: Session, ctx: ApplyContext, p) -> None:
    appt = db.get(Appointment, p.appointment_id.lower())
    if appt is None or appt.site_id != ctx.site_id:
        raise Rejection(f"no appointment {p.appointment_id} at this kiosk's site")


def _set_state(db: Session, ctx: ApplyContext, appointment_id: str, state: str, amount_cents: int, at) -> None:
    appointment = db.get(Appointment, appointment_id)
    row = db.get(VisitPayment, appointment_id)
    if row is None:
        db.add(VisitPayment(appointment_id=appointment_id, site_id=ctx.site_id, state=state,
                            amount_cents=amount_cents, at=at, day=appointment.day))
    elif at >= row.at and not (row.state == "paid" and state != "paid"):  # a paid copay stays paid
        row.state, row.amount_cents, row.at = state, amount_cents, at


def apply_recorded(db: Session, ctx: ApplyContext, p: PaymentRecorded) -> None:
    state = {"approved": "paid", "declined": "problem", "timeout": "problem", "error": "problem"}.get(p.status)
    if state is not None:  # cancelled or stored offline: the visit's copay is where it was
        _set_state(db, ctx, p.appointment_id.lower(), state, p.amount_cents, p.at)


def apply_deferred(db: Session, ctx: ApplyContext, p: PaymentDeferred) -> None:
    _set_state(db, ctx, p.appointment_id.lower(), "deferred", p.amount_cents, ctx.created_at or ctx.now)


def visit_payment_states(db: Session, appointment_ids: list[str]) -> dict[str, str]:
    """appointment id -> paid, deferred or problem (visits without a copay event are absent)."""
    if not appointment_ids:
        return {}
    return dict(db.execute(select(VisitPayment.appointment_id, VisitPayment.state)
                           .where(VisitPayment.appointment_id.in_(appointment_ids))).all())
