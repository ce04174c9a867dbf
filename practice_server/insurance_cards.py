"""insurance_card.captured and insurance_card.skipped: a photo of one side of the
patient's insurance card, or why there is none.

The image must really be a JPEG (its first bytes) and small enough to keep events
under the 1 MiB the kiosk allows itself. The newest image of a side is `current`;
an earlier current one of the same patient and side becomes `superseded` (the FHIR
DocumentReference status follows: fhir_resources.document_reference).
"""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field, StrictFloat, StrictInt
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .event_base import ApplyContext, Id, Payload, Rejection, check_visit, decode_base64, resource_id
from .models import InsuranceCard

JPEG_MAGIC = b"\xff\xd8\xff"  # SOI, then the first marker
MIN_JPEG_BYTES = 128
MAX_JPEG_BYTES = 384 * 1024  # the kiosk aims at <= ~300 KB
CURRENT, SUPERSEDED, SKIPPED = "current", "superseded", "skipped"


class CardCaptured(Payload):
    patient_id: str = Id
    appointment_id: str = Id
    side: Literal["front", "back"]
    image_jpeg: str = Field(min_length=1)  # size checked on decoding (a clearer reason)
    width: StrictInt = Field(ge=1, le=20_000)
    height: StrictInt = Field(ge=1, le=20_000)
    captured_at: AwareDatetime
    capture: Literal["auto", "manual"]
    sharpness: StrictFloat = Field(ge=0, allow_inf_nan=False)


class CardSkipped(Payload):
    patient_id: str = Id
    appointment_id: str = Id
    reason: Literal["no_card", "declined", "camera_unavailable"]


def jpeg(p: CardCaptured) -> bytes:
    image = decode_base64(p.image_jpeg, "image_jpeg", MAX_JPEG_BYTES)
    if not image.startswith(JPEG_MAGIC):
        raise Rejection("image_jpeg is not a JPEG image")
    if len(image) < MIN_JPEG_BYTES:
        raise Rejection(f"image_jpeg is under {MIN_JPEG_BYTES} bytes: no card photo is that small")
    return image


def check_captured(db: Session, ctx: ApplyContext, p: CardCaptured) -> None:
    check_visit(db, ctx, p.patient_id, p.appointment_id)
    jpeg(p)


def apply_captured(db: Session, ctx: ApplyContext, p: CardCaptured) -> None:
    patient_id = p.patient_id.lower()
    # Only an older photo steps down: events can arrive out of order after days offline.
    db.execute(
        update(InsuranceCard)
        .where(InsuranceCard.patient_id == patient_id, InsuranceCard.side == p.side,
               InsuranceCard.status == CURRENT, InsuranceCard.at <= p.captured_at)
        .values(status=SUPERSEDED).execution_options(synchronize_session=False)
    )
    newer = db.scalar(select(InsuranceCard.id).where(
        InsuranceCard.patient_id == patient_id, InsuranceCard.side == p.side,
        InsuranceCard.status == CURRENT, InsuranceCard.at > p.captured_at).limit(1))
    db.add(InsuranceCard(
        id=resource_id(ctx.device_id, ctx.event_id, "DocumentReference"), site_id=ctx.site_id,
        device_id=ctx.device_id, event_id=ctx.event_id, patient_id=patient_id,
        appointment_id=p.appointment_id.lower(), status=SUPERSEDED if newer else CURRENT, side=p.side,
        image_jpeg=jpeg(p), width=p.width, height=p.height, capture=p.capture, sharpness=p.sharpness,
        at=p.captured_at, received_at=ctx.now,
    ))


def check_skipped(db: Session, ctx: ApplyContext, p: CardSkipped) -> None:
    check_visit(db, ctx, p.patient_id, p.appointment_id)


def apply_skipped(db: Session, ctx: ApplyContext, p: CardSkipped) -> None:
    db.add(InsuranceCard(
        id=resource_id(ctx.device_id, ctx.event_id, "DocumentReference"), site_id=ctx.site_id,
        device_id=ctx.device_id, event_id=ctx.event_id, patient_id=p.patient_id.lower(),
        appointment_id=p.appointment_id.lower(), status=SKIPPED, skipped_reason=p.reason,
        at=ctx.created_at or ctx.now, received_at=ctx.now,
    ))
