"""consent.signed and consent.deferred: a consent document the patient signed on the
kiosk, or left for the front desk.

The server accepts a signature only on a text it knows: the document's id, version,
language and SHA-256 must be one registered in `consent_documents` (published by the
practice, or served to its kiosks). A document the site serves right now but that was
never registered (a kiosk on its packaged defaults that never pulled) is registered on
the way. A signed consent counts in the patient's history and is a FHIR Consent
(fhir_resources.consent); a deferred one is stored for the front desk only.
"""

from __future__ import annotations

import json
from typing import Literal

from pydantic import AwareDatetime, Field, StrictInt
from sqlalchemy.orm import Session

from . import bundles, consent_documents, schedule
from .event_base import LANGUAGE_PATTERN, ApplyContext, Id, Payload, Rejection, check_visit, decode_base64, \
    resource_id, site_day
from .models import ConsentDocument, PatientConsent

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MAX_SIGNATURE_BYTES = 256 * 1024  # a signature is a few KB to ~60 KB
MAX_STROKES_CHARS = 256 * 1024
SIGNED, DEFERRED = "signed", "deferred"


class DocumentRef(Payload):
    id: str = Field(min_length=1, max_length=64)
    version: str = Field(min_length=1, max_length=40)
    language: str = Field(pattern=LANGUAGE_PATTERN, max_length=35)
    title: str = Field(min_length=1, max_length=1000)
    sha256: str = Field(pattern=r"^[0-9a-fA-F]{64}$")


class SignatureInfo(Payload):
    strokes: StrictInt = Field(ge=1, le=10_000)
    points: StrictInt = Field(ge=1, le=1_000_000)
    width: StrictInt = Field(ge=1, le=10_000)
    height: StrictInt = Field(ge=1, le=10_000)


class ConsentSigned(Payload):
    patient_id: str = Id
    appointment_id: str = Id
    document: DocumentRef
    signed_at: AwareDatetime
    signature_png: str = Field(min_length=1)  # size checked on decoding (a clearer reason)
    signature: SignatureInfo
    # Optional: the strokes as kiosk/signature.py stores them (JSON text), kept as evidence.
    signature_strokes: str | None = Field(default=None, min_length=2, max_length=MAX_STROKES_CHARS)


class ConsentDeferred(Payload):
    patient_id: str = Id
    appointment_id: str = Id
    document: DocumentRef
    reason: Literal["front_desk"]


def known_document(db: Session, ctx: ApplyContext, ref: DocumentRef) -> ConsentDocument:
    """The registered document the kiosk showed; Rejection when the practice never published it."""
    doc = consent_documents.find(db, ref.id, ref.version, ref.language)
    if doc is None:
        served = bundles.consent_items(db, ctx.site_id)
        wanted = [d for d in served if d.get("id") == ref.id and d.get("version") == ref.version]
        if wanted:
            consent_documents.register(db, wanted, ctx.now, strict=False)
            doc = consent_documents.find(db, ref.id, ref.version, ref.language)
    if doc is None or doc.sha256 != ref.sha256.lower():
        raise Rejection(f"consent document {ref.id} version {ref.version} ({ref.language}) "
                        "is not one this practice published")
    return doc


def signature_png(p: ConsentSigned) -> bytes:
    png = decode_base64(p.signature_png, "signature_png", MAX_SIGNATURE_BYTES)
    if not png.startswith(PNG_MAGIC):
        raise Rejection("signature_png is not a PNG image")
    return png


def check_strokes(p: ConsentSigned) -> None:
    if p.signature_strokes is None:
        return
    try:
        strokes = json.loads(p.signature_strokes)
    except ValueError:
        raise Rejection("signature_strokes is not JSON") from None
    if not isinstance(strokes, dict) or not isinstance(strokes.get("strokes"), list):
        raise Rejection("signature_strokes is not a signature (an object with a list of strokes)")


def check_signed(db: Session, ctx: ApplyContext, p: ConsentSigned) -> None:
    check_visit(db, ctx, p.patient_id, p.appointment_id)
    signature_png(p)
    check_strokes(p)
    known_document(db, ctx, p.document)


def apply_signed(db: Session, ctx: ApplyContext, p: ConsentSigned) -> None:
    doc = known_document(db, ctx, p.document)
    db.add(PatientConsent(
        id=resource_id(ctx.device_id, ctx.event_id, "Consent"), site_id=ctx.site_id,
        device_id=ctx.device_id, event_id=ctx.event_id, patient_id=p.patient_id.lower(),
        appointment_id=p.appointment_id.lower(), document_id=doc.id, document_version=doc.version,
        document_language=doc.language, document_sha256=doc.sha256, status=SIGNED, deferred_reason=None,
        at=p.signed_at, day=site_day(db, ctx, p.signed_at), signature_png=signature_png(p),
        signature_strokes=p.signature.strokes, signature_points=p.signature.points,
        signature_width=p.signature.width, signature_height=p.signature.height,
        signature_stroke_data=p.signature_strokes, received_at=ctx.now,
    ))
    db.flush()
    # The new history reaches the site's other kiosks with the patient.
    schedule.touch_patient(db, p.patient_id.lower(), ctx.now.date())


def check_deferred(db: Session, ctx: ApplyContext, p: ConsentDeferred) -> None:
    check_visit(db, ctx, p.patient_id, p.appointment_id)
    known_document(db, ctx, p.document)


def apply_deferred(db: Session, ctx: ApplyContext, p: ConsentDeferred) -> None:
    doc = known_document(db, ctx, p.document)
    at = ctx.created_at or ctx.now
    db.add(PatientConsent(
        id=resource_id(ctx.device_id, ctx.event_id, "Consent"), site_id=ctx.site_id,
        device_id=ctx.device_id, event_id=ctx.event_id, patient_id=p.patient_id.lower(),
        appointment_id=p.appointment_id.lower(), document_id=doc.id, document_version=doc.version,
        document_language=doc.language, document_sha256=doc.sha256, status=DEFERRED, deferred_reason=p.reason,
        at=at, day=site_day(db, ctx, at), received_at=ctx.now,
    ))
