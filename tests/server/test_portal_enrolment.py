"""Portal enrolment pages, the happy paths and every step's refusals (TestClient; SQLite and
PostgreSQL through the `server` fixture)."""

from __future__ import annotations

import logging
import re
from datetime import UTC, date, datetime, timedelta

import pyotp
import pytest
from argon2 import PasswordHasher
from sqlalchemy import select, update

from practice_server.models import AuditEntry, Patient
from practice_server.portal import PortalAccount, PortalInvitationUse
from practice_server.portal.terms import TERMS_VERSION
from server_helpers import add_schedule, site_today
from tests.web.portal_steps import GOOD_PASSWORD, Enrolment, mint, secret_of

BORN = date(1970, 1, 1)  # add_schedule's first patient


@pytest.fixture
def appointment(server, site):
    with server.sessions.begin() as db:
        return add_schedule(db, site.id, [site_today()], per_day=2)[0]


@pytest.fixture
def invitation(kiosk, appointment) -> str:
    return mint(kiosk.key, kiosk.device_id, appointment["id"])


@pytest.fixture
def browser(server) -> Enrolment:
    return Enrolment(server.client)


def account_of(server, patient_id: str) -> PortalAccount | None:
    return server.scalar(select(PortalAccount).where(PortalAccount.patient_id == patient_id))


def test_happy_path_with_authenticator_app(server, site, kiosk, appointment, invitation, browser):
    r = browser.open(invitation)
    assert r.status_code == 200 and 'lang="en"' in r.text and "Confirm your birth date" in r.text
    cookie = r.headers["set-cookie"].lower()
    for attribute in ("httponly", "samesite=strict", "path=/portal", "max-age=1800"):
        assert attribute in cookie
    assert "Step 1 of 4" in r.text and site.name in r.text

    r = browser.birth_date(BORN)
    assert (r.status_code, r.headers["location"]) == (303, "/portal/enrol/password")
    page = browser.get("password")
    assert page.status_code == 200 and "At least 12 characters" in page.text
    r = browser.password()
    assert (r.status_code, r.headers["location"]) == (303, "/portal/enrol/two-factor")

    page = browser.two_factor_page()
    assert page.status_code == 200 and "<svg" in page.text and 'role="img"' in page.text
    secret = secret_of(page.text)
    assert f'href="otpauth://totp/{site.name.replace(" ", "%20")}:Patient%20portal?secret={secret}' in page.text
    assert secret_of(browser.two_factor_page().text) == secret  # a reload keeps the same key
    r = browser.enable_two_factor(pyotp.TOTP(secret).at(server.clock()))
    assert (r.status_code, r.headers["location"]) == (303, "/portal/enrol/terms")

    page = browser.get("terms")
    assert f"Version {TERMS_VERSION}" in page.text and "The authenticator app is set up." in page.text
    r = browser.accept_terms()
    assert (r.status_code, r.headers["location"]) == (303, "/portal/enrol/done")
    done = browser.get("done")
    assert done.status_code == 200 and "Your portal account is ready" in done.text
    assert "authenticator app" in done.text

    account = account_of(server, appointment["patient_id"])
    assert account is not None
    assert PasswordHasher().verify(account.password_hash, GOOD_PASSWORD)
    assert GOOD_PASSWORD not in account.password_hash
    assert (account.totp_enabled, account.totp_secret) == (True, secret)
    assert account.terms_version == TERMS_VERSION
    assert (account.created_via_device, account.site_id) == (kiosk.device_id, site.id)
    assert account.created_day == site_today(server.clock())
    use = server.scalar(select(PortalInvitationUse))
    assert (use.invitation_id, use.account_id) == (account.invitation_id, account.id)


def test_happy_path_without_authenticator_app_and_the_kiosks_learn_of_it(
        server, kiosk, appointment, invitation, browser):
    seen, cursor, _ = kiosk.pull_all()
    assert seen["patients"][appointment["patient_id"]]["portal_account"] is False
    browser.to_terms(invitation, BORN)
    assert browser.accept_terms().status_code == 303
    done = browser.get("done")
    assert done.status_code == 200 and "authenticator app" not in done.text
    account = account_of(server, appointment["patient_id"])
    assert (account.totp_enabled, account.totp_secret) == (False, None)
    assert server.scalar(select(Patient.portal_account).where(Patient.id == appointment["patient_id"]))
    changed, _, _ = kiosk.pull_all(cursor)  # the patient's appointment comes again, flagged
    assert changed["patients"][appointment["patient_id"]]["portal_account"] is True


def test_wrong_birth_date_says_how_many_tries_are_left(server, invitation, browser):
    browser.open(invitation)
    r = browser.birth_date(date(1970, 1, 2))
    assert r.status_code == 422
    assert "does not match our records" in r.text and "Tries left before this invitation is locked: 4." in r.text
    assert 'role="alert"' in r.text and 'aria-invalid="true"' in r.text
    assert 'value="2"' in r.text  # what the patient typed stays in the boxes
    r = browser.birth_date(BORN)
    assert r.status_code == 303  # a right answer after a wrong one


@pytest.mark.parametrize("form", [
    {"month": "2", "day": "30", "year": "1970"},
    {"month": "", "day": "1", "year": "1970"},
    {"month": "1", "day": "1", "year": "70"},
    {"month": "13", "day": "1", "year": "1970"},
    {"month": "x", "day": "y", "year": "z"},
])
def test_a_date_that_is_no_date_is_refused_without_using_a_try(server, invitation, browser, form):
    browser.open(invitation)
    r = browser.post("birth-date", form)
    assert r.status_code == 422 and "Enter a real date" in r.text
    for _ in range(6):
        browser.post("birth-date", form)
    assert browser.birth_date(BORN).status_code == 303  # not locked


@pytest.mark.parametrize(("password", "again", "message"), [
    ("short pass", None, "shorter than 12 characters"),
    ("Password1234!", None, "too easy to guess"),
    ("aaaaaaaaaaaaaaaa", None, "too easy to guess"),
    ("123456789012", None, "too easy to guess"),
    ("x" * 100 + " y" * 20, None, "longer than 128 characters"),
    (GOOD_PASSWORD, GOOD_PASSWORD + "!", "not the same"),
])
def test_weak_or_mistyped_passwords_are_refused_with_the_reason(server, invitation, browser, password, again,
                                                                 message):
    browser.open(invitation)
    browser.birth_date(BORN)
    r = browser.password(password, again)
    assert r.status_code == 422 and message in r.text
    assert password not in r.text  # a refused password is never echoed back
    assert browser.get("two-factor").headers["location"] == "/portal/enrol/password"


def test_a_wrong_authenticator_code_is_refused_then_a_right_one_works(server, invitation, browser):
    browser.open(invitation)
    browser.birth_date(BORN)
    browser.password()
    secret = secret_of(browser.two_factor_page().text)
    good = pyotp.TOTP(secret).at(server.clock())
    wrong = f"{(int(good) + 1) % 1_000_000:06d}"
    for code in (wrong, "", "12345", "abcdef"):
        r = browser.enable_two_factor(code)
        assert r.status_code == 422 and "That code did not work" in r.text
        assert secret_of(r.text) == secret
    assert browser.enable_two_factor(good).status_code == 303


def test_an_old_authenticator_code_is_refused(server, invitation, browser):
    browser.open(invitation)
    browser.birth_date(BORN)
    browser.password()
    secret = secret_of(browser.two_factor_page().text)
    old = pyotp.TOTP(secret).at(server.clock() - timedelta(minutes=5))
    assert browser.enable_two_factor(old).status_code == 422


def test_terms_must_be_accepted_in_the_version_shown(server, appointment, invitation, browser):
    browser.to_terms(invitation, BORN)
    r = browser.accept_terms(accept=False)
    assert r.status_code == 422 and "tick the box" in r.text
    assert browser.accept_terms(version="2001-01").status_code == 422
    assert account_of(server, appointment["patient_id"]) is None
    assert browser.accept_terms().status_code == 303


@pytest.mark.parametrize("step", ["birth-date", "password", "two-factor", "terms"])
def test_a_post_without_the_csrf_token_is_refused(server, invitation, browser, step):
    browser.open(invitation)
    r = browser.post(step, {"month": "1", "day": "1", "year": "1970", "accept": "yes"}, csrf=False)
    assert r.status_code == 403 and "Please start again" in r.text
    r = browser.client.post(f"/portal/enrol/{step}", data={"csrf": "forged-token"}, follow_redirects=False)
    assert r.status_code == 403
    assert browser.birth_date(BORN).status_code == 303  # the real form still works
    codes = server.rows(select(AuditEntry.code).where(AuditEntry.action == "portal.refused"))
    assert [c for (c,) in codes] == ["csrf", "csrf"]


def test_pages_out_of_order_lead_to_the_step_the_patient_is_at(server, invitation, browser):
    browser.open(invitation)
    for step in ("password", "two-factor", "terms", "done"):
        r = browser.get(step)
        assert (r.status_code, r.headers["location"]) == (303, "/portal/enrol/birth-date")
    r = browser.password()  # a post for a later step does nothing either
    assert (r.status_code, r.headers["location"]) == (303, "/portal/enrol/birth-date")
    browser.birth_date(BORN)
    assert browser.get("birth-date").headers["location"] == "/portal/enrol/password"
    # The same link opened again in the same browser carries on where the patient was.
    r = browser.open(invitation)
    assert (r.status_code, r.headers["location"]) == (303, "/portal/enrol/password")


def test_without_a_session_or_after_30_minutes_the_page_has_expired(server, invitation, browser):
    r = browser.get("password")
    assert r.status_code == 410 and "This page has expired" in r.text
    browser.open(invitation)
    server.clock.pinned = datetime.now(UTC) + timedelta(minutes=31)
    r = browser.birth_date(BORN)
    assert r.status_code == 410 and "This page has expired" in r.text


def test_a_patient_who_has_an_account_gets_a_clear_page(server, kiosk, appointment, browser):
    first = Enrolment(server.client).to_terms(mint(kiosk.key, kiosk.device_id, appointment["id"]), BORN)
    assert first.accept_terms().status_code == 303
    second = mint(kiosk.key, kiosk.device_id, appointment["id"])  # a second invitation, same patient
    server.client.cookies.clear()
    browser.open(second)
    r = browser.birth_date(BORN)  # only after the birth date: the link alone tells nothing
    assert r.status_code == 409 and "You already have a portal account" in r.text


def test_the_practices_portal_flag_counts_as_an_account(server, appointment, invitation, browser):
    with server.sessions.begin() as db:
        db.execute(update(Patient).where(Patient.id == appointment["patient_id"]).values(portal_account=True))
    browser.open(invitation)
    assert browser.birth_date(BORN).status_code == 409


@pytest.mark.parametrize(("header", "query", "expected"), [
    ("es-MX,es;q=0.9,en;q=0.5", None, "es"),
    ("fr-FR, es;q=0.4, en;q=0.3", None, "es"),
    ("de-DE", None, "en"),
    ("es", "en", "en"),
    ("en", "es", "es"),
])
def test_language_from_accept_language_or_the_query(server, invitation, header, query, expected):
    params = {"i": invitation, **({"lang": query} if query else {})}
    r = server.client.get("/portal/enrol", params=params, headers={"Accept-Language": header})
    assert f'<html lang="{expected}">' in r.text
    assert ("Confirme su fecha de nacimiento" in r.text) == (expected == "es")


def test_spanish_asks_day_first_and_the_choice_is_kept_through_the_steps(server, invitation, browser):
    r = browser.open(invitation, **{"Accept-Language": "es"})
    assert r.text.index('id="day"') < r.text.index('id="month"') < r.text.index('id="year"')
    assert "Paso 1 de 4" in r.text
    browser.birth_date(BORN)
    page = browser.client.get("/portal/enrol/password", headers={"Accept-Language": "en"})
    assert "Elija una contraseña" in page.text  # the enrolment's language, not the header
    page = browser.get("password", lang="en")  # the switch link
    assert "Choose a password" in page.text
    assert "Choose a password" in browser.get("password").text


def test_pages_load_nothing_from_elsewhere_and_forbid_it(server, invitation, browser):
    pages = [browser.open(invitation)]
    browser.birth_date(BORN)
    pages.append(browser.get("password"))
    browser.password()
    pages.append(browser.two_factor_page())
    browser.skip_two_factor()
    pages.append(browser.get("terms"))
    browser.accept_terms()
    pages.append(browser.get("done"))
    for page in pages:
        assert page.status_code == 200
        # http(s) and protocol-relative URLs (the otpauth: link opens an app, loads nothing)
        assert re.findall(r"(?<![\w+.:-])(?:https?:)?//[^\s\"'<>]+", page.text) == [], page.url
        assert 'href="otpauth://' in page.text or "two-factor" not in str(page.url)
        csp = page.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src 'self'" in csp and "style-src 'self'" in csp
        assert page.headers["cache-control"] == "no-store" and page.headers["referrer-policy"] == "no-referrer"
        assert 'href="/portal/static/portal.css"' in page.text
    css = server.client.get("/portal/static/portal.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert "url(" not in css.text and "@import" not in css.text
    js = server.client.get("/portal/static/portal.js")
    assert js.status_code == 200 and "http" not in js.text
    for name in ("../models.py", "portal.py", "..%2Fmodels.py"):
        assert server.client.get(f"/portal/static/{name}").status_code == 404


def test_every_page_and_decision_is_audited_without_phi(server, kiosk, appointment, invitation, browser, caplog):
    caplog.set_level(logging.DEBUG)
    browser.open(invitation)
    browser.birth_date(date(1970, 1, 2))
    browser.birth_date(BORN)
    browser.password()
    secret = secret_of(browser.two_factor_page().text)
    browser.enable_two_factor(pyotp.TOTP(secret).at(server.clock()))
    browser.get("terms")
    browser.accept_terms()
    browser.get("done")
    rows = server.rows(select(AuditEntry).where(AuditEntry.action.like("portal.%")).order_by(AuditEntry.id))
    trail = [(a.action, a.code) for (a,) in rows]
    assert trail == [
        ("portal.page", "birth_date"), ("portal.birth_date", "wrong"), ("portal.page", "birth_date.again"),
        ("portal.birth_date", "confirmed"), ("portal.password", "set"), ("portal.page", "two_factor"),
        ("portal.two_factor", "enabled"), ("portal.page", "terms"), ("portal.account", "created"),
        ("portal.page", "done"),
    ]
    assert all((a.device_id, a.site_id) == (kiosk.device_id, kiosk.site_id) for (a,) in rows)
    with server.sessions() as db:
        patient = db.get(Patient, appointment["patient_id"])
    secrets_and_phi = [GOOD_PASSWORD, secret, invitation, patient.first_name, patient.last_name,
                       "1970-01-01", "1970-01-02", "01/01/1970"]
    audit_text = " ".join(str(vars(a)) for (a,) in rows)
    logged = " ".join(r.getMessage() + str(getattr(r, "fields", "")) for r in caplog.records
                      if r.name.startswith("practice_server"))  # not the test client's own log
    assert "audit.portal.account" in logged
    for value in secrets_and_phi:
        assert value not in audit_text and value not in logged

