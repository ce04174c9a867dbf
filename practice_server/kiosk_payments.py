"""The copay events a kiosk pushes: `payment.recorded` (what the terminal answered: token,
brand, last four, approval code; never a card number) and `payment.deferred` ("pay at the
front desk"). Stored as events (payload kept) after these checks; the dashboard and the
EHR export read them (issue #8)."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field, field_validator
from sqlalchemy.orm import Session

from .event_base import ApplyContext, Id, Payload, Rejection
from .models import Appointment

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
