"""What every event type is made of: the payload base, the apply context, Rejection,
and the checks most types share (is this appointment at the kiosk's site, for this patient?).

Kept apart from event_types.py (the registry), so each family of event types can live
in its own module and the registry can import them all.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictStr
from sqlalchemy.orm import Session

from .models import Appointment, Site

UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
Id = Field(pattern=UUID_PATTERN)
# BCP 47 tags as the kiosk uses them ("en", "es", "es-MX", "zh-Hant"): letters, digits, hyphens.
LANGUAGE_PATTERN = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$"
# Stored effects get a stable id per event: the same event always makes the same FHIR id.
RESOURCE_NAMESPACE = uuid.UUID("5d0c4f8e-41a5-4d43-9b0e-7c4e8b1f0a21")


# A flag a rule raised (e.g. "self_harm"): a short name, never the answer itself.
FlagName = Annotated[StrictStr, Field(min_length=1, max_length=64)]


class Rejection(Exception):
    """The event is refused; `reason` is shown to staff and stored: ids and field names only."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ApplyContext:
    device_id: str
    site_id: str
    now: datetime  # the server's clock
    # The event being checked or applied (events.py fills these in per event).
    event_id: str = ""
    created_at: datetime | None = None  # the kiosk's clock, with its offset
    session_id: str | None = None


class Payload(BaseModel):
    model_config = ConfigDict(extra="forbid")


def check_visit(db: Session, ctx: ApplyContext, patient_id: str, appointment_id: str) -> Appointment:
    """The appointment exists at the kiosk's site and is the patient's; else Rejection."""
    appt = db.get(Appointment, appointment_id.lower())
    # Another site's appointment gets the same answer as a missing one: a kiosk learns
    # nothing about other sites.
    if appt is None or appt.site_id != ctx.site_id:
        raise Rejection(f"no appointment {appointment_id} at this kiosk's site")
    if appt.patient_id != patient_id.lower():
        raise Rejection(f"appointment {appointment_id} is not for patient {patient_id}")
    return appt


def decode_base64(text: str, field: str, max_bytes: int) -> bytes:
    """Strict standard base64 (no whitespace, no URL alphabet) of at most `max_bytes`;
    Rejection naming the field."""
    if len(text) > 4 * ((max_bytes + 2) // 3):
        raise Rejection(f"{field} is over {max_bytes // 1024} KiB")
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise Rejection(f"{field} is not valid base64") from None
    if len(data) > max_bytes:
        raise Rejection(f"{field} is over {max_bytes // 1024} KiB")
    return data


def site_day(db: Session, ctx: ApplyContext, at: datetime):
    """The date of `at` in the site's time zone (the clinic's day, for history and funnels)."""
    site = db.get(Site, ctx.site_id)
    assert site is not None  # devices.site_id is a foreign key
    return at.astimezone(ZoneInfo(site.timezone)).date()


def resource_id(device_id: str, event_id: str, resource_type: str) -> str:
    """The id of the FHIR resource (and its row) an event makes."""
    return str(uuid.uuid5(RESOURCE_NAMESPACE, f"{resource_type}/{device_id}/{event_id}"))
