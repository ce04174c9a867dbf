"""Tables of the staff dashboard (migration 0005_dashboard.py; the migration test compares
them with it, so practice_server.dashboard imports this module).

- staff_users: one per person. Passwords are argon2id hashes; `site_ids` is a JSON list
  (empty: every site). Disabled accounts are kept for the audit trail, never deleted.
- staff_sessions: the browser holds a random token; only its SHA-256 is the key, so a
  database leak gives no usable session. Idle and absolute limits are checked per request.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kiosk.store.models import UTCDateTime

from ..models import UUID_LEN, Base


class StaffUser(Base):
    __tablename__ = "staff_users"

    id: Mapped[str] = mapped_column(String(UUID_LEN), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)  # lower case
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))  # front_desk, clinician or admin
    password_hash: Mapped[str] = mapped_column(Text)
    site_ids: Mapped[str] = mapped_column(Text)  # JSON list; [] = every site
    clinician_id: Mapped[str | None] = mapped_column(ForeignKey("clinicians.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class StaffSession(Base):
    __tablename__ = "staff_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("staff_users.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
