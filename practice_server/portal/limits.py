"""Brute-force limits of the enrolment pages, counted in the database (portal_attempts)
so every worker and host shares them.

- Per invitation: at most INVITATION_MAX_FAILURES wrong birth dates, ever; then the
  invitation is locked for good (the patient gets a new one at the kiosk or the desk).
  The attempt is counted *before* the birth date is compared (an atomic upsert that
  returns the new count) and given back when it was right, so a burst of parallel
  guesses in several workers cannot get more than the limit compared.
- Per client address: at most IP_MAX_FAILURES failures of any kind (wrong birth date,
  forged invitation, form not from our page) per fixed IP_WINDOW; then every portal
  page refuses that address until the window ends, and says when that is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from .models import IP_LEN, PortalAttempt

INVITATION = "invitation"
IP = "ip"
INVITATION_MAX_FAILURES = 5
IP_MAX_FAILURES = 20
IP_WINDOW = timedelta(hours=1)
NO_WINDOW = datetime(1970, 1, 1, tzinfo=UTC)  # invitation counters never reset
_EPOCH = NO_WINDOW


def ip_window_start(now: datetime) -> datetime:
    seconds = int(IP_WINDOW.total_seconds())
    return _EPOCH + timedelta(seconds=(int((now - _EPOCH).total_seconds()) // seconds) * seconds)


def _subject(address: str | None) -> str:
    return (address or "unknown")[:IP_LEN]


def add_failures(db: Session, scope: str, subject: str, window_start: datetime, delta: int) -> int:
    """failures += delta for the row (made at `delta` when absent), atomically; the new value."""
    dialect = db.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(PortalAttempt).values(
        scope=scope, subject=subject, window_start=window_start, failures=delta)
    statement = statement.on_conflict_do_update(
        index_elements=["scope", "subject", "window_start"],
        set_={"failures": PortalAttempt.failures + delta},
    ).returning(PortalAttempt.failures)
    return int(db.execute(statement).scalar_one())


def failure_count(db: Session, scope: str, subject: str, window_start: datetime) -> int:
    return db.scalar(select(PortalAttempt.failures).where(
        PortalAttempt.scope == scope, PortalAttempt.subject == subject,
        PortalAttempt.window_start == window_start)) or 0


# -- per client address ------------------------------------------------------------------


@dataclass(frozen=True)
class Lockout:
    until: datetime

    def minutes_left(self, now: datetime) -> int:
        return max(1, -(-int((self.until - now).total_seconds()) // 60))  # rounded up


def address_lockout(db: Session, address: str | None, now: datetime) -> Lockout | None:
    start = ip_window_start(now)
    if failure_count(db, IP, _subject(address), start) >= IP_MAX_FAILURES:
        return Lockout(until=start + IP_WINDOW)
    return None


def count_address_failure(db: Session, address: str | None, now: datetime) -> None:
    add_failures(db, IP, _subject(address), ip_window_start(now), 1)


# -- per invitation ----------------------------------------------------------------------


def invitation_failures(db: Session, invitation_id: str) -> int:
    return failure_count(db, INVITATION, invitation_id, NO_WINDOW)


def invitation_locked(db: Session, invitation_id: str) -> bool:
    return invitation_failures(db, invitation_id) >= INVITATION_MAX_FAILURES


def claim_birth_date_try(db: Session, invitation_id: str) -> bool:
    """Count one try before comparing; False when the invitation has no tries left."""
    return add_failures(db, INVITATION, invitation_id, NO_WINDOW, 1) <= INVITATION_MAX_FAILURES


def give_back_birth_date_try(db: Session, invitation_id: str) -> None:
    """The birth date was right: that try was no failure."""
    db.execute(update(PortalAttempt).where(
        PortalAttempt.scope == INVITATION, PortalAttempt.subject == invitation_id,
        PortalAttempt.window_start == NO_WINDOW).values(failures=PortalAttempt.failures - 1))


def purge_old_windows(db: Session, now: datetime) -> None:
    """Address windows that ended can never lock anyone again."""
    db.execute(delete(PortalAttempt).where(
        PortalAttempt.scope == IP, PortalAttempt.window_start < ip_window_start(now) - IP_WINDOW))
