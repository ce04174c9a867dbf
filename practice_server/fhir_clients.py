"""Who may read the FHIR API: EHR and integration-engine clients (OAuth 2.0 client
credentials, RFC 6749 section 4.4) and the short-lived bearer tokens they get.

The client secret is 32 random bytes shown once; only its SHA-256 is kept (a secret of
that entropy needs no slow hash). A token lives TOKEN_LIFETIME and is kept hashed too,
so every server worker accepts it and a database leak gives no usable credential.
Scopes are SMART v1 system scopes: system/<Resource>.read or system/*.read.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from kiosk.store.models import UTCDateTime

from .models import Base

TOKEN_LIFETIME = timedelta(minutes=5)
RESOURCES = ("Appointment", "Patient", "QuestionnaireResponse", "Consent", "Coverage", "DocumentReference")
ALL_SCOPES = ("system/*.read", *(f"system/{r}.read" for r in RESOURCES))


class FhirClient(Base):
    __tablename__ = "fhir_clients"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # the client_id
    name: Mapped[str] = mapped_column(String(200))
    secret_sha256: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[str] = mapped_column(Text)  # space-separated
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class FhirToken(Base):
    __tablename__ = "fhir_tokens"

    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("fhir_clients.id"), index=True)
    scopes: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class ClientError(ValueError):
    """A request IT can fix; the message says how."""


@dataclass(frozen=True)
class Caller:
    client_id: str
    scopes: frozenset[str]

    def may_read(self, resource: str) -> bool:
        return "system/*.read" in self.scopes or f"system/{resource}.read" in self.scopes


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def add(db: Session, name: str, scopes: list[str], now: datetime) -> tuple[str, str]:
    """A new client; (client_id, secret). The secret is not kept and cannot be shown again."""
    unknown = [s for s in scopes if s not in ALL_SCOPES]
    if unknown or not scopes:
        raise ClientError(f"scopes must be some of: {' '.join(ALL_SCOPES)} (not {' '.join(unknown) or 'none'})")
    if not name.strip():
        raise ClientError("give the client a name IT will recognise, e.g. the EHR's interface engine")
    client_id, secret = "ehr-" + secrets.token_hex(8), secrets.token_urlsafe(32)
    db.add(FhirClient(id=client_id, name=name.strip()[:200], secret_sha256=_sha(secret), scopes=" ".join(scopes),
                      created_at=now))
    return client_id, secret


def revoke(db: Session, client_id: str, now: datetime) -> bool:
    client = db.get(FhirClient, client_id[:64])
    if client is None:
        return False
    if client.revoked_at is None:
        client.revoked_at = now
    return True


def list_all(db: Session) -> list[FhirClient]:
    return list(db.scalars(select(FhirClient).order_by(FhirClient.created_at)))


def issue_token(db: Session, client_id: str, secret: str, wanted: str | None, now: datetime) -> tuple[str, str] | None:
    """(access token, granted scopes) for valid credentials, else None. `wanted` narrows
    the client's scopes (space-separated); asking for more than it has is refused."""
    client = db.get(FhirClient, client_id[:64]) if client_id else None
    if client is None or client.revoked_at is not None or \
            not hmac.compare_digest(client.secret_sha256, _sha(secret[:200])):
        return None
    allowed = set(client.scopes.split())
    granted = set(wanted.split()) if wanted else allowed
    if not granted <= allowed:
        return None
    token = secrets.token_urlsafe(32)
    db.add(FhirToken(token_sha256=_sha(token), client_id=client.id, scopes=" ".join(sorted(granted)),
                     expires_at=now + TOKEN_LIFETIME))
    return token, " ".join(sorted(granted))


def caller(db: Session, token: str, now: datetime) -> Caller | None:
    row = db.get(FhirToken, _sha(token[:200])) if token else None
    if row is None or row.expires_at <= now:
        return None
    client = db.get(FhirClient, row.client_id)
    if client is None or client.revoked_at is not None:
        return None
    return Caller(client.id, frozenset(row.scopes.split()))
