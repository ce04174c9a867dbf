"""The kiosk's QR link: clear pages for expired, used, forged, unknown and revoked
invitations (TestClient; SQLite and PostgreSQL)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from sqlalchemy import select

from practice_server import admin
from practice_server.models import AuditEntry
from server_helpers import add_schedule, site_today
from tests.web.portal_steps import Enrolment, mint

BORN = date(1970, 1, 1)


@pytest.fixture
def appointment(server, site):
    with server.sessions.begin() as db:
        return add_schedule(db, site.id, [site_today()], per_day=1)[0]


def refusals(server) -> list[tuple[str, str | None]]:
    rows = server.rows(select(AuditEntry.code, AuditEntry.device_id)
                       .where(AuditEntry.action == "portal.refused").order_by(AuditEntry.id))
    return [tuple(r) for r in rows]


def test_an_expired_invitation(server, kiosk, appointment):
    text = mint(kiosk.key, kiosk.device_id, appointment["id"], expires_at=datetime.now(UTC) - timedelta(minutes=1))
    r = Enrolment(server.client).open(text)
    assert r.status_code == 410 and "This invitation has expired" in r.text
    assert "front desk" in r.text and "set-cookie" not in r.headers
    assert refusals(server) == [("expired", kiosk.device_id)]


def test_the_server_clock_decides_expiry(server, kiosk, appointment):
    text = mint(kiosk.key, kiosk.device_id, appointment["id"], expires_at=datetime.now(UTC) + timedelta(hours=1))
    server.clock.pinned = datetime.now(UTC) + timedelta(hours=2)
    assert Enrolment(server.client).open(text).status_code == 410


def test_a_used_invitation(server, kiosk, appointment):
    text = mint(kiosk.key, kiosk.device_id, appointment["id"])
    assert Enrolment(server.client).to_terms(text, BORN).accept_terms().status_code == 303
    server.client.cookies.clear()
    r = Enrolment(server.client).open(text)
    assert r.status_code == 410 and "This invitation was already used" in r.text
    assert refusals(server) == [("used", kiosk.device_id)]


def test_an_invitation_used_in_another_browser_meanwhile(server, kiosk, appointment):
    text = mint(kiosk.key, kiosk.device_id, appointment["id"])
    with TestClient(server.app) as other_client:
        waiting = Enrolment(other_client).to_terms(text, BORN)
        assert Enrolment(server.client).to_terms(text, BORN).accept_terms().status_code == 303
        r = waiting.accept_terms()
        assert r.status_code == 410 and "already used" in r.text
        assert waiting.get("terms").status_code == 410


def test_a_forged_invitation(server, kiosk, appointment):
    impostor = Ed25519PrivateKey.generate()
    r = Enrolment(server.client).open(mint(impostor, kiosk.device_id, appointment["id"]))
    assert r.status_code == 400 and "We cannot read this invitation" in r.text
    assert refusals(server) == [("forged", kiosk.device_id)]


@pytest.mark.parametrize("change", ["payload", "signature", "cut", "prefix"])
def test_a_changed_or_cut_invitation(server, kiosk, appointment, change):
    text = mint(kiosk.key, kiosk.device_id, appointment["id"])
    prefix, payload, signature = text.split(".")
    flip = {"A": "B"}.get(payload[5], "A")
    changed = {
        "payload": f"{prefix}.{payload[:5]}{flip}{payload[6:]}.{signature}",
        "signature": f"{prefix}.{payload}.{signature[:-8]}{'A' * 8 if signature[-8:] != 'A' * 8 else 'B' * 8}",
        "cut": text[: len(text) // 2],
        "prefix": f"XX9.{payload}.{signature}",
    }[change]
    r = Enrolment(server.client).open(changed)
    assert r.status_code == 400 and "We cannot read this invitation" in r.text
    assert refusals(server)[0][0] in ("forged", "malformed")


@pytest.mark.parametrize("text", ["", "hello", "PI1..", "x" * 5000, "PI1.ÄÖÜ.<script>"])
def test_garbage_gets_a_page_not_an_error(server, text):
    r = server.client.get("/portal/enrol", params={"i": text} if text else {})
    assert r.status_code == 400 and r.headers["content-type"].startswith("text/html")
    assert "<script>" not in r.text


def test_an_invitation_from_a_device_the_server_does_not_know(server, kiosk, appointment):
    r = Enrolment(server.client).open(mint(kiosk.key, str(uuid.uuid4()), appointment["id"]))
    assert r.status_code == 400 and "We cannot read this invitation" in r.text
    assert refusals(server)[0][0] == "unknown_device"


def test_an_invitation_from_a_revoked_kiosk(server, kiosk, appointment):
    text = mint(kiosk.key, kiosk.device_id, appointment["id"])
    with server.sessions.begin() as db:
        admin.revoke_device(db, kiosk.device_id, datetime.now(UTC), "stolen")
    r = Enrolment(server.client).open(text)
    assert r.status_code == 403 and "This invitation is no longer valid" in r.text
    assert refusals(server) == [("revoked", kiosk.device_id)]


def test_a_kiosk_revoked_during_the_enrolment(server, kiosk, appointment):
    browser = Enrolment(server.client)
    browser.open(mint(kiosk.key, kiosk.device_id, appointment["id"]))
    assert browser.birth_date(BORN).status_code == 303
    with server.sessions.begin() as db:
        admin.revoke_device(db, kiosk.device_id, datetime.now(UTC), "stolen")
    r = browser.password()
    assert r.status_code == 403 and "no longer valid" in r.text


def test_an_appointment_the_server_does_not_have_or_of_another_site(server, kiosk, appointment):
    r = Enrolment(server.client).open(mint(kiosk.key, kiosk.device_id, str(uuid.uuid4())))
    assert r.status_code == 400
    other = server.site("Southside Clinic")
    with server.sessions.begin() as db:
        elsewhere = add_schedule(db, other.id, [site_today()], per_day=1, tag="S")[0]
    r = Enrolment(server.client).open(mint(kiosk.key, kiosk.device_id, elsewhere["id"]))
    assert r.status_code == 400 and "We cannot read this invitation" in r.text
    assert [code for code, _ in refusals(server)] == ["unknown_appointment", "unknown_appointment"]


def test_problem_pages_speak_spanish_and_keep_the_link_for_the_language_switch(server, kiosk, appointment):
    text = mint(kiosk.key, kiosk.device_id, appointment["id"], expires_at=datetime.now(UTC) - timedelta(minutes=1))
    r = server.client.get("/portal/enrol", params={"i": text}, headers={"Accept-Language": "es"})
    assert r.status_code == 410 and "Esta invitación ha caducado" in r.text and '<html lang="es">' in r.text
    assert f"?i={text}&amp;lang=en" in r.text
    r = server.client.get("/portal/enrol", params={"i": text, "lang": "en"}, headers={"Accept-Language": "es"})
    assert "This invitation has expired" in r.text


def test_no_invitation_at_all(server):
    r = server.client.get("/portal/enrol")
    assert r.status_code == 400 and "QR code" in r.text
