"""Staff sign-in sessions and sign-in limits, both kept in the database so every worker
and host shares them.

- A session is a random token in an HttpOnly, SameSite=Strict cookie; the table keys it by
  SHA-256. It ends after IDLE without a page request (the live stream does not count: a
  dashboard left open on an empty desk must still sign out), after LIFETIME in any case,
  and on sign-out.
- Sign-in failures are counted per username and per client address in fixed windows
  (the portal's counters table): USER_MAX_FAILURES per username locks that name for the
  rest of the window whoever tries, ADDRESS_MAX_FAILURES per address locks the address.
- Each sign-in deletes the sessions that can no longer be used and the counters of
  windows that ended, so neither table grows with the years (sign-ins are a few a day
  per person: cheap enough to do there rather than in a job).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, or_
from sqlalchemy.orm import Session

from ..portal import limits
from ..portal.models import PortalAttempt
from . import accounts
from .models import StaffSession

IDLE = timedelta(minutes=15)
LIFETIME = timedelta(hours=12)
WINDOW = timedelta(minutes=15)
USER_MAX_FAILURES = 5
ADDRESS_MAX_FAILURES = 20
USER_SCOPE, ADDRESS_SCOPE = "staff_user", "staff_ip"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class StaffUser:
    """The signed-in person, as every dashboard route sees them."""

    id: str
    username: str
    display_name: str
    role: str
    site_ids: tuple[str, ...]  # () = every site
    clinician_id: str | None
    csrf_token: str  # of this session: every POST form carries it as field `csrf`
    idle_seconds: int = int(IDLE.total_seconds())

    def may_see_site(self, site_id: str) -> bool:
        return not self.site_ids or site_id in self.site_ids


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(db: Session, account: accounts.Account, now: datetime) -> str:
    """A new session for `account`; the token for the cookie."""
    token = secrets.token_urlsafe(32)
    db.add(StaffSession(token_hash=_hash(token), user_id=account.id, csrf_token=secrets.token_urlsafe(32),
                        created_at=now, last_seen_at=now))
    return token


def current(db: Session, token: str | None, now: datetime, *, touch: bool = True) -> StaffUser | None:
    """The session's user when it is still open (idle and lifetime limits, account enabled)."""
    if not token or len(token) > 100:
        return None
    row = db.get(StaffSession, _hash(token))
    if row is None or row.ended_at is not None:
        return None
    if now - row.last_seen_at > IDLE or now - row.created_at > LIFETIME:
        row.ended_at = now
        return None
    account = accounts.get(db, row.user_id)
    if account is None or account.disabled:
        row.ended_at = now
        return None
    if touch:
        row.last_seen_at = now
    return StaffUser(account.id, account.username, account.display_name, account.role, account.site_ids,
                     account.clinician_id, row.csrf_token)


def purge_finished(db: Session, now: datetime) -> None:
    """Delete sessions that ended or outlived LIFETIME, and staff counters of ended windows."""
    db.execute(delete(StaffSession).where(or_(StaffSession.ended_at.is_not(None),
                                               StaffSession.created_at < now - LIFETIME)))
    db.execute(delete(PortalAttempt).where(PortalAttempt.scope.in_((USER_SCOPE, ADDRESS_SCOPE)),
                                           PortalAttempt.window_start < _window(now)))


def end(db: Session, token: str | None, now: datetime) -> None:
    row = db.get(StaffSession, _hash(token)) if token and len(token) <= 100 else None
    if row is not None and row.ended_at is None:
        row.ended_at = now


# -- sign-in limits ----------------------------------------------------------------------


def _window(now: datetime) -> datetime:
    seconds = int(WINDOW.total_seconds())
    return _EPOCH + timedelta(seconds=int((now - _EPOCH).total_seconds()) // seconds * seconds)


def locked_minutes(db: Session, username: str, address: str | None, now: datetime) -> int:
    """Minutes until sign-in may be tried again for this name or address; 0 when it may."""
    start = _window(now)
    name = accounts.normalise_username(username)[:64]
    if (limits.failure_count(db, USER_SCOPE, name, start) >= USER_MAX_FAILURES
            or limits.failure_count(db, ADDRESS_SCOPE, address or "unknown", start) >= ADDRESS_MAX_FAILURES):
        return max(1, -(-int((start + WINDOW - now).total_seconds()) // 60))
    return 0


def count_failure(db: Session, username: str, address: str | None, now: datetime) -> None:
    start = _window(now)
    limits.add_failures(db, USER_SCOPE, accounts.normalise_username(username)[:64], start, 1)
    limits.add_failures(db, ADDRESS_SCOPE, address or "unknown", start, 1)
