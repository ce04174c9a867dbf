"""Staff accounts: create, list, disable, check a password. Passwords follow the portal's
rule (12+ characters, not common) and are stored as argon2id hashes."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Clinician, Site
from ..portal.passwords import problems as password_problems
from .models import StaffUser

ROLES = ("front_desk", "clinician", "admin")
_hasher = PasswordHasher()
# Checked against when the username is unknown, so a wrong name takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not a real password, only for timing")


class AccountError(ValueError):
    """A request IT can fix; the message says how."""


@dataclass(frozen=True)
class Account:
    id: str
    username: str
    display_name: str
    role: str
    site_ids: tuple[str, ...]
    clinician_id: str | None
    disabled: bool


def _account(u: StaffUser) -> Account:
    return Account(u.id, u.username, u.display_name, u.role, tuple(json.loads(u.site_ids)),
                   u.clinician_id, u.disabled_at is not None)


def normalise_username(username: str) -> str:
    return username.strip().lower()


def check_password(password: str) -> None:
    found = password_problems(password)
    if "pw_too_short" in found:
        raise AccountError("the password must have at least 12 characters (a few words make a good one)")
    if "pw_too_long" in found:
        raise AccountError("the password must have at most 128 characters")
    if found:
        raise AccountError("that password is too common or too easy to guess; choose a few unrelated words")


def create(db: Session, username: str, display_name: str, role: str, password: str, now: datetime, *,
           site_ids: tuple[str, ...] = (), clinician_id: str | None = None) -> Account:
    name = normalise_username(username)
    if not (3 <= len(name) <= 64) or not all(c.isalnum() or c in "._-" for c in name):
        raise AccountError("the username must be 3-64 letters, digits, dots, dashes or underscores")
    if role not in ROLES:
        raise AccountError(f"the role must be one of {', '.join(ROLES)}")
    if not display_name.strip():
        raise AccountError("give the person's name as colleagues know it (--name)")
    check_password(password)
    if db.scalar(select(StaffUser.id).where(StaffUser.username == name)):
        raise AccountError(f"the username {name} is taken")
    for site_id in site_ids:
        if db.get(Site, site_id) is None:
            raise AccountError(f"no site with id {site_id}")
    if clinician_id is not None and db.get(Clinician, clinician_id) is None:
        raise AccountError(f"no clinician with id {clinician_id}")
    user = StaffUser(id=str(uuid.uuid4()), username=name, display_name=display_name.strip()[:200], role=role,
                     password_hash=_hasher.hash(password), site_ids=json.dumps(list(site_ids)),
                     clinician_id=clinician_id, created_at=now)
    db.add(user)
    db.flush()
    return _account(user)


def set_password(db: Session, username: str, password: str) -> None:
    user = _by_name(db, username)
    check_password(password)
    user.password_hash = _hasher.hash(password)


def disable(db: Session, username: str, now: datetime) -> None:
    user = _by_name(db, username)
    if user.disabled_at is None:
        user.disabled_at = now


def list_all(db: Session) -> list[Account]:
    return [_account(u) for u in db.scalars(select(StaffUser).order_by(StaffUser.username))]


def _by_name(db: Session, username: str) -> StaffUser:
    user = db.scalar(select(StaffUser).where(StaffUser.username == normalise_username(username)))
    if user is None:
        raise AccountError(f"no staff account named {normalise_username(username)}")
    return user


def verify(db: Session, username: str, password: str) -> Account | None:
    """The account when the password is right and the account enabled; else None."""
    user = db.scalar(select(StaffUser).where(StaffUser.username == normalise_username(username)[:64]))
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password[:128])
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if user is None or user.disabled_at is not None:
        return None
    return _account(user)


def get(db: Session, user_id: str) -> Account | None:
    user = db.get(StaffUser, user_id)
    return _account(user) if user is not None else None
