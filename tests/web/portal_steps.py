"""Helpers (not tests) for the portal enrolment tests, in TestClient and in Chromium:
mint a kiosk's invitation, read a page's CSRF token, walk the steps."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sync_protocol.portal_invitation import make_portal_invitation

ENROL = "/portal/enrol"
GOOD_PASSWORD = "violet canyon river 42"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def mint(key: Ed25519PrivateKey, device_id: str, appointment_id: str, *,
         expires_at: datetime | None = None, invitation_id: str | None = None) -> str:
    """The invitation text a kiosk would put in its QR link."""
    return make_portal_invitation(
        key, device_id=device_id, appointment_id=appointment_id,
        expires_at=expires_at or datetime.now(UTC) + timedelta(days=3), invitation_id=invitation_id)


def csrf_of(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "no CSRF field on the page"
    return match.group(1)


def birth_date_form(csrf: str, born: date) -> dict[str, str]:
    return {"csrf": csrf, "month": str(born.month), "day": str(born.day), "year": str(born.year)}


_SECRET = re.compile(r"<code>([A-Z2-7 ]+)</code>")


def secret_of(html: str) -> str:
    match = _SECRET.search(html)
    assert match, "no authenticator key on the page"
    return match.group(1).replace(" ", "")


class Enrolment:
    """One browser's walk through the pages with a TestClient (its own cookie jar).
    Each step posts and returns the answer without following the redirect."""

    def __init__(self, client) -> None:
        self.client = client
        self.csrf = ""

    def open(self, invitation: str, **headers: str):
        r = self.client.get(ENROL, params={"i": invitation}, headers=headers, follow_redirects=False)
        if 'name="csrf"' in r.text:
            self.csrf = csrf_of(r.text)
        return r

    def post(self, step: str, data: dict[str, str], *, csrf: bool = True):
        return self.client.post(f"{ENROL}/{step}", data={**({"csrf": self.csrf} if csrf else {}), **data},
                                follow_redirects=False)

    def get(self, step: str, **params: str):
        return self.client.get(f"{ENROL}/{step}", params=params, follow_redirects=False)

    def birth_date(self, born: date):
        return self.post("birth-date", {"month": str(born.month), "day": str(born.day), "year": str(born.year)})

    def password(self, password: str = GOOD_PASSWORD, again: str | None = None):
        return self.post("password", {"password": password, "password2": password if again is None else again})

    def two_factor_page(self):
        return self.get("two-factor")

    def enable_two_factor(self, code: str):
        return self.post("two-factor", {"action": "enable", "code": code})

    def skip_two_factor(self):
        return self.post("two-factor", {"action": "skip"})

    def accept_terms(self, version: str = "2026-01", accept: bool = True):
        return self.post("terms", {"version": version, **({"accept": "yes"} if accept else {})})

    def to_terms(self, invitation: str, born: date):
        """Open, confirm, choose a password, skip the app: ready to accept the terms."""
        for r in (self.open(invitation), self.birth_date(born), self.password(), self.two_factor_page(),
                  self.skip_two_factor()):
            assert r.status_code in (200, 303), (r.status_code, r.text[:300])
        return self
