"""Making the portal account at the end of the enrolment, once per invitation and once per
patient, in every worker: the invitation's use and the account go in with one savepoint,
and the unique keys decide a race (the loser gets AccountRefused)."""

from __future__ import annotations

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import schedule
from ..models import Patient, Site
from .models import PortalAccount, PortalInvitationUse, PortalSession
from .terms import TERMS_VERSION


class AccountRefused(Exception):
    """code: used (the invitation made an account already) or has_account (the patient has one)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def has_account(db: Session, patient_id: str) -> bool:
    """An account made here, or one the practice's records say the patient has."""
    patient = db.get(Patient, patient_id)
    if patient is not None and patient.portal_account:
        return True
    return db.scalar(select(PortalAccount.id).where(PortalAccount.patient_id == patient_id)) is not None


def create_account(db: Session, enrolment: PortalSession, now: datetime) -> str:
    """Add the account and the invitation's use to `db`'s transaction; the account id."""
    if enrolment.password_hash is None:
        raise ValueError("an enrolment reached the terms without a password")
    site = db.get(Site, enrolment.site_id)
    assert site is not None  # portal_sessions.site_id is a foreign key
    account_id = str(uuid.uuid4())
    try:
        with db.begin_nested():
            db.add(PortalAccount(
                id=account_id, patient_id=enrolment.patient_id, password_hash=enrolment.password_hash,
                totp_secret=enrolment.totp_secret if enrolment.totp_enabled else None,
                totp_enabled=enrolment.totp_enabled, terms_version=TERMS_VERSION, created_at=now,
                created_via_device=enrolment.device_id, invitation_id=enrolment.invitation_id,
                site_id=enrolment.site_id, created_day=now.astimezone(ZoneInfo(site.timezone)).date(),
            ))
            db.flush()
            db.add(PortalInvitationUse(invitation_id=enrolment.invitation_id, used_at=now,
                                       account_id=account_id))
            db.flush()
    except IntegrityError:
        used = db.get(PortalInvitationUse, enrolment.invitation_id) is not None
        raise AccountRefused("used" if used else "has_account") from None
    _flag_patient(db, enrolment.patient_id, now)
    return account_id


def _flag_patient(db: Session, patient_id: str, now: datetime) -> None:
    """Patient.portal_account goes out with the schedule: the site's kiosks stop offering
    this patient an invitation after their next pull."""
    patient = db.get(Patient, patient_id)
    assert patient is not None  # portal_accounts.patient_id is a foreign key
    if not patient.portal_account:
        patient.portal_account = True
        patient.updated_at = now
        db.flush()
        schedule.touch_patient(db, patient_id, now.date())
