"""What a patient already did, for the kiosk to skip it: the schedule pull's `history`.

    {"form:<questionnaire url>": "YYYY-MM-DD",        # last completed response
     "consent:<document id>@<version>": "YYYY-MM-DD"}  # last signature of that version

Dates are the clinic's local days. In-progress responses and deferred consents do
not count. The history is the patient's, whichever site it happened at.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .models import FormResponse, PatientConsent


def form_key(questionnaire_url: str) -> str:
    return f"form:{questionnaire_url}"


def consent_key(document_id: str, version: str) -> str:
    return f"consent:{document_id}@{version}"


def histories(db: Session, patient_ids: list[str]) -> dict[str, dict[str, str]]:
    """patient id -> history (every id given gets one, empty when there is nothing)."""
    out: dict[str, dict[str, str]] = {pid: {} for pid in patient_ids}
    if not patient_ids:
        return out
    f = FormResponse
    forms = db.execute(
        select(f.patient_id, f.questionnaire_url, func.max(f.day))
        .where(f.patient_id.in_(patient_ids), f.status == "completed")
        .group_by(f.patient_id, f.questionnaire_url)
    )
    for patient_id, url, day in forms:
        out[patient_id][form_key(url)] = _iso(day)
    c = PatientConsent
    consents = db.execute(
        select(c.patient_id, c.document_id, c.document_version, func.max(c.day))
        .where(c.patient_id.in_(patient_ids), c.status == "signed")
        .group_by(c.patient_id, c.document_id, c.document_version)
    )
    for patient_id, document_id, version, day in consents:
        out[patient_id][consent_key(document_id, version)] = _iso(day)
    return out


def _iso(day: date | str) -> str:
    # SQLite hands back max() of a date column as text.
    return day if isinstance(day, str) else day.isoformat()
