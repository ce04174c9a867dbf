"""Staff sign-in: hashed passwords, sessions with idle and absolute limits, brute-force
limits without user enumeration, roles, CSRF, and the audit of it all."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from practice_server.dashboard import accounts, sessions
from practice_server.dashboard.auth import COOKIE, require_staff
from practice_server.dashboard.models import StaffSession, StaffUser
from practice_server.models import AuditEntry
from practice_server.portal.models import PortalAttempt

PASSWORD = "maple kettle orbit lantern"
HTML = {"Accept": "text/html"}


def add_user(server, username="desk1", role="front_desk", site_ids=(), password=PASSWORD):
    with server.sessions.begin() as db:
        return accounts.create(db, username, "Dana Desk", role, password, datetime.now(UTC), site_ids=site_ids)


def sign_in(server, username="desk1", password=PASSWORD, next_="/staff/arrivals"):
    return server.client.post("/staff/login", data={"username": username, "password": password, "next": next_},
                              follow_redirects=False)


def audit_actions(server) -> list[tuple[str, str | None]]:
    return [(a, u) for a, u in server.rows(select(AuditEntry.action, AuditEntry.staff_user).order_by(AuditEntry.id))]


def test_passwords_are_hashed_and_weak_ones_refused(server):
    user = add_user(server)
    stored = server.scalar(select(StaffUser.password_hash).where(StaffUser.id == user.id))
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    with server.sessions.begin() as db:
        for weak in ("short", "password1234", "aaaaaaaaaaaaaaaa"):
            with pytest.raises(accounts.AccountError):
                accounts.create(db, f"user{len(weak)}", "Name", "admin", weak, datetime.now(UTC))
        with pytest.raises(accounts.AccountError, match="role"):
            accounts.create(db, "user9", "Name", "janitor", PASSWORD, datetime.now(UTC))


def test_a_page_asks_to_sign_in_then_returns_where_it_was_going(server, site):
    add_user(server)
    r = server.client.get(f"/staff/arrivals?site={site.id}", headers=HTML, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/staff/login?next=/staff/arrivals")
    r = sign_in(server, next_=f"/staff/arrivals?site={site.id}")
    assert r.status_code == 303 and r.headers["location"] == f"/staff/arrivals?site={site.id}"
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/staff" in cookie
    token = r.cookies[COOKIE]
    assert server.scalar(select(StaffSession.token_hash)) != token  # only its hash is kept
    page = server.client.get(f"/staff/arrivals?site={site.id}", headers=HTML)
    assert page.status_code == 200 and "Dana Desk" in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert ("staff.signed_in", server.scalar(select(StaffUser.id))) in audit_actions(server)


def test_an_offsite_next_is_ignored(server):
    add_user(server)
    assert sign_in(server, next_="https://evil.example/x").headers["location"] == "/staff/arrivals"
    assert sign_in(server, next_="//evil.example/staff/").headers["location"] == "/staff/arrivals"


def test_wrong_password_and_unknown_name_read_the_same(server):
    add_user(server)
    wrong, unknown = sign_in(server, password="not the password at all"), sign_in(server, username="nobody")
    assert wrong.status_code == unknown.status_code == 401
    assert "do not match" in wrong.text and "do not match" in unknown.text
    assert COOKIE not in wrong.cookies
    assert [a for a, _ in audit_actions(server)].count("staff.sign_in_failed") == 2


def test_five_failures_lock_the_name_even_for_the_right_password(server):
    add_user(server)
    for _ in range(sessions.USER_MAX_FAILURES):
        assert sign_in(server, password="guess guess guess").status_code == 401
    locked = sign_in(server)
    assert locked.status_code == 429 and "Too many tries. Wait" in locked.text
    assert int(locked.headers["retry-after"]) > 0
    server.clock.pinned = datetime.now(UTC) + sessions.WINDOW + timedelta(seconds=1)
    assert sign_in(server).status_code == 303  # the window ended


def test_the_session_ends_after_fifteen_idle_minutes(server, site):
    add_user(server)
    start = datetime.now(UTC)
    server.clock.pinned = start
    sign_in(server)
    server.clock.pinned = start + timedelta(minutes=14)
    assert server.client.get("/staff/arrivals", headers=HTML, follow_redirects=False).status_code == 200
    server.clock.pinned = start + timedelta(minutes=28)  # 14 after the last request: still fine
    assert server.client.get("/staff/arrivals", headers=HTML, follow_redirects=False).status_code == 200
    server.clock.pinned = start + timedelta(minutes=44)
    assert server.client.get("/staff/arrivals", headers=HTML, follow_redirects=False).status_code == 303


def test_a_session_lasts_twelve_hours_at_most(server, site):
    add_user(server)
    start = datetime.now(UTC)
    server.clock.pinned = start
    sign_in(server)
    for minutes in range(10, 12 * 60, 10):
        server.clock.pinned = start + timedelta(minutes=minutes)
        server.client.get("/staff/arrivals", headers=HTML, follow_redirects=False)
    server.clock.pinned = start + timedelta(hours=12, minutes=1)
    assert server.client.get("/staff/arrivals", headers=HTML, follow_redirects=False).status_code == 303


def test_disabled_accounts_cannot_sign_in_and_lose_their_session(server, site):
    add_user(server)
    sign_in(server)
    with server.sessions.begin() as db:
        accounts.disable(db, "desk1", datetime.now(UTC))
    assert server.client.get("/staff/arrivals", headers=HTML, follow_redirects=False).status_code == 303
    assert sign_in(server).status_code == 401


def test_sign_out_needs_the_forms_token_and_ends_the_session(server, site):
    add_user(server)
    sign_in(server)
    assert server.client.post("/staff/logout", data={"csrf": "forged"}, follow_redirects=False).status_code == 403
    csrf = server.scalar(select(StaffSession.csrf_token))
    r = server.client.post("/staff/logout", data={"csrf": csrf}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/staff/login?signed_out=1"
    server.client.cookies.set(COOKIE, "")  # even a browser that kept the cookie is signed out
    assert server.client.get("/staff/arrivals", headers=HTML, follow_redirects=False).status_code == 303
    assert "staff.signed_out" in [a for a, _ in audit_actions(server)]


def test_a_sign_in_clears_away_finished_sessions_and_old_failure_counts(server, site):
    add_user(server)
    start = datetime.now(UTC)
    server.clock.pinned = start

    def count(model, *where) -> int:
        with server.sessions() as db:
            return db.query(model).filter(*where).count()

    staff_counters = PortalAttempt.scope.in_((sessions.USER_SCOPE, sessions.ADDRESS_SCOPE))
    sign_in(server, password="guess guess guess")
    sign_in(server)
    server.client.post("/staff/logout", data={"csrf": server.scalar(select(StaffSession.csrf_token))},
                       follow_redirects=False)
    assert count(StaffSession) == 1 and count(PortalAttempt, staff_counters) == 2
    sign_in(server)  # the signed-out session goes; this one is left open, then forgotten
    assert count(StaffSession) == 1 and count(PortalAttempt, staff_counters) == 2  # window still open
    server.clock.pinned = start + sessions.LIFETIME + timedelta(minutes=1)
    sign_in(server)
    assert count(StaffSession) == 1  # only the new one
    assert count(PortalAttempt, staff_counters) == 0
    assert server.client.get("/staff/arrivals", headers=HTML, follow_redirects=False).status_code == 200


def test_roles_keep_people_to_their_pages(server):
    """A route for admins refuses a front-desk person with a page, and no one signed out."""
    add_user(server)
    add_user(server, "boss", role="admin")
    probe = FastAPI()
    probe.state.context = server.ctx

    @probe.get("/staff/admin-only")
    def admin_only(user=Depends(require_staff("admin"))):
        return {"user": user.username}

    client = TestClient(probe, raise_server_exceptions=False)
    for username, expected in (("desk1", 403), ("boss", 200)):
        r = sign_in(server, username=username)
        client.cookies.set(COOKIE, r.cookies[COOKIE])
        assert client.get("/staff/admin-only").status_code == expected
    client.cookies.clear()
    assert client.get("/staff/admin-only").status_code == 401
    with pytest.raises(ValueError):
        require_staff("janitor")


def test_the_dashboard_loads_only_its_own_css_and_js_without_signing_in(server):
    css = server.client.get("/staff/static/dashboard.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert "url(http" not in css.text and "@import" not in css.text
    js = server.client.get("/staff/static/dashboard.js")
    assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
    assert js.headers["x-content-type-options"] == "nosniff"
    for name in ("../models.py", "pages.py", "..%2Fmodels.py", "portal.css"):
        assert server.client.get(f"/staff/static/{name}").status_code == 404
