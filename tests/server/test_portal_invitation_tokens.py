"""Portal invitations minted by an enrolled kiosk with its device key verify on the
server with the key the devices table holds for it (sync_protocol/portal_invitation.py)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from practice_server import admin
from practice_server.auth import public_key_from_base64
from practice_server.models import Device
from sync_protocol.portal_invitation import (
    EXPIRED,
    FORGED,
    UNKNOWN_KEY,
    TokenError,
    make_portal_invitation,
    verify_portal_invitation,
)

NOW = datetime.now(UTC)


def enrolled_keys(server, *, honour_revoked: bool = False):
    """public_key_for(device_id) from the devices table; a revoked kiosk gets None."""

    def public_key_for(device_id: str):
        with server.sessions() as db:
            device = db.get(Device, device_id) if len(device_id) <= 36 else None
        if device is None or (device.revoked_at is not None and not honour_revoked):
            return None
        return public_key_from_base64(device.public_key)

    return public_key_for


def mint(kiosk, key=None, **kw) -> str:
    fields = dict(device_id=kiosk.device_id, appointment_id=str(uuid.uuid4()), expires_at=NOW + timedelta(days=7))
    fields.update(kw)
    return make_portal_invitation(key or kiosk.key, **fields)


def code_of(text, resolve, now=NOW) -> str:
    with pytest.raises(TokenError) as caught:
        verify_portal_invitation(text, resolve, now)
    return caught.value.code


def test_an_enrolled_kiosks_invitation_verifies(server, kiosk):
    appointment = str(uuid.uuid4())
    got = verify_portal_invitation(mint(kiosk, appointment_id=appointment), enrolled_keys(server), NOW)
    assert (got.device_id, got.appointment_id) == (kiosk.device_id, appointment)


def test_another_kiosk_cannot_mint_in_this_kiosks_name(server, site, kiosk):
    other = server.kiosk(site.id, "kiosk-2")
    assert code_of(mint(kiosk, key=other.key), enrolled_keys(server)) == FORGED
    assert code_of(mint(kiosk, key=Ed25519PrivateKey.generate()), enrolled_keys(server)) == FORGED
    assert verify_portal_invitation(mint(other), enrolled_keys(server), NOW).device_id == other.device_id


def test_a_revoked_or_unknown_kiosk_is_unknown(server, kiosk):
    text = mint(kiosk)
    with server.sessions.begin() as db:
        admin.revoke_device(db, kiosk.device_id, NOW, "stolen")
    assert code_of(text, enrolled_keys(server)) == UNKNOWN_KEY
    assert code_of(mint(kiosk, device_id=str(uuid.uuid4())), enrolled_keys(server)) == UNKNOWN_KEY


def test_expired_invitation(server, kiosk):
    text = mint(kiosk, expires_at=NOW + timedelta(minutes=30))
    assert code_of(text, enrolled_keys(server), now=NOW + timedelta(minutes=30)) == EXPIRED
