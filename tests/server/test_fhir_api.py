"""The FHIR R4 read API: client credentials, scopes and revocation; every resource type
searched by date, patient and status, paged, and valid against fhir.resources' R4B
models; reads by id; refusals as OperationOutcomes; audited without patient data."""

from __future__ import annotations

import base64
import logging
from datetime import UTC, datetime, timedelta

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.operationoutcome import OperationOutcome
from sqlalchemy import select

from intake_samples import card_captured, consent_signed, form_response
from practice_server import consent_documents, fhir_clients
from practice_server.models import AuditEntry
from server_helpers import add_schedule, arrived, event, site_today


def client(server, scopes=("system/*.read",)) -> tuple[str, str]:
    with server.sessions.begin() as db:
        return fhir_clients.add(db, "Test EHR interface", list(scopes), datetime.now(UTC))


def token(server, client_id, secret, **form) -> str:
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    r = server.client.post("/fhir/R4/auth/token", data={"grant_type": "client_credentials", **form},
                           headers={"Authorization": f"Basic {basic}"})
    assert r.status_code == 200, r.text
    assert r.json()["token_type"] == "Bearer" and r.json()["expires_in"] == 300
    return r.json()["access_token"]


@pytest.fixture
def visit(server, site, kiosk):
    """Today's schedule; the first patient checked in, changed their phone, answered the
    PHQ-9, signed a consent and photographed their card."""
    with server.sessions.begin() as db:
        appointments = add_schedule(db, site.id, [site_today(), site_today() + timedelta(days=1)], per_day=2)
    a = appointments[0]
    document = consent_documents.default_documents()[0]
    results = kiosk.push(
        arrived(a), event("patient.contact_changed", {"patient_id": a["patient_id"],
                                                     "changes": {"phone": "(555) 201-3344"}}),
        form_response(a), consent_signed(a, document), card_captured(a, "front"), card_captured(a, "back"))
    assert {r["status"] for r in results} == {"accepted"}, results
    return appointments


def get(server, bearer, path, status=200):
    r = server.client.get(path, headers={"Authorization": f"Bearer {bearer}"})
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/fhir+json")
    return r.json()


def test_every_type_answers_valid_r4_bundles(server, visit, caplog):
    caplog.set_level(logging.INFO)
    bearer = token(server, *client(server))
    a = visit[0]
    expected = {"Appointment": 4, "Patient": 4, "QuestionnaireResponse": 1, "Consent": 1, "Coverage": 1,
                "DocumentReference": 3}
    for resource, count in expected.items():
        bundle = get(server, bearer, f"/fhir/R4/{resource}")
        Bundle.model_validate(bundle)  # every entry's resource is validated by its own model too
        assert bundle["total"] == count, resource
        assert {e["resource"]["resourceType"] for e in bundle["entry"]} == {resource}
    patient = get(server, bearer, f"/fhir/R4/Patient/{a['patient_id']}")
    assert {"system": "phone", "value": "(555) 201-3344", "use": "mobile"} in patient["telecom"]
    coverage = get(server, bearer, f"/fhir/R4/Coverage/cov-{a['patient_id']}")
    assert coverage["status"] == "draft" and len(coverage["extension"]) == 2  # both card sides linked
    logged = "\n".join(str(r.__dict__) for r in caplog.records)
    assert "ZyxPat" not in logged and "(555) 201-3344" not in logged


def test_search_by_date_patient_and_status(server, visit):
    bearer = token(server, *client(server))
    today, tomorrow = site_today(), site_today() + timedelta(days=1)
    a = visit[0]
    assert get(server, bearer, f"/fhir/R4/Appointment?date={today}")["total"] == 2
    assert get(server, bearer, f"/fhir/R4/Appointment?date=ge{tomorrow}")["total"] == 2
    assert get(server, bearer, f"/fhir/R4/Appointment?date=lt{today}")["total"] == 0
    arrived_only = get(server, bearer, f"/fhir/R4/Appointment?status=arrived&date={today}")
    assert [e["resource"]["id"] for e in arrived_only["entry"]] == [a["id"]]
    assert arrived_only["entry"][0]["resource"]["status"] == "arrived"
    mine = get(server, bearer, f"/fhir/R4/DocumentReference?patient=Patient/{a['patient_id']}")
    assert sorted(e["resource"]["type"]["coding"][0]["code"] for e in mine["entry"]) == ["59284-0", "64290-0", "64290-0"]
    other = get(server, bearer, f"/fhir/R4/QuestionnaireResponse?patient={visit[1]['patient_id']}")
    assert other["total"] == 0 and not other.get("entry")
    # The sample response was authored on 2025-05-01 (intake_samples.qr).
    assert get(server, bearer, "/fhir/R4/QuestionnaireResponse?status=completed&authored=2025-05-01")["total"] == 1
    assert get(server, bearer, "/fhir/R4/QuestionnaireResponse?authored=gt2025-05-01")["total"] == 0


def test_paging_follows_next_links_to_every_match(server, visit):
    bearer = token(server, *client(server))
    seen, url = [], "/fhir/R4/Appointment?_count=3"
    while url:
        bundle = get(server, bearer, url)
        seen += [e["resource"]["id"] for e in bundle["entry"]]
        url = next((link["url"].replace("http://testserver", "") for link in bundle["link"]
                    if link["relation"] == "next"), None)
    assert len(seen) == len(set(seen)) == 4


def test_unknown_parameters_and_bad_dates_are_refused_plainly(server, visit):
    bearer = token(server, *client(server))
    bad = get(server, bearer, "/fhir/R4/Appointment?practitioner=x", status=400)
    OperationOutcome.model_validate(bad)
    assert "cannot be searched by practitioner" in bad["issue"][0]["diagnostics"]
    assert "use a date YYYY-MM-DD" in get(server, bearer, "/fhir/R4/Appointment?date=tomorrow",
                                          status=400)["issue"][0]["diagnostics"]
    assert get(server, bearer, "/fhir/R4/Observation", status=404)["issue"][0]["code"] == "not-supported"
    assert get(server, bearer, "/fhir/R4/Patient/no-such-patient", status=404)["issue"][0]["code"] == "not-found"


def test_tokens_scopes_expiry_and_revocation(server, visit):
    client_id, secret = client(server, scopes=("system/Appointment.read",))
    bad = server.client.post("/fhir/R4/auth/token", data={"grant_type": "client_credentials",
                                                          "client_id": client_id, "client_secret": "guess"})
    assert bad.status_code == 401 and bad.json()["error"] == "invalid_client"
    assert server.client.post("/fhir/R4/auth/token", data={
        "grant_type": "client_credentials", "client_id": client_id, "client_secret": secret,
        "scope": "system/*.read"}).status_code == 401  # more than it was given
    bearer = token(server, client_id, secret)
    get(server, bearer, "/fhir/R4/Appointment")
    assert get(server, bearer, "/fhir/R4/Patient", status=403)["issue"][0]["code"] == "forbidden"
    assert server.client.get("/fhir/R4/Appointment").status_code == 401  # no token at all
    server.clock.pinned = datetime.now(UTC) + timedelta(minutes=6)
    assert get(server, bearer, "/fhir/R4/Appointment", status=401)["issue"][0]["code"] == "login"
    server.clock.pinned = None
    bearer = token(server, client_id, secret)
    with server.sessions.begin() as db:
        fhir_clients.revoke(db, client_id, datetime.now(UTC))
    get(server, bearer, "/fhir/R4/Appointment", status=401)
    audited = server.rows(select(AuditEntry.action, AuditEntry.code, AuditEntry.fhir_client)
                          .where(AuditEntry.action.like("fhir.%")))
    assert ("fhir.search", "Appointment:4", client_id) in [tuple(r) for r in audited]
    assert any(a == "fhir.token_refused" for a, _c, _f in audited)


def test_the_capability_statement_needs_no_token(server):
    body = server.client.get("/fhir/R4/metadata").json()
    CapabilityStatement.model_validate(body)
    assert {r["type"] for r in body["rest"][0]["resource"]} == set(fhir_clients.RESOURCES)


def test_it_adds_lists_and_revokes_clients_from_the_command_line(tmp_path, capsys):
    from practice_server.__main__ import main

    url = f"sqlite:///{tmp_path / 'p.db'}"
    assert main(["fhir-client", "add", "Epic bridge", "--scope", "system/Appointment.read", "--database", url]) == 0
    out = capsys.readouterr().out
    client_id = out.split("client_id: ")[1].split()[0]
    assert "client_secret: " in out
    assert main(["fhir-client", "add", "Bad", "--scope", "system/*.write", "--database", url]) == 2
    assert "scopes must be some of" in capsys.readouterr().err
    assert main(["fhir-client", "revoke", client_id, "--database", url]) == 0
    assert main(["fhir-client", "list", "--database", url]) == 0
    assert "REVOKED" in capsys.readouterr().out
    assert main(["fhir-client", "revoke", "ehr-nope", "--database", url]) == 2
