"""The intake end to end: forms, an urgent answer, a signed consent and card photos made by
the kiosk's own steps reach a real practice server through the real sync agent, are all
accepted (no dead letters: the kiosk and server agree on every payload), are kept as FHIR
R4 resources that validate, and come back as the patient's history in the schedule."""

from __future__ import annotations

from fhir.resources.R4B.consent import Consent
from fhir.resources.R4B.documentreference import DocumentReference
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
import pytest
from sqlalchemy import select

from kiosk.config import load_config
from kiosk.forms.selection import history_key
from kiosk.store import open_store
from practice_server import alerts, fhir_resources, patient_history
from practice_server import models as pm
from tests.e2e.harness import enrol_kiosk, start_server
from tests.e2e.kiosk_visits import DEMO, intake_visit, site_noon
from tests.e2e.practice_db import load_demo, server_rows
from tests.e2e.test_sync_end_to_end import run_agent

pytestmark = pytest.mark.slow
RESOURCE_MODELS = {"QuestionnaireResponse": QuestionnaireResponse, "Consent": Consent,
                   "DocumentReference": DocumentReference}


def test_an_intake_reaches_the_server_as_fhir_and_comes_back_as_history(tmp_path, database_url):
    load_demo(database_url)
    with start_server(tmp_path / "server", database_url, tls=True) as server:
        kiosk = enrol_kiosk(server, database_url, tmp_path / "kiosk", site_name="Demo Family Clinic")
        first = run_agent(kiosk.config_path, "--once")  # schedule, forms and consents bundles
        assert first.returncode == 0, first.stdout + first.stderr
        config = load_config(kiosk.config_path)
        noon = site_noon()
        maria = DEMO["maria"]
        with open_store(config.data_dir, config.key_file) as store:
            assert store.bundle("forms") is not None and store.bundle("consents") is not None
            patient_id = intake_visit(store, lambda: noon, maria.last_name, maria.birth_date, urgent=True)
            kinds = [e.event_type for e in store.outbox_pending(10_000)]
            assert kinds[0] == "alert.raised"  # the urgent alert goes first
            assert {"form.response", "consent.signed", "consent.deferred", "insurance_card.captured"} <= set(kinds)

        pushed = run_agent(kiosk.config_path, "--once")
        assert pushed.returncode == 0, pushed.stdout + pushed.stderr
        with open_store(config.data_dir, config.key_file) as store:
            assert store.outbox_pending(10) == []
            assert store.dead_letters() == [], [d.reason for d in store.dead_letters()]

        site_id = server_rows(database_url, select(pm.Device.site_id).where(pm.Device.id == kiosk.device_id))[0]
        [alert] = server_rows(database_url, lambda db: alerts.open_alerts(db, site_id))
        assert alert.flags == ["self-harm"] and alert.patient_id == patient_id
        resources = server_rows(database_url, lambda db: fhir_resources.for_patient(db, patient_id))
        by_type = {}
        for resource in resources:
            RESOURCE_MODELS[resource["resourceType"]].model_validate(resource)
            by_type.setdefault(resource["resourceType"], []).append(resource)
        assert len(by_type["DocumentReference"]) == 2  # front and back of the card
        assert len(by_type["Consent"]) == 1
        assert len(by_type["QuestionnaireResponse"]) >= 4  # intake, screening, PHQ-9, GAD-7
        assert {r["status"] for r in by_type["QuestionnaireResponse"]} == {"completed"}

        # The practice now knows what was done, and every kiosk learns it with the schedule.
        practice = server_rows(database_url, lambda db: patient_history.histories(db, [patient_id]))[patient_id]
        assert history_key("http://clinic-kiosk.example/fhir/Questionnaire/phq-9") in practice
        assert any(key.startswith("consent:hipaa-notice@") for key in practice)
        other = enrol_kiosk(server, database_url, tmp_path / "kiosk2", site_name="Demo Family Clinic")
        pulled = run_agent(other.config_path, "--once")
        assert pulled.returncode == 0, pulled.stdout + pulled.stderr
        other_config = load_config(other.config_path)
        with open_store(other_config.data_dir, other_config.key_file) as store:
            assert set(store.patient_history(patient_id)) == set(practice)
