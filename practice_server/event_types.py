"""The event types the server knows: payload shape (pydantic) and what applying does.

Checks that read the database (does the appointment exist at the kiosk's site?) are
in `check`, run before the event is stored; `apply` makes the change, after the event
row is stored, in the same transaction. A Rejection's reason is shown to staff (the
kiosk's dead-letter list) and stored: ids and field names only, never PHI.

The arrival and contact types live here; the intake types (forms, alerts, consents,
insurance cards, step events) each in their own module, all listed in REGISTRY.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import AwareDatetime, BaseModel, Field, ValidationError
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from . import alerts, consents, form_responses, insurance_cards, kiosk_payments, satisfaction, schedule, step_events
from .event_base import UUID_PATTERN, ApplyContext, Id, Payload, Rejection, check_visit
from .models import Appointment, Patient

__all__ = ["REGISTRY", "UUID_PATTERN", "ApplyContext", "EventType", "Rejection", "parse_payload"]


# -- appointment.arrived ----------------------------------------------------------------


class Arrived(Payload):
    appointment_id: str = Id
    patient_id: str = Id
    clinician_id: str = Id
    arrived_at: AwareDatetime


def _check_arrived(db: Session, ctx: ApplyContext, p: Arrived) -> None:
    appt = check_visit(db, ctx, p.patient_id, p.appointment_id)
    if appt.status == "cancelled":
        raise Rejection(f"appointment {p.appointment_id} was cancelled by the practice")


def _apply_arrived(db: Session, ctx: ApplyContext, p: Arrived) -> None:
    # Only booked -> arrived; arrived or seen stay as they are (the event is still stored).
    schedule.touch(
        db,
        (Appointment.id == p.appointment_id.lower()) & (Appointment.status == "booked"),
        {"status": "arrived", "arrived_at": p.arrived_at},
    )


# -- patient.contact_changed -------------------------------------------------------------


class ContactChanges(Payload):
    phone: str | None = Field(default=None, max_length=100)
    email: str | None = Field(default=None, max_length=254)
    street: str | None = Field(default=None, max_length=200)
    city: str | None = Field(default=None, max_length=100)
    state: str | None = Field(default=None, max_length=100)
    postal_code: str | None = Field(default=None, max_length=20)
    first_name: str | None = Field(default=None, min_length=1, max_length=200)
    last_name: str | None = Field(default=None, min_length=1, max_length=200)


class ContactChanged(Payload):
    patient_id: str = Id
    changes: ContactChanges


def _check_contact(db: Session, ctx: ApplyContext, p: ContactChanged) -> None:
    patient_id = p.patient_id.lower()
    # A kiosk may only change patients its site has appointments for (the ones it knows).
    known = db.scalar(select(exists().where(
        Appointment.patient_id == patient_id, Appointment.site_id == ctx.site_id)))
    if not known or db.get(Patient, patient_id) is None:
        raise Rejection(f"no patient {p.patient_id} at this kiosk's site")
    if not p.changes.model_fields_set:
        raise Rejection("changes is empty")
    for field in sorted(p.changes.model_fields_set):
        if getattr(p.changes, field) is None:
            raise Rejection(f"changes.{field} must be a string, not null")


def _apply_contact(db: Session, ctx: ApplyContext, p: ContactChanged) -> None:
    patient = db.get(Patient, p.patient_id.lower())
    assert patient is not None  # checked just before, in the same transaction
    for field in p.changes.model_fields_set:
        setattr(patient, field, getattr(p.changes, field))
    patient.updated_at = ctx.now
    db.flush()
    # Other kiosks learn about it through the schedule pull.
    schedule.touch_patient(db, patient.id, ctx.now.date())


# -- registry ---------------------------------------------------------------------------


def _apply_payment(db: Session, ctx: ApplyContext, p: kiosk_payments.PaymentRecorded) -> None:
    kiosk_payments.apply_recorded(db, ctx, p)  # where the visit's copay stands
    alerts.raise_payment_problem(db, ctx, p)  # and whether the desk must step in


@dataclass(frozen=True)
class EventType:
    name: str
    payload: type[BaseModel] | None  # None: any JSON object, stored for analytics
    check: Callable[[Session, ApplyContext, Any], None] | None = None
    apply: Callable[[Session, ApplyContext, Any], None] | None = None


def _registry(*types: EventType) -> dict[str, EventType]:
    return {t.name: t for t in types}


REGISTRY: dict[str, EventType] = _registry(
    EventType("appointment.arrived", Arrived, _check_arrived, _apply_arrived),
    EventType("patient.contact_changed", ContactChanged, _check_contact, _apply_contact),
    EventType("identify.failed", None, None, alerts.raise_needs_help),  # the desk is told: "needs help at kiosk N"
    EventType("identify.licence_used", None),  # {"expired": bool}: nothing of the licence itself
    EventType("payment.recorded", kiosk_payments.PaymentRecorded, kiosk_payments.check_appointment,
              _apply_payment),
    EventType("payment.deferred", kiosk_payments.PaymentDeferred, kiosk_payments.check_appointment,
              kiosk_payments.apply_deferred),
    EventType("portal.invitation_shown", None),  # counted per site with the sign-ups
    EventType("portal.invitation_declined", None),
    EventType("identify.cooldown", None, None, alerts.raise_needs_help),
    EventType("visit.ended", None),
    EventType("visit.step_timing", None),
    EventType("form.response", form_responses.FormResponseEvent, form_responses.check, form_responses.apply),
    EventType("alert.raised", alerts.AlertRaised, alerts.check, alerts.apply),
    EventType("consent.signed", consents.ConsentSigned, consents.check_signed, consents.apply_signed),
    EventType("consent.deferred", consents.ConsentDeferred, consents.check_deferred, consents.apply_deferred),
    EventType("insurance_card.captured", insurance_cards.CardCaptured, insurance_cards.check_captured,
              insurance_cards.apply_captured),
    EventType("insurance_card.skipped", insurance_cards.CardSkipped, insurance_cards.check_skipped,
              insurance_cards.apply_skipped),
    EventType("step.event", step_events.StepEventPayload, None, step_events.apply),
    EventType("visit.rated", satisfaction.VisitRated, None, satisfaction.apply),
)


def parse_payload(event_type: EventType, payload: dict[str, Any]) -> Any:
    """The payload as the type's model, or Rejection naming the fields that are wrong."""
    if event_type.payload is None:
        return payload
    try:
        return event_type.payload.model_validate(payload)
    except ValidationError as e:
        problems = [
            f"{'.'.join(str(x) for x in err['loc']) or 'payload'}: {err['msg']}"
            for err in e.errors(include_url=False, include_input=False, include_context=False)
        ]
        raise Rejection("payload: " + "; ".join(problems[:5])[:500]) from None
