"""Brute-force limits and races of the portal enrolment, shared through the database
(TestClient; SQLite and PostgreSQL): five wrong birth dates lock an invitation for good,
too many failures lock a client address for the rest of its hour, parallel guesses cannot
get more tries, and two browsers finishing one invitation make one account."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from practice_server.models import AuditEntry
from practice_server.portal import (
    PortalAccount,
    PortalAttempt,
    PortalInvitationUse,
    PortalSession,
    enrolment_state,
    limits,
)
from server_helpers import add_schedule, site_today
from tests.web.portal_steps import Enrolment, mint

BORN = date(1970, 1, 1)
WRONG = date(1960, 6, 15)  # no add_schedule patient has it


@pytest.fixture
def appointment(server, site):
    with server.sessions.begin() as db:
        return add_schedule(db, site.id, [site_today()], per_day=1)[0]


@pytest.fixture
def invitation(kiosk, appointment) -> str:
    return mint(kiosk.key, kiosk.device_id, appointment["id"])


def test_five_wrong_birth_dates_lock_the_invitation_for_good(server, kiosk, appointment, invitation):
    browser = Enrolment(server.client)
    browser.open(invitation)
    for left in (4, 3, 2, 1):
        r = browser.birth_date(WRONG)
        assert r.status_code == 422 and f"locked: {left}." in r.text
    r = browser.birth_date(WRONG)
    assert r.status_code == 423 and "This invitation is locked" in r.text
    r = browser.birth_date(BORN)  # the right date is too late now
    assert r.status_code == 423
    server.client.cookies.clear()
    r = Enrolment(server.client).open(invitation)  # a new session does not reset it
    assert r.status_code == 423 and "front desk" in r.text
    server.clock.pinned = datetime.now(UTC) + timedelta(days=2)  # nor does time
    assert Enrolment(server.client).open(invitation).status_code == 423
    other = mint(kiosk.key, kiosk.device_id, appointment["id"])  # a new invitation works
    server.clock.pinned = None
    assert Enrolment(server.client).open(other).status_code == 200


def test_right_answers_do_not_use_up_tries(server, invitation):
    browser = Enrolment(server.client)
    for _ in range(3):
        server.client.cookies.clear()
        browser.open(invitation)
        browser.birth_date(WRONG)
        assert browser.birth_date(BORN).status_code == 303
    with server.sessions() as db:
        assert limits.invitation_failures(db, _invitation_id(server)) == 3


def _invitation_id(server) -> str:
    return server.scalar(select(PortalSession.invitation_id))


def test_parallel_guesses_get_no_more_than_five_tries(server, invitation):
    browsers = []
    for _ in range(12):
        client = TestClient(server.app)
        browser = Enrolment(client)
        assert browser.open(invitation).status_code == 200
        browsers.append(browser)
    start = threading.Barrier(len(browsers))

    def guess(browser: Enrolment) -> int:
        start.wait()
        return browser.birth_date(WRONG).status_code

    with ThreadPoolExecutor(len(browsers)) as pool:
        statuses = sorted(pool.map(guess, browsers))
    compared = [s for s in statuses if s == 422]
    assert len(compared) == limits.INVITATION_MAX_FAILURES - 1  # the fifth wrong one locks
    assert statuses.count(423) == len(browsers) - len(compared)
    assert browsers[0].birth_date(BORN).status_code == 423
    wrong = server.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.code == "wrong"))
    assert wrong == limits.INVITATION_MAX_FAILURES


def test_too_many_failures_from_one_address_lock_it_until_the_hour_ends(server, kiosk, appointment):
    server.clock.pinned = datetime(2031, 5, 6, 10, 15, 30, tzinfo=UTC)
    invitation = mint(kiosk.key, kiosk.device_id, appointment["id"], expires_at=datetime(2031, 5, 9, tzinfo=UTC))
    impostor = Ed25519PrivateKey.generate()
    for _ in range(limits.IP_MAX_FAILURES):
        forged = mint(impostor, kiosk.device_id, appointment["id"])
        assert Enrolment(server.client).open(forged).status_code == 400
    r = Enrolment(server.client).open(invitation)  # even a good invitation, from this address
    assert r.status_code == 429 and "Too many attempts" in r.text
    assert "wait 45 minutes" in r.text and r.headers["retry-after"] == str(45 * 60)
    server.clock.pinned = datetime(2031, 5, 6, 10, 59, 10, tzinfo=UTC)
    r = Enrolment(server.client).open(invitation)
    assert r.status_code == 429 and "wait 1 minute and" in r.text
    server.clock.pinned = datetime(2031, 5, 6, 11, 0, 1, tzinfo=UTC)
    assert Enrolment(server.client).open(invitation).status_code == 200


def test_wrong_birth_dates_across_invitations_count_for_the_address(server, kiosk, site):
    with server.sessions.begin() as db:
        appointments = add_schedule(db, site.id, [site_today()], per_day=5, tag="L")
    for appointment in appointments:  # four wrong dates each: no invitation is locked
        browser = Enrolment(server.client)
        server.client.cookies.clear()
        browser.open(mint(kiosk.key, kiosk.device_id, appointment["id"]))
        for _ in range(4):
            assert browser.birth_date(WRONG).status_code == 422
    assert browser.birth_date(WRONG).status_code == 429  # 20 failures from this address
    assert browser.get("birth-date").status_code == 429


def test_csrf_failures_count_for_the_address(server, invitation):
    browser = Enrolment(server.client)
    browser.open(invitation)
    for _ in range(limits.IP_MAX_FAILURES):
        assert browser.post("birth-date", {}, csrf=False).status_code == 403
    assert browser.birth_date(BORN).status_code == 429


def test_two_browsers_finishing_one_invitation_make_one_account(server, appointment, invitation):
    clients = [TestClient(server.app) for _ in range(2)]
    browsers = [Enrolment(c).to_terms(invitation, BORN) for c in clients]
    start = threading.Barrier(2)

    def finish(browser: Enrolment) -> int:
        start.wait()
        return browser.accept_terms().status_code

    with ThreadPoolExecutor(2) as pool:
        statuses = sorted(pool.map(finish, browsers))
    assert statuses == [303, 410]
    assert server.scalar(select(func.count()).select_from(PortalAccount)) == 1
    assert server.scalar(select(func.count()).select_from(PortalInvitationUse)) == 1


def test_two_invitations_of_one_patient_finishing_together_make_one_account(server, kiosk, appointment):
    texts = [mint(kiosk.key, kiosk.device_id, appointment["id"]) for _ in range(2)]
    browsers = [Enrolment(TestClient(server.app)).to_terms(text, BORN) for text in texts]
    start = threading.Barrier(2)

    def finish(browser: Enrolment):
        start.wait()
        return browser.accept_terms()

    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(finish, browsers))
    assert sorted(r.status_code for r in answers) == [303, 409]
    assert "already have a portal account" in next(r.text for r in answers if r.status_code == 409)
    assert server.scalar(select(func.count()).select_from(PortalAccount)) == 1



def test_housekeeping_drops_ended_windows_and_sessions_but_keeps_invitation_locks(server, invitation):
    browser = Enrolment(server.client)
    browser.open(invitation)
    browser.birth_date(WRONG)

    def counts() -> tuple[int, int, int]:
        with server.sessions() as db:
            by_scope = dict(db.execute(select(PortalAttempt.scope, func.count()).group_by(PortalAttempt.scope)).all())
            sessions = db.scalar(select(func.count()).select_from(PortalSession))
        return by_scope.get(limits.IP, 0), by_scope.get(limits.INVITATION, 0), sessions

    assert counts() == (1, 1, 1)
    with server.sessions.begin() as db:  # nothing has ended yet
        limits.purge_old_windows(db, datetime.now(UTC))
        enrolment_state.purge_expired(db, datetime.now(UTC))
    assert counts() == (1, 1, 1)
    later = datetime.now(UTC) + 3 * limits.IP_WINDOW
    with server.sessions.begin() as db:
        limits.purge_old_windows(db, later)
        enrolment_state.purge_expired(db, later)
    assert counts() == (0, 1, 0)
