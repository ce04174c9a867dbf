"""FHIR R4 resources built from what the kiosks sent (for the EHR and the dashboard).

- QuestionnaireResponse  <- form_responses (items exactly as the kiosk sent them)
- Consent                <- patient_consents with status signed (the signature is the
                            sourceAttachment; the document is policyRule, and its SHA-256
                            an extension)
- DocumentReference      <- insurance_cards with an image (LOINC 64290-0)

They are built from the stored rows on demand, so a row's later status change (a card
superseded by a newer photo) shows in its resource. The appointment a resource came
from: DocumentReference.context.related is Reference(Any) in R4 and holds it there;
QuestionnaireResponse and Consent have no element for an appointment (their
`encounter` would need an Encounter the practice does not keep), so they carry it in
the extension APPOINTMENT_EXTENSION (valueReference Appointment/<id>).
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import ConsentDocument, FormResponse, InsuranceCard, PatientConsent

BASE = "http://clinic-kiosk.example/fhir"
APPOINTMENT_EXTENSION = f"{BASE}/StructureDefinition/appointment"
DOCUMENT_SHA256_EXTENSION = f"{BASE}/StructureDefinition/consent-document-sha256"
CONSENT_DOCUMENT_SYSTEM = f"{BASE}/CodeSystem/consent-document"
LOINC = "http://loinc.org"
CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
# R4's consent scopes have no financial one (the binding is extensible): our own code.
KIOSK_CONSENT_SCOPE = f"{BASE}/CodeSystem/consent-scope"
SCOPES: dict[str, dict[str, Any]] = {
    "privacy": {"coding": [{"system": CONSENT_SCOPE, "code": "patient-privacy", "display": "Privacy Consent"}]},
    "treatment": {"coding": [{"system": CONSENT_SCOPE, "code": "treatment", "display": "Treatment"}]},
    "financial": {"coding": [{"system": KIOSK_CONSENT_SCOPE, "code": "financial",
                              "display": "Financial responsibility"}],
                  "text": "Financial responsibility"},
}


def _instant(at: datetime) -> str:
    return at.isoformat()


def _patient(patient_id: str) -> dict[str, str]:
    return {"reference": f"Patient/{patient_id}"}


def _appointment_extension(appointment_id: str) -> dict[str, Any]:
    return {"url": APPOINTMENT_EXTENSION, "valueReference": {"reference": f"Appointment/{appointment_id}"}}


def sha1_base64(data: bytes) -> str:
    """FHIR Attachment.hash: the base64 of the SHA-1 of the data."""
    return base64.b64encode(hashlib.sha1(data).digest()).decode()  # noqa: S324 - FHIR R4 prescribes SHA-1


def questionnaire_response(row: FormResponse) -> dict[str, Any]:
    canonical = row.questionnaire_url + (f"|{row.questionnaire_version}" if row.questionnaire_version else "")
    resource: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": row.id,
        "language": row.language,
        "extension": [_appointment_extension(row.appointment_id)],
        "questionnaire": canonical,
        "status": row.status,
        "subject": _patient(row.patient_id),
        "authored": _instant(row.authored),
    }
    items = json.loads(row.items)
    if items:
        resource["item"] = items
    return resource


def consent(row: PatientConsent, document: ConsentDocument) -> dict[str, Any]:
    if row.status != "signed" or row.signature_png is None:
        raise ValueError(f"consent {row.id} was not signed: it has no FHIR Consent")
    png = row.signature_png
    return {
        "resourceType": "Consent",
        "id": row.id,
        "language": row.document_language,
        "extension": [
            _appointment_extension(row.appointment_id),
            {"url": DOCUMENT_SHA256_EXTENSION, "valueString": row.document_sha256},
        ],
        "status": "active",
        "scope": SCOPES[document.kind],
        "category": [{"coding": [{"system": LOINC, "code": "59284-0", "display": "Patient Consent"}]}],
        "patient": _patient(row.patient_id),
        "dateTime": _instant(row.at),
        "performer": [_patient(row.patient_id)],
        "sourceAttachment": {
            "contentType": "image/png",
            "data": base64.b64encode(png).decode(),
            "size": len(png),
            "hash": sha1_base64(png),
            "title": f"Signature: {document.title}",
            "creation": _instant(row.at),
        },
        "policyRule": {
            "coding": [{"system": CONSENT_DOCUMENT_SYSTEM, "version": row.document_version,
                        "code": row.document_id, "display": document.title}],
            "text": f"{row.document_id} version {row.document_version} ({row.document_language})",
        },
        "provision": {"type": "permit"},
    }


def document_reference(row: InsuranceCard) -> dict[str, Any]:
    if row.image_jpeg is None or row.side is None:
        raise ValueError(f"insurance card record {row.id} has no image: it has no DocumentReference")
    image = row.image_jpeg
    return {
        "resourceType": "DocumentReference",
        "id": row.id,
        "status": row.status,  # current or superseded
        "type": {"coding": [{"system": LOINC, "code": "64290-0", "display": "Health insurance card"}],
                 "text": "Insurance card"},
        "subject": _patient(row.patient_id),
        "date": _instant(row.at),
        "description": f"Insurance card, {row.side}",
        "content": [{"attachment": {
            "contentType": "image/jpeg",
            "data": base64.b64encode(image).decode(),
            "size": len(image),
            "hash": sha1_base64(image),
            "title": f"insurance-card-{row.side}.jpg",
            "creation": _instant(row.at),
        }}],
        "context": {"related": [{"reference": f"Appointment/{row.appointment_id}"}]},
    }


def for_patient(db: Session, patient_id: str) -> list[dict[str, Any]]:
    """Every resource kept for the patient: responses, signed consents, card images."""
    out = [questionnaire_response(r) for r in db.scalars(
        select(FormResponse).where(FormResponse.patient_id == patient_id).order_by(FormResponse.authored))]
    signed = db.execute(
        select(PatientConsent, ConsentDocument)
        .join(ConsentDocument, (ConsentDocument.id == PatientConsent.document_id)
              & (ConsentDocument.version == PatientConsent.document_version)
              & (ConsentDocument.language == PatientConsent.document_language))
        .where(PatientConsent.patient_id == patient_id, PatientConsent.status == "signed")
        .order_by(PatientConsent.at))
    out += [consent(row, document) for row, document in signed]
    out += [document_reference(r) for r in db.scalars(
        select(InsuranceCard).where(InsuranceCard.patient_id == patient_id, InsuranceCard.image_jpeg.is_not(None))
        .order_by(InsuranceCard.at))]
    return out


# -- the schedule and the people (fhir_api.py) ---------------------------------------------

ARRIVED_AT_EXTENSION = f"{BASE}/StructureDefinition/arrived-at"
CARD_IMAGES_EXTENSION = f"{BASE}/StructureDefinition/insurance-card-image"
# Our statuses -> R4 Appointment.status. "seen" is set when staff mark the patient roomed:
# the encounter may begin, which is R4's checked-in.
APPOINTMENT_STATUS = {"booked": "booked", "arrived": "arrived", "seen": "checked-in", "cancelled": "cancelled"}


def appointment(row, patient_name: str, clinician_name: str, timezone: str) -> dict[str, Any]:
    from zoneinfo import ZoneInfo

    start = row.start.replace(tzinfo=ZoneInfo(timezone))
    resource: dict[str, Any] = {
        "resourceType": "Appointment",
        "id": row.id,
        "meta": {"lastUpdated": _instant(row.changed_at)},
        "status": APPOINTMENT_STATUS.get(row.status, "booked"),
        "appointmentType": {"text": row.visit_type.replace("_", " ")},
        "start": start.isoformat(),
        "participant": [
            {"actor": {"reference": f"Patient/{row.patient_id}", "display": patient_name}, "status": "accepted"},
            {"actor": {"reference": f"Practitioner/{row.clinician_id}", "display": clinician_name},
             "status": "accepted"},
        ],
    }
    if row.arrived_at is not None:
        resource["extension"] = [{"url": ARRIVED_AT_EXTENSION, "valueDateTime": _instant(row.arrived_at)}]
    return resource


def patient(row) -> dict[str, Any]:
    """With the contact details as the patient last confirmed them at the kiosk."""
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": row.id,
        "meta": {"lastUpdated": _instant(row.updated_at)},
        "name": [{"family": row.last_name, "given": row.first_name.split()}],
        "birthDate": row.birth_date.isoformat(),
        "communication": [{"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": row.language}]},
                           "preferred": True}],
    }
    telecom = [{"system": "phone", "value": row.phone, "use": "mobile"}] if row.phone else []
    telecom += [{"system": "email", "value": row.email}] if row.email else []
    if telecom:
        resource["telecom"] = telecom
    if row.street or row.city or row.postal_code:
        address = {"line": [row.street] if row.street else None, "city": row.city or None,
                   "state": row.state or None, "postalCode": row.postal_code or None}
        resource["address"] = [{k: v for k, v in address.items() if v}]
    return resource


def coverage(patient_id: str, card_ids: list[str]) -> dict[str, Any]:
    """What the insurance card step tells: the patient has a card, photographed. The kiosk
    reads no payer or member number off it, so the Coverage is a draft for the practice
    to complete from the photos (linked), and its payor says so instead of guessing."""
    return {
        "resourceType": "Coverage",
        "id": f"cov-{patient_id}",
        "extension": [{"url": CARD_IMAGES_EXTENSION, "valueReference": {"reference": f"DocumentReference/{i}"}}
                      for i in card_ids],
        "status": "draft",
        "beneficiary": _patient(patient_id),
        "payor": [{"display": "Not entered yet: read it from the insurance card photos"}],
    }


def consent_document(row: PatientConsent, document: ConsentDocument) -> dict[str, Any]:
    """A signed consent as a document (the signature image), next to the Consent itself."""
    if row.status != "signed" or row.signature_png is None:
        raise ValueError(f"consent {row.id} was not signed: it has no document")
    png = row.signature_png
    return {
        "resourceType": "DocumentReference",
        "id": row.id,
        "status": "current",
        "type": {"coding": [{"system": LOINC, "code": "59284-0", "display": "Patient Consent"}],
                 "text": document.title},
        "subject": _patient(row.patient_id),
        "date": _instant(row.at),
        "description": f"Signed: {document.title} (version {row.document_version}, {row.document_language})",
        "content": [{"attachment": {"contentType": "image/png", "data": base64.b64encode(png).decode(),
                                    "size": len(png), "hash": sha1_base64(png),
                                    "title": f"consent-{row.document_id}.png", "creation": _instant(row.at)}}],
        "context": {"related": [{"reference": f"Appointment/{row.appointment_id}"},
                                {"reference": f"Consent/{row.id}"}]},
    }
