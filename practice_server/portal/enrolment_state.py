"""Where one patient is in the enrolment, between pages: a server-side row (portal_sessions)
that every worker sees, keyed by the SHA-256 of a random token kept in an HttpOnly,
SameSite=Strict cookie limited to /portal. The row expires after LIFETIME; it holds no
plaintext password (only its argon2 hash) and carries the form's CSRF token.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from .invitations import Invited
from .models import PortalSession

COOKIE = "portal_enrolment"
COOKIE_PATH = "/portal"
LIFETIME = timedelta(minutes=30)
STEPS = ("birth_date", "password", "two_factor", "terms", "done")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def start(db: Session, invited: Invited, language: str, now: datetime) -> tuple[str, PortalSession]:
    """A new enrolment for `invited`; returns the cookie token and the row (added to `db`)."""
    token = secrets.token_urlsafe(32)
    row = PortalSession(
        token_hash=_hash(token), csrf_token=secrets.token_urlsafe(32),
        invitation_id=invited.invitation_id, device_id=invited.device_id, site_id=invited.site_id,
        appointment_id=invited.appointment_id, patient_id=invited.patient_id,
        step=STEPS[0], language=language, password_hash=None, totp_secret=None,
        totp_enabled=False, created_at=now, expires_at=now + LIFETIME,
    )
    db.add(row)
    return token, row


def load(db: Session, token: str | None, now: datetime) -> PortalSession | None:
    """The enrolment of this cookie, or None if there is none or it expired."""
    if not token or len(token) > 100:
        return None
    row = db.get(PortalSession, _hash(token))
    if row is None or row.expires_at <= now:
        return None
    return row


def purge_expired(db: Session, now: datetime) -> None:
    db.execute(delete(PortalSession).where(PortalSession.expires_at < now))


def csrf_matches(row: PortalSession, sent: str | None) -> bool:
    return bool(sent) and secrets.compare_digest(row.csrf_token.encode(), (sent or "").encode())
