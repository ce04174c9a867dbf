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
