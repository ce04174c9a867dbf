"""Several workers pushing the same batch of intake events at once: each event is accepted
by exactly one push and has exactly one effect (one row each)."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime

from sqlalchemy import func, select

from intake_samples import alert, card_captured, consent_signed, form_response, step
from practice_server import consent_documents
from practice_server.models import Alert, FormResponse, InsuranceCard, PatientConsent, StepEvent
from server_helpers import add_schedule, site_today


def count(server, model) -> int:
    return server.scalar(select(func.count()).select_from(model))


def test_racing_pushes_of_one_batch_store_each_effect_once(server, site, kiosk):
    with server.sessions.begin() as db:
        appointments = add_schedule(db, site.id, [site_today()], per_day=3)
    hipaa = next(d for d in consent_documents.default_documents() if d["id"] == "hipaa-notice")
    batch = []
    for a in appointments:
        batch += [alert(a, str(uuid.uuid4())), form_response(a, urgent=True), consent_signed(a, hipaa),
                  card_captured(a, "front"), step("forms", "completed", created_at=datetime.now(UTC))]
    barrier = threading.Barrier(3)
    answers: list[list[str]] = []

    def push():
        barrier.wait()
        r = kiosk.post("/api/v1/events", {"events": batch})
        assert r.status_code == 200, r.text[:300]
        answers.append([x["status"] for x in r.json()["results"]])

    threads = [threading.Thread(target=push) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(answers) == 3
    for i in range(len(batch)):
        assert sorted(a[i] for a in answers) == ["accepted", "duplicate", "duplicate"]
    n = len(appointments)
    assert [count(server, m) for m in (Alert, FormResponse, PatientConsent, InsuranceCard, StepEvent)] == [n] * 5


def test_every_resource_kept_for_a_patient_is_valid_fhir(server, site, kiosk):
    from fhir.resources.R4B.consent import Consent
    from fhir.resources.R4B.documentreference import DocumentReference
    from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

    from practice_server import fhir_resources

    with server.sessions.begin() as db:
        a = add_schedule(db, site.id, [site_today()], per_day=1)[0]
    documents = consent_documents.default_documents()
    kiosk.push(form_response(a), form_response(a, status="in-progress"), card_captured(a, "front"),
               *[consent_signed(a, d, "es") for d in documents])
    with server.sessions() as db:
        resources = fhir_resources.for_patient(db, a["patient_id"])
    models = {"QuestionnaireResponse": QuestionnaireResponse, "Consent": Consent,
              "DocumentReference": DocumentReference}
    assert sorted(r["resourceType"] for r in resources) == sorted(
        ["QuestionnaireResponse"] * 2 + ["Consent"] * len(documents) + ["DocumentReference"])
    for resource in resources:
        models[resource["resourceType"]].model_validate(resource)
        assert resource["id"] and resource["resourceType"] in models
