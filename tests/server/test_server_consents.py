"""consent.signed / consent.deferred and the consent documents behind them: only a text
the practice published or served is accepted; a signature is a valid FHIR R4 Consent
and counts in the patient's history."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from fhir.resources.R4B.consent import Consent
from sqlalchemy import func, select

from intake_samples import consent_deferred, consent_signed, document_ref, png_bytes
from practice_server import admin, consent_documents, fhir_resources
from practice_server.models import ConsentDocument, PatientConsent
from server_helpers import add_schedule, backdate_changes, site_today
from sync_protocol.consent_hash import consent_sha256, consent_text


@pytest.fixture
def appointments(server, site):
    with server.sessions.begin() as db:
        return add_schedule(db, site.id, [site_today()], per_day=3)


def default(document_id: str) -> dict:
    return next(d for d in consent_documents.default_documents() if d["id"] == document_id)


def clinic_document(version: str = "1", body: str = "Sign to agree to our own rules.", kind: str = "treatment"):
    return {"id": "northside-rules", "kind": kind, "version": version,
            "title": {"en": "Northside rules", "es": "Reglas de Northside"},
            "body": {"en": body, "es": "Firme para aceptar nuestras reglas."}}


def consents(server) -> list[PatientConsent]:
    with server.sessions() as db:
        return list(db.scalars(select(PatientConsent)))


def fhir_consent(server, row: PatientConsent) -> dict:
    with server.sessions() as db:
        document = db.get(ConsentDocument, (row.document_id, row.document_version, row.document_language))
        return fhir_resources.consent(row, document)


def test_the_shared_hash_is_sha256_of_title_blank_line_body():
    assert consent_text("T", "B") == "T\n\nB"
    assert consent_sha256("Título", "Cuerpo") == hashlib.sha256("Título\n\nCuerpo".encode()).hexdigest()


@pytest.mark.parametrize("document_id, scope", [("hipaa-notice", "patient-privacy"),
                                                ("treatment-consent", "treatment"),
                                                ("financial-policy", "financial")])
def test_a_signature_on_a_default_document_is_a_valid_fhir_consent(server, kiosk, appointments, document_id,
                                                                   scope):
    a = appointments[0]
    png = png_bytes()
    signed_at = datetime(2025, 5, 1, 14, 45, 0, tzinfo=UTC)
    e = consent_signed(a, default(document_id), "es", png=png, signed_at=signed_at)
    assert kiosk.push(e) == [{"id": e["id"], "status": "accepted", "reason": None}]
    assert kiosk.push(e)[0]["status"] == "duplicate"
    [row] = consents(server)
    assert (row.status, row.document_id, row.document_language, row.signature_png) == ("signed", document_id, "es", png)
    resource = fhir_consent(server, row)
    Consent.model_validate(resource)  # raises when not valid R4(B)
    assert resource["status"] == "active"
    assert resource["scope"]["coding"][0]["code"] == scope
    assert resource["category"][0]["coding"][0] == {"system": "http://loinc.org", "code": "59284-0",
                                                    "display": "Patient Consent"}
    assert resource["patient"] == {"reference": f"Patient/{a['patient_id']}"}
    assert resource["dateTime"] == signed_at.isoformat()
    attachment = resource["sourceAttachment"]
    assert attachment["contentType"] == "image/png" and base64.b64decode(attachment["data"]) == png
    assert attachment["hash"] == base64.b64encode(hashlib.sha1(png).digest()).decode()
    assert attachment["size"] == len(png) and attachment["creation"] == signed_at.isoformat()
    rule = resource["policyRule"]["coding"][0]
    assert (rule["code"], rule["version"]) == (document_id, default(document_id)["version"])
    sha = {x["url"]: x for x in resource["extension"]}[fhir_resources.DOCUMENT_SHA256_EXTENSION]
    assert sha["valueString"] == document_ref(default(document_id), "es")["sha256"]


def test_a_signature_is_in_the_history_of_every_kiosk(server, site, kiosk, appointments):
    other = server.kiosk(site.id, "kiosk-2")
    with server.sessions.begin() as db:
        backdate_changes(db)
    _, cursor, _ = other.pull_all()
    a = appointments[0]
    doc = default("hipaa-notice")
    kiosk.push(consent_signed(a, doc, signed_at=datetime(2025, 5, 2, 3, 0, tzinfo=UTC)))  # May 1st in Chicago
    seen, _, _ = other.pull_all(cursor)
    assert seen["patients"][a["patient_id"]]["history"] == {f"consent:hipaa-notice@{doc['version']}": "2025-05-01"}


def test_an_unknown_text_is_refused_with_the_documents_id_version_and_language(server, kiosk, appointments):
    doc = default("hipaa-notice")
    e = consent_signed(appointments[0], doc, "es")
    e["payload"]["document"]["sha256"] = consent_sha256(doc["title"]["es"], doc["body"]["es"] + " (edited)")
    result = kiosk.push(e)[0]
    assert result["status"] == "rejected"
    assert result["reason"] == (f"consent document hipaa-notice version {doc['version']} (es) "
                                "is not one this practice published")
    unknown_version = consent_signed(appointments[0], {**doc, "version": "1999-01"})
    assert "version 1999-01 (en) is not one this practice published" in kiosk.push(unknown_version)[0]["reason"]
    assert consents(server) == []


def test_a_signature_on_another_clinics_unpublished_document_is_refused(server, kiosk, appointments):
    result = kiosk.push(consent_signed(appointments[0], clinic_document()))[0]
    assert result["status"] == "rejected" and "northside-rules version 1 (en)" in result["reason"]


def test_published_documents_are_served_and_an_older_version_stays_signable(server, site, kiosk, appointments):
    now = datetime.now(UTC)
    with server.sessions.begin() as db:
        admin.publish_consent_documents(db, site.id, [clinic_document("1")], now)
    served = kiosk.get("/api/v1/bundles/consents").json()["items"]
    assert [(d["id"], d["version"]) for d in served] == [("northside-rules", "1")]
    with server.sessions.begin() as db:
        admin.publish_consent_documents(db, site.id, [clinic_document("2", "New rules.")], now)
    assert kiosk.get("/api/v1/bundles/consents").json()["items"][0]["version"] == "2"
    # A kiosk offline since version 1 was served: its signature is still good.
    results = kiosk.push(consent_signed(appointments[0], clinic_document("1")),
                         consent_signed(appointments[1], clinic_document("2", "New rules."), "es"))
    assert [r["status"] for r in results] == ["accepted", "accepted"]
    row = next(r for r in consents(server) if r.document_version == "1")
    Consent.model_validate(fhir_consent(server, row))


def test_publishing_other_text_under_a_known_version_is_refused(server, site):
    with server.sessions.begin() as db:
        admin.publish_consent_documents(db, site.id, [clinic_document("1")], datetime.now(UTC))
    with pytest.raises(ValueError, match="northside-rules version 1 .* new version"):
        with server.sessions.begin() as db:
            admin.publish_consent_documents(db, site.id, [clinic_document("1", "Changed!")], datetime.now(UTC))


@pytest.mark.parametrize("documents, words", [
    ("not a list", "list"),
    ([{"id": "x"}], "kind"),
    ([clinic_document() | {"title": {"es": "Solo"}, "body": {"es": "español"}}], "English"),
    ([clinic_document(), clinic_document("2")], "twice"),
])
def test_malformed_documents_are_refused_when_published(server, site, documents, words):
    with pytest.raises(ValueError, match=words):
        with server.sessions.begin() as db:
            admin.publish_consent_documents(db, site.id, documents, datetime.now(UTC))


def test_serving_the_defaults_registers_them(server, kiosk):
    r = kiosk.get("/api/v1/bundles/consents")
    assert r.status_code == 200
    assert r.json()["items"] == consent_documents.default_documents()
    expected = {(t.id, t.version, t.language, t.sha256) for t in consent_documents.texts(r.json()["items"])}
    registered = set(server.rows(select(ConsentDocument.id, ConsentDocument.version, ConsentDocument.language,
                                        ConsentDocument.sha256)))
    assert registered == expected
    again = kiosk.get("/api/v1/bundles/consents", headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304


def test_a_deferred_consent_is_stored_without_a_consent_resource_or_history(server, kiosk, appointments):
    a = appointments[0]
    e = consent_deferred(a, default("financial-policy"), "es")
    assert kiosk.push(e)[0]["status"] == "accepted"
    assert kiosk.push(e)[0]["status"] == "duplicate"
    [row] = consents(server)
    assert (row.status, row.deferred_reason, row.signature_png) == ("deferred", "front_desk", None)
    with pytest.raises(ValueError):
        fhir_consent(server, row)
    seen, _, _ = kiosk.pull_all()
    assert seen["patients"][a["patient_id"]]["history"] == {}
    bad = consent_deferred(a, default("financial-policy"))
    bad["payload"]["reason"] = "later"
    assert kiosk.push(bad)[0]["status"] == "rejected"


@pytest.mark.parametrize("png, words", [
    ("not base64!!", "signature_png is not valid base64"),
    (base64.b64encode(b"GIF89a" + b"\0" * 100).decode(), "signature_png is not a PNG image"),
    (base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * (300 * 1024)).decode(), "signature_png is over"),
])
def test_a_bad_signature_image_is_refused(server, kiosk, appointments, png, words):
    e = consent_signed(appointments[0], default("hipaa-notice"))
    e["payload"]["signature_png"] = png
    result = kiosk.push(e)[0]
    assert result["status"] == "rejected" and words in result["reason"], result


def test_other_sites_appointment_and_wrong_patient_are_refused(server, kiosk, appointments):
    other_site = server.site("Southside Clinic")
    with server.sessions.begin() as db:
        elsewhere = add_schedule(db, other_site.id, [site_today()], per_day=1, tag="S")[0]
    doc = default("hipaa-notice")
    wrong_patient = consent_signed(appointments[0], doc)
    wrong_patient["payload"]["patient_id"] = appointments[1]["patient_id"]
    results = kiosk.push(consent_signed(elsewhere, doc), wrong_patient)
    assert [r["status"] for r in results] == ["rejected", "rejected"]
    assert "at this kiosk's site" in results[0]["reason"] and "is not for patient" in results[1]["reason"]
    assert server.scalar(select(func.count()).select_from(PatientConsent)) == 0


def test_the_kiosks_stroke_data_is_optional_and_kept(server, kiosk, appointments):
    strokes = '{"format":1,"width":600,"height":200,"strokes":[[[10.0,20.5],[30.0,40.0]]]}'
    e = consent_signed(appointments[0], default("hipaa-notice"), signature_strokes=strokes)
    assert kiosk.push(e)[0]["status"] == "accepted"
    assert consents(server)[0].signature_stroke_data == strokes
    for bad in ("not json", '{"format": 1}', "[1, 2]"):
        result = kiosk.push(consent_signed(appointments[0], default("hipaa-notice"), signature_strokes=bad))[0]
        assert result["status"] == "rejected" and "signature_strokes" in result["reason"]


@pytest.mark.parametrize("field", ["document", "signed_at", "signature_png", "signature", "patient_id"])
def test_missing_fields_are_refused(server, kiosk, appointments, field):
    e = consent_signed(appointments[0], default("hipaa-notice"))
    del e["payload"][field]
    result = kiosk.push(e)[0]
    assert result["status"] == "rejected" and field in result["reason"]


@pytest.mark.parametrize("change, field", [
    ({"signed_at": (datetime.now() - timedelta(minutes=1)).isoformat()}, "signed_at"),
    ({"signature": {"strokes": "3", "points": 1, "width": 1, "height": 1}}, "signature.strokes"),
    ({"document": {"id": "hipaa-notice", "version": "1", "language": "en", "title": "t", "sha256": "abc"}},
     "document.sha256"),
])
def test_bad_fields_are_refused(server, kiosk, appointments, change, field):
    e = consent_signed(appointments[0], default("hipaa-notice"))
    e["payload"].update(change)
    result = kiosk.push(e)[0]
    assert result["status"] == "rejected" and field in result["reason"], result
