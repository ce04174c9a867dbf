"""Refused requests: unsigned, malformed, forged, stale, replayed, unknown, revoked; enrolment tokens."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select, update

from practice_server import admin, auth
from practice_server.models import AuditEntry, Device, EnrolmentToken, Nonce
from server_helpers import Kiosk, raw_public_key

BEAT = {"version": "0.4.0", "backlog": 0}


def refusals(server) -> list[tuple]:
    return server.rows(select(AuditEntry.code, AuditEntry.device_id, AuditEntry.path, AuditEntry.client_address)
                       .where(AuditEntry.action == "request.refused").order_by(AuditEntry.id))


def assert_refused(server, r, status: int, code: str, device_id: str | None) -> None:
    assert r.status_code == status, r.text
    assert r.json()["detail"]["code"] == code
    assert r.json()["detail"]["message"]
    assert refusals(server)[-1] == (code, device_id, "/api/v1/heartbeat", "testclient")


def test_signed_request_passes(server, kiosk):
    r = kiosk.post("/api/v1/heartbeat", BEAT)
    assert r.status_code == 200, r.text
    assert refusals(server) == []


def test_unsigned(server, kiosk):
    r = server.client.post("/api/v1/heartbeat", json=BEAT)
    assert_refused(server, r, 401, "unsigned", None)


def test_unsigned_with_a_bad_body_is_still_401(server, kiosk):
    r = server.client.post("/api/v1/events", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 401
    assert r.json()["detail"]["code"] == "unsigned"


def test_malformed(server, kiosk):
    headers = kiosk.signed_headers("POST", "/api/v1/heartbeat", b"{}")
    headers["Signature-Input"] = f'kiosk=("@method");keyid="{kiosk.device_id}"'
    r = server.client.post("/api/v1/heartbeat", content=b"{}", headers=headers)
    assert_refused(server, r, 401, "malformed", kiosk.device_id)


def test_forged_with_another_key(server, kiosk):
    r = kiosk.post("/api/v1/heartbeat", BEAT, key=Ed25519PrivateKey.generate())
    assert_refused(server, r, 401, "bad_signature", kiosk.device_id)


def test_body_changed_after_signing(server, kiosk):
    headers = kiosk.signed_headers("POST", "/api/v1/heartbeat", b'{"backlog": 1}')
    r = server.client.post("/api/v1/heartbeat", content=b'{"backlog": 9}', headers=headers)
    assert_refused(server, r, 401, "bad_signature", kiosk.device_id)


def test_path_changed_after_signing(server, kiosk):
    headers = kiosk.signed_headers("POST", "/api/v1/events", b"{}")
    r = server.client.post("/api/v1/heartbeat", content=b"{}", headers=headers)
    assert_refused(server, r, 401, "bad_signature", kiosk.device_id)


@pytest.mark.parametrize("minutes", [-6, 6])
def test_stale(server, kiosk, minutes):
    r = kiosk.post("/api/v1/heartbeat", BEAT, now=datetime.now(UTC) + timedelta(minutes=minutes))
    assert_refused(server, r, 401, "stale", kiosk.device_id)


def test_within_the_skew_is_fine(server, kiosk):
    assert kiosk.post("/api/v1/heartbeat", BEAT, now=datetime.now(UTC) - timedelta(minutes=4)).status_code == 200


def test_replayed_nonce(server, kiosk):
    body = b'{"backlog": 1}'
    headers = kiosk.signed_headers("POST", "/api/v1/heartbeat", body)
    assert server.client.post("/api/v1/heartbeat", content=body, headers=headers).status_code == 200
    r = server.client.post("/api/v1/heartbeat", content=body, headers=headers)
    assert_refused(server, r, 401, "replayed", kiosk.device_id)
    # A fresh nonce on the same content is fine.
    assert kiosk.post("/api/v1/heartbeat", {"backlog": 1}).status_code == 200


def test_nonce_survives_a_failed_handler(server, kiosk):
    """The nonce is spent even when the request it came with was refused later (422)."""
    body = b'{"backlog": -1}'
    headers = kiosk.signed_headers("POST", "/api/v1/heartbeat", body)
    assert server.client.post("/api/v1/heartbeat", content=body, headers=headers).status_code == 422
    assert server.client.post("/api/v1/heartbeat", content=body, headers=headers).json()["detail"]["code"] == "replayed"


def test_unknown_device(server, kiosk):
    stranger = Kiosk(server.client, "8b1c4d9e-0000-4000-8000-000000000000", kiosk.site_id, Ed25519PrivateKey.generate())
    r = stranger.post("/api/v1/heartbeat", BEAT)
    assert_refused(server, r, 401, "unknown_device", stranger.device_id)


def test_revoked_device(server, kiosk):
    with server.sessions.begin() as db:
        assert admin.revoke_device(db, kiosk.device_id, datetime.now(UTC), "stolen")
    r = kiosk.post("/api/v1/heartbeat", BEAT)
    assert_refused(server, r, 403, "revoked", kiosk.device_id)


def test_audit_rows_never_hold_a_body(server, kiosk):
    secret = "Zanzibar-Quixote-1948"
    headers = kiosk.signed_headers("POST", "/api/v1/heartbeat", b"{}")
    server.client.post("/api/v1/heartbeat", content=f'{{"last_error": "{secret}"}}'.encode(), headers=headers)
    rows = server.rows(select(AuditEntry))
    assert rows and secret not in repr(rows)


def test_old_nonces_are_purged(server, kiosk, monkeypatch):
    old = datetime.now(UTC) - auth.NONCE_KEEP - timedelta(minutes=1)
    with server.sessions.begin() as db:
        db.add(Nonce(device_id=kiosk.device_id, nonce="old-nonce-1234", created_at=old))
    monkeypatch.setattr(auth, "PURGE_ONE_IN", 1)
    assert kiosk.post("/api/v1/heartbeat", BEAT).status_code == 200
    assert server.scalar(select(func.count()).select_from(Nonce)) == 1  # only this request's


# -- enrolment --------------------------------------------------------------------------


def _token(server, site_id: str, ttl=timedelta(hours=1), now=None) -> str:
    with server.sessions.begin() as db:
        return admin.issue_enrolment_token(db, site_id, ttl, now or datetime.now(UTC)).token


def _enrol(server, token: str, key=None):
    key = key or Ed25519PrivateKey.generate()
    return server.client.post("/api/v1/enrol", json={"token": token, "public_key": raw_public_key(key),
                                                      "hostname": "lobby", "version": "0.4.0"})


def test_enrolment_answers_the_contract(server, site):
    r = _enrol(server, _token(server, site.id))
    assert r.status_code == 201
    body = r.json()
    assert body["site"] == {"id": site.id, "name": site.name, "timezone": site.timezone}
    assert body["config"]["site_name"] == site.name and body["config"]["days_ahead"] == 3
    assert body["ca_certificate"] is None  # no TLS in this test
    assert datetime.fromisoformat(body["server_time"]).utcoffset() == timedelta(0)
    assert server.scalar(select(Device.hostname).where(Device.id == body["device_id"])) == "lobby"


def test_only_the_token_hash_is_stored(server, site):
    token = _token(server, site.id)
    stored = server.rows(select(EnrolmentToken.token_hash))
    assert len(stored) == 1 and token not in repr(stored)


def test_used_token_cannot_enrol_again(server, site):
    token = _token(server, site.id)
    assert _enrol(server, token).status_code == 201
    r = _enrol(server, token)
    assert (r.status_code, r.json()["detail"]["code"]) == (410, "token_used")


def test_expired_token_cannot_enrol(server, site):
    token = _token(server, site.id, ttl=timedelta(minutes=5), now=datetime.now(UTC) - timedelta(minutes=6))
    r = _enrol(server, token)
    assert (r.status_code, r.json()["detail"]["code"]) == (410, "token_expired")


def test_unknown_token(server, site):
    r = _enrol(server, "no-such-token")
    assert (r.status_code, r.json()["detail"]["code"]) == (401, "token_unknown")
    codes = server.rows(select(AuditEntry.action, AuditEntry.code))
    assert ("enrolment.refused", "token_unknown") in codes


@pytest.mark.parametrize("public_key", ["not base64!", "AAAA", "A" * 100])
def test_bad_public_key_does_not_burn_the_token(server, site, public_key):
    token = _token(server, site.id)
    r = server.client.post("/api/v1/enrol", json={"token": token, "public_key": public_key, "hostname": "h"})
    assert r.status_code == 422
    if public_key != "A" * 100:  # that one is over the length limit: FastAPI's own 422
        assert r.json()["detail"]["code"] == "bad_public_key"
    assert _enrol(server, token).status_code == 201


def test_racing_enrolments_with_one_token_make_one_device(server, site):
    token = _token(server, site.id)
    barrier = threading.Barrier(4)
    statuses: list[int] = []

    def go():
        barrier.wait()
        statuses.append(_enrol(server, token).status_code)

    threads = [threading.Thread(target=go) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [201, 410, 410, 410]
    assert server.scalar(select(func.count()).select_from(Device)) == 1


def test_a_revoked_device_cannot_come_back_with_its_old_key(server, site, kiosk):
    with server.sessions.begin() as db:
        db.execute(update(Device).where(Device.id == kiosk.device_id).values(revoked_at=datetime.now(UTC)))
    # Re-enrolment makes a new device id; the old one stays refused.
    assert _enrol(server, _token(server, site.id), key=kiosk.key).status_code == 201
    assert kiosk.post("/api/v1/heartbeat", BEAT).status_code == 403
