"""Sample intake events as the kiosk sends them (synthetic data only), for the server tests."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

import cv2
import numpy as np

from server_helpers import event
from sync_protocol.consent_hash import consent_sha256

PHQ9 = "http://clinic-kiosk.example/fhir/Questionnaire/phq-9"


def jpeg_bytes(width: int = 320, height: int = 200, noise: bool = False, seed: int = 1) -> bytes:
    rng = np.random.default_rng(seed)
    if noise:  # noise compresses badly: a big file
        image = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    else:
        image = np.full((height, width, 3), 200, dtype=np.uint8)
        cv2.rectangle(image, (10, 10), (width - 10, height // 3), (90, 40, 20), -1)
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])
    assert ok
    return data.tobytes()


def png_bytes(width: int = 400, height: int = 120) -> bytes:
    image = np.full((height, width), 255, dtype=np.uint8)
    cv2.line(image, (20, height - 30), (width - 20, 30), 0, 3)
    ok, data = cv2.imencode(".png", image)
    assert ok
    return data.tobytes()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def qr(status: str = "completed", authored: str | None = "2025-05-01T09:41:00-05:00") -> dict[str, Any]:
    """A PHQ-9-like QuestionnaireResponse as kiosk/forms/answers.py builds it (no subject)."""
    response: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse", "status": status,
        "questionnaire": PHQ9 + "|1.0",
        "item": [
            {"linkId": "q1", "text": "Little interest or pleasure in doing things",
             "answer": [{"valueCoding": {"system": "http://loinc.org", "code": "LA6569-3",
                                         "display": "Several days"}}]},
            {"linkId": "grp", "item": [
                {"linkId": "q2", "answer": [{"valueInteger": 2}]},
                {"linkId": "q3", "answer": [{"valueBoolean": False}]},
            ]},
            {"linkId": "q9", "answer": [{"valueDecimal": 1.5}]},
            {"linkId": "q10", "answer": [{"valueDate": "2025-04-30"}, {"valueString": "otra"}]},
        ],
    }
    if authored:
        response["authored"] = authored
    return response


def form_response(appointment: dict, *, status: str = "completed", url: str = PHQ9,
                  response: dict | None = None, urgent: bool = False, **payload_changes) -> dict[str, Any]:
    payload = {
        "patient_id": appointment["patient_id"], "appointment_id": appointment["id"],
        "questionnaire": {"url": url, "version": "1.0", "title": "PHQ-9",
                          "codes": [{"system": "http://loinc.org", "code": "44249-1"}]},
        "status": status, "language": "es",
        "response": response if response is not None else qr(status),
        "score": {"total": 11, "band": "moderate", "flags": ["self_harm"] if urgent else [], "urgent": urgent},
        **payload_changes,
    }
    return event("form.response", payload)


def alert(appointment: dict, alert_id: str, **changes) -> dict[str, Any]:
    return event("alert.raised", {
        "alert_id": alert_id, "kind": "urgent_answer", "priority": "high",
        "patient_id": appointment["patient_id"], "appointment_id": appointment["id"],
        "questionnaire_url": PHQ9, "flags": ["self_harm"],
        "raised_at": datetime.now(UTC).isoformat(), **changes})


def document_ref(document: dict, language: str = "en") -> dict[str, Any]:
    title, body = document["title"][language], document["body"][language]
    return {"id": document["id"], "version": document["version"], "language": language, "title": title,
            "sha256": consent_sha256(title, body)}


def consent_signed(appointment: dict, document: dict, language: str = "en", *, png: bytes | None = None,
                   signed_at: datetime | None = None, **changes) -> dict[str, Any]:
    return event("consent.signed", {
        "patient_id": appointment["patient_id"], "appointment_id": appointment["id"],
        "document": document_ref(document, language),
        "signed_at": (signed_at or datetime.now(UTC)).isoformat(),
        "signature_png": b64(png if png is not None else png_bytes()),
        "signature": {"strokes": 3, "points": 240, "width": 400, "height": 120}, **changes})


def consent_deferred(appointment: dict, document: dict, language: str = "en") -> dict[str, Any]:
    return event("consent.deferred", {
        "patient_id": appointment["patient_id"], "appointment_id": appointment["id"],
        "document": document_ref(document, language), "reason": "front_desk"})


def card_captured(appointment: dict, side: str = "front", *, image: bytes | None = None,
                  captured_at: datetime | None = None, **changes) -> dict[str, Any]:
    return event("insurance_card.captured", {
        "patient_id": appointment["patient_id"], "appointment_id": appointment["id"], "side": side,
        "image_jpeg": b64(image if image is not None else jpeg_bytes()), "width": 320, "height": 200,
        "captured_at": (captured_at or datetime.now(UTC)).isoformat(), "capture": "auto",
        "sharpness": 143.5, **changes})


def card_skipped(appointment: dict, reason: str = "no_card") -> dict[str, Any]:
    return event("insurance_card.skipped", {
        "patient_id": appointment["patient_id"], "appointment_id": appointment["id"], "reason": reason})


def step(step: str, action: str, *, seconds: float = 4.0, language: str = "en", age_band: str | None = "40-64",
         visit_type: str | None = "follow_up", reason: str | None = None, created_at: datetime | None = None,
         session_id: str | None = None) -> dict[str, Any]:
    e = event("step.event", {"step": step, "action": action, "seconds": seconds, "language": language,
                             "age_band": age_band, "visit_type": visit_type, "reason": reason},
              session_id=session_id)
    if created_at is not None:
        e["created_at"] = created_at.isoformat()
    return e
