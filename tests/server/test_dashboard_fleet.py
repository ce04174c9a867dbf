"""The fleet page for IT: every kiosk's health, silent ones flagged first, revoke with a
reason and a confirmation (admins only, audited), after which the kiosk is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from practice_server.dashboard import accounts
from practice_server.dashboard.models import StaffSession
from practice_server.models import AuditEntry

PASSWORD = "maple kettle orbit lantern"
HTML = {"Accept": "text/html"}


def sign_in(server, username, role):
    with server.sessions.begin() as db:
        accounts.create(db, username, username.title(), role, PASSWORD, datetime.now(UTC))
    server.client.cookies.clear()
    server.client.post("/staff/login", data={"username": username, "password": PASSWORD}, follow_redirects=False)
    return server.scalar(select(StaffSession.csrf_token).order_by(StaffSession.created_at.desc()))


def beat(kiosk, **changes):
    body = {"version": "0.8.0", "backlog": 4, "oldest_unsent_age_seconds": 95.0, "clock": datetime.now(UTC).isoformat(),
            "disk_free_bytes": 400_000_000, "dead_letters": 2, "last_error": "ConnectTimeout", **changes}
    assert kiosk.post("/api/v1/heartbeat", body).status_code == 200


def test_only_admins_see_the_fleet(server, site, kiosk):
    sign_in(server, "desk", "front_desk")
    assert server.client.get("/staff/fleet", headers=HTML).status_code == 403
    sign_in(server, "itadmin", "admin")
    assert server.client.get("/staff/fleet", headers=HTML).status_code == 200


def test_silent_kiosks_come_first_with_what_is_known(server, site):
    quiet, busy = server.kiosk(site.id, "lobby-kiosk"), server.kiosk(site.id, "annex-kiosk")
    start = datetime.now(UTC)
    server.clock.pinned = start - timedelta(minutes=30)
    beat(quiet)
    server.clock.pinned = start
    beat(busy, backlog=0, last_error=None)
    server.kiosk(site.id, "new-kiosk")  # enrolled, never heard from
    sign_in(server, "itadmin", "admin")
    text = server.client.get("/staff/fleet", headers=HTML).text
    assert "2 silent" in text
    rows = text.split("<tbody>")[1].split("</tr>")
    states = [r.split("<strong>")[1].split("</strong>")[0] for r in rows if "<strong>" in r]
    assert states == ["SILENT", "never seen", "online"]
    lobby = next(r for r in rows if "lobby-kiosk" in r)
    assert "30m" in lobby and "ConnectTimeout" in lobby and "400.0MB" in lobby and 'class="v-problem">2' in lobby


def test_revoke_asks_why_and_the_kiosk_is_refused_after(server, site, kiosk):
    csrf = sign_in(server, "itadmin", "admin")
    confirm = server.client.get(f"/staff/fleet?confirm={kiosk.device_id}", headers=HTML).text
    assert "Revoke kiosk-1 at" in confirm and "refuse everything this kiosk sends" in confirm
    url = f"/staff/fleet/{kiosk.device_id}/revoke"
    assert server.client.post(url, data={"csrf": csrf, "reason": ""}, follow_redirects=False).status_code == 400
    assert server.client.post(url, data={"reason": "stolen"}, follow_redirects=False).status_code == 403
    assert server.client.post(url, data={"csrf": csrf, "reason": "stolen from the lobby"},
                              follow_redirects=False).status_code == 303
    assert kiosk.post("/api/v1/heartbeat", {"clock": datetime.now(UTC).isoformat()}).status_code == 403
    text = server.client.get("/staff/fleet", headers=HTML).text
    assert "<strong>revoked</strong>" in text and "Revoke…" not in text
    actions = [a for (a,) in server.rows(select(AuditEntry.action).where(AuditEntry.staff_user.is_not(None)))]
    assert "staff.device_revoked" in actions


def test_a_front_desk_person_cannot_revoke(server, site, kiosk):
    csrf = sign_in(server, "desk", "front_desk")
    r = server.client.post(f"/staff/fleet/{kiosk.device_id}/revoke", data={"csrf": csrf, "reason": "x"},
                           follow_redirects=False)
    assert r.status_code == 403
    assert kiosk.post("/api/v1/heartbeat", {"clock": datetime.now(UTC).isoformat()}).status_code == 200
