"""POST /enrol: a kiosk trades a single-use IT token for a device id.

Only the SHA-256 of a token is stored. The token is claimed with one conditional
UPDATE (still unused, not expired) in the transaction that creates the device, so of
two racing enrolments with one token exactly one gets a device.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import update
from sqlalchemy.orm import Session

from . import audit, practice_keys
from .auth import public_key_from_base64
from .bundles import config_items
from .errors import api_error
from .models import Device, EnrolmentToken, Site



class EnrolRequest(BaseModel):
    token: str = Field(min_length=1, max_length=200)
    public_key: str = Field(min_length=1, max_length=100, description="base64 of 32 raw Ed25519 bytes")
    hostname: str = Field(min_length=1, max_length=253)
    version: str | None = Field(default=None, max_length=64)


class SiteOut(BaseModel):
    id: str
    name: str
    timezone: str


class EnrolAnswer(BaseModel):
    device_id: str
    site: SiteOut
    config: dict[str, Any]
    ca_certificate: str | None
    # The practice's check-in public keys {key_id: base64 raw Ed25519}: the kiosk checks
    # reminder QR codes with them offline (sync_protocol/checkin_token.py).
    checkin_keys: dict[str, str]
    server_time: str  # ISO 8601 with +00:00


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def enrol(
    db: Session, req: EnrolRequest, now: datetime, ca_certificate: str | None,
    path: str, client: str | None,
) -> EnrolAnswer:
    """Runs in `db`'s transaction; raises HTTPException (after auditing) on refusal."""
    try:
        public_key_from_base64(req.public_key)  # before the token: a typo must not burn it
    except ValueError as e:
        raise api_error(422, "bad_public_key", str(e)) from None
    digest = token_hash(req.token)
    device_id = str(uuid.uuid4())
    claimed = db.execute(
        update(EnrolmentToken)
        .where(EnrolmentToken.token_hash == digest, EnrolmentToken.used_at.is_(None),
               EnrolmentToken.expires_at > now)
        .values(used_at=now, device_id=device_id)
        .execution_options(synchronize_session=False)
    ).rowcount
    token = db.get(EnrolmentToken, digest)
    if not claimed:
        if token is None:
            code, status, message = "token_unknown", 401, "no such enrolment token: check it, or ask IT for a new one"
        elif token.used_at is not None:
            code, status, message = "token_used", 410, "this enrolment token was already used: ask IT for a new one"
        else:
            code, status, message = "token_expired", 410, "this enrolment token has expired: ask IT for a new one"
        audit.record(db, "enrolment.refused", now, code=code, site_id=token.site_id if token else None,
                     path=path, client_address=client)
        db.commit()  # the audit row stays although the request fails
        raise api_error(status, code, message)
    site = db.get(Site, token.site_id)
    assert site is not None  # foreign key
    db.add(Device(id=device_id, site_id=site.id, public_key=req.public_key, hostname=req.hostname,
                  version=req.version, enrolled_at=now))
    db.flush()
    audit.record(db, "device.enrolled", now, device_id=device_id, site_id=site.id, path=path,
                 client_address=client)
    return EnrolAnswer(
        device_id=device_id,
        site=SiteOut(id=site.id, name=site.name, timezone=site.timezone),
        config=config_items(db, site, now),
        ca_certificate=ca_certificate,
        checkin_keys=practice_keys.published_keys(db, now),
        server_time=now.isoformat(),
    )
