"""Tables of portal enrolment (migration 0004_portal.py creates them; the migration test
compares them with it, so this module must be imported wherever Base.metadata is used:
practice_server.portal imports it, and app.py imports practice_server.portal).

- portal_accounts: one per patient. `totp_secret` is the authenticator-app secret in
  base32, stored like the rest of the server's patient data (plaintext in a database the
  practice protects at rest); it is never logged, audited or shown again after set-up.
- portal_invitation_uses: the primary key makes an invitation single-use in every worker.
- portal_attempts: failure counters for brute-force limits, shared by all workers.
- portal_sessions: the server-side state of one enrolment between its pages; the browser
  holds only a random token whose SHA-256 is the key.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, PrimaryKeyConstraint, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kiosk.store.models import UTCDateTime

from ..models import UUID_LEN, Base

INVITATION_ID_LEN = 64
IP_LEN = 100


class PortalAccount(Base):
    __tablename__ = "portal_accounts"
    __table_args__ = (Index("ix_portal_accounts_site_id_created_day", "site_id", "created_day"),)

    id: Mapped[str] = mapped_column(String(UUID_LEN), primary_key=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), unique=True)
    password_hash: Mapped[str] = mapped_column(Text)  # argon2id, PHC string
    totp_secret: Mapped[str | None] = mapped_column(String(64))  # base32; see the module doc
    totp_enabled: Mapped[bool] = mapped_column(Boolean)
    terms_version: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_via_device: Mapped[str | None] = mapped_column(ForeignKey("devices.id"))
    invitation_id: Mapped[str | None] = mapped_column(String(INVITATION_ID_LEN), unique=True)
    # The kiosk's site and the site's local date of the sign-up (the dashboard counts these).
    site_id: Mapped[str | None] = mapped_column(ForeignKey("sites.id"))
    created_day: Mapped[date] = mapped_column(Date)


class PortalInvitationUse(Base):
    __tablename__ = "portal_invitation_uses"

    invitation_id: Mapped[str] = mapped_column(String(INVITATION_ID_LEN), primary_key=True)
    used_at: Mapped[datetime] = mapped_column(UTCDateTime)
    account_id: Mapped[str] = mapped_column(ForeignKey("portal_accounts.id"))


class PortalAttempt(Base):
    """Failures of one subject (an invitation, or a client address) in one window.
    Incremented with an atomic upsert, so concurrent guesses in several workers all count."""

    __tablename__ = "portal_attempts"
    __table_args__ = (PrimaryKeyConstraint("scope", "subject", "window_start", name="pk_portal_attempts"),)

    scope: Mapped[str] = mapped_column(String(16))  # invitation or ip
    subject: Mapped[str] = mapped_column(String(IP_LEN))
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)  # the epoch for "no window"
    failures: Mapped[int] = mapped_column(Integer)


class PortalSession(Base):
    __tablename__ = "portal_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 hex of the cookie
    csrf_token: Mapped[str] = mapped_column(String(64))
    invitation_id: Mapped[str] = mapped_column(String(INVITATION_ID_LEN))
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id"))
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"))
    appointment_id: Mapped[str] = mapped_column(ForeignKey("appointments.id"))
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"))
    step: Mapped[str] = mapped_column(String(16))  # birth_date, password, two_factor, terms, done
    language: Mapped[str] = mapped_column(String(8))
    password_hash: Mapped[str | None] = mapped_column(Text)
    totp_secret: Mapped[str | None] = mapped_column(String(64))  # pending until terms are accepted
    totp_enabled: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
