"""GET /bundles/{kind} (ETag, 304) and POST /heartbeat (visible in admin.list_fleet)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from practice_server import admin
from practice_server.bundles import DEFAULT_CONFIG, store_config
from practice_server.content_bundle import default_content_bundle


def test_config_bundle_with_etag_and_304(server, site, kiosk):
    r = kiosk.get("/api/v1/bundles/config")
    assert r.status_code == 200
    body = r.json()
    assert body["kind"] == "config"
    assert body["items"] == {**DEFAULT_CONFIG, "site_name": site.name, "checkin_keys": {}}
    assert r.headers["etag"] == f'"{body["version"]}"'
    again = kiosk.get("/api/v1/bundles/config", headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == r.headers["etag"]
    weak = kiosk.get("/api/v1/bundles/config", headers={"If-None-Match": f'"x", W/{r.headers["etag"]}'})
    assert weak.status_code == 304
    other = kiosk.get("/api/v1/bundles/config", headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200


def test_config_change_gives_a_new_version(server, site, kiosk):
    before = kiosk.get("/api/v1/bundles/config").headers["etag"]
    with server.sessions.begin() as db:
        store_config(db, site.id, {**DEFAULT_CONFIG, "retention_days": 3}, datetime.now(UTC))
    r = kiosk.get("/api/v1/bundles/config", headers={"If-None-Match": before})
    assert r.status_code == 200 and r.json()["items"]["retention_days"] == 3


def test_the_content_bundle_serves_the_default_articles(server, kiosk):
    r = kiosk.get("/api/v1/bundles/content")
    assert r.status_code == 200 and r.json()["kind"] == "content"
    assert r.json()["items"] == default_content_bundle()


def test_unknown_bundle_kind_is_422(server, kiosk):
    assert kiosk.get("/api/v1/bundles/secrets").status_code == 422


def test_heartbeat_is_kept_and_shown_in_the_fleet(server, site, kiosk):
    beat = {"version": "0.4.1", "backlog": 12, "oldest_unsent_age_seconds": 340.0,
            "clock": datetime.now(UTC).isoformat(), "disk_free_bytes": 123456789, "dead_letters": 2,
            "last_error": "ConnectError"}
    r = kiosk.post("/api/v1/heartbeat", beat)
    assert r.status_code == 200
    assert abs(datetime.fromisoformat(r.json()["server_time"]) - datetime.now(UTC)) < timedelta(seconds=10)
    kiosk.post("/api/v1/heartbeat", {**beat, "backlog": 3})  # the latest wins
    with server.sessions() as db:
        fleet = admin.list_fleet(db, datetime.now(UTC))
    assert len(fleet) == 1
    status = fleet[0]
    assert (status.device_id, status.site_name, status.hostname, status.version) == (
        kiosk.device_id, site.name, "kiosk-1", "0.4.1")
    assert (status.backlog, status.oldest_unsent_age_seconds, status.disk_free_bytes, status.dead_letters,
            status.last_error) == (3, 340.0, 123456789, 2, "ConnectError")
    assert status.online and status.revoked_at is None
    with server.sessions() as db:
        later = admin.list_fleet(db, datetime.now(UTC) + timedelta(minutes=6))
    assert not later[0].online


def test_a_minimal_heartbeat_is_fine(server, kiosk):
    assert kiosk.post("/api/v1/heartbeat", {}).status_code == 200


@pytest.mark.parametrize("beat", [{"backlog": -1}, {"backlog": "many"}, {"clock": "2025-01-01T00:00:00"},
                                  {"last_error": "x" * 2001}, [1]])
def test_bad_heartbeats_are_422(server, kiosk, beat):
    assert kiosk.post("/api/v1/heartbeat", beat).status_code == 422
