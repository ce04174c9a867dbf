"""Portal invitations (sync_protocol/portal_invitation.py): minted offline with the
kiosk's device key, verified with that device's public key."""

from __future__ import annotations

import base64
import random
import string
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sync_protocol import portal_invitation as pi
from sync_protocol import signed_code
from sync_protocol.checkin_token import make_checkin_token
from sync_protocol.portal_invitation import (
    PortalInvitation,
    TokenError,
    make_portal_invitation,
    verify_portal_invitation,
)

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
EXPIRES = NOW + timedelta(days=7)
DEVICE = str(uuid.uuid4())


@pytest.fixture(scope="module")
def device_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture(scope="module")
def key_for(device_key):
    keys = {DEVICE: device_key.public_key()}
    return keys.get


def invitation(key, **kw) -> str:
    fields = dict(device_id=DEVICE, appointment_id=str(uuid.uuid4()), expires_at=EXPIRES)
    fields.update(kw)
    return make_portal_invitation(key, **fields)


def code_of(text, key_for, now=NOW) -> str:
    with pytest.raises(TokenError) as caught:
        verify_portal_invitation(text, key_for, now)
    return caught.value.code


def test_round_trip(device_key, key_for):
    appointment, inv_id = str(uuid.uuid4()), str(uuid.uuid4())
    text = invitation(device_key, appointment_id=appointment, invitation_id=inv_id)
    assert text.startswith("PI1.") and len(text) < 200
    assert set(text) <= set(string.ascii_uppercase + string.digits + ".")
    assert verify_portal_invitation(text, key_for, NOW) == PortalInvitation(
        device_id=DEVICE, appointment_id=appointment, invitation_id=inv_id, expires_at=EXPIRES)


def test_invitation_ids_are_made_unique_and_canonical(device_key, key_for):
    ids = {verify_portal_invitation(invitation(device_key), key_for, NOW).invitation_id for _ in range(30)}
    assert len(ids) == 30 and all(str(uuid.UUID(i)) == i for i in ids)
    upper = str(uuid.uuid4()).upper()
    assert verify_portal_invitation(invitation(device_key, invitation_id=upper), key_for, NOW).invitation_id == upper.lower()


def test_expired(device_key, key_for):
    text = invitation(device_key)
    assert verify_portal_invitation(text, key_for, EXPIRES - timedelta(seconds=1))
    assert code_of(text, key_for, now=EXPIRES) == pi.EXPIRED


def test_unknown_or_revoked_device(device_key):
    assert code_of(invitation(device_key), lambda device_id: None) == pi.UNKNOWN_KEY


def test_signed_by_another_kiosk_is_forged(key_for):
    assert code_of(invitation(Ed25519PrivateKey.generate()), key_for) == pi.FORGED


def test_forged_is_told_before_expired(key_for):
    assert code_of(invitation(Ed25519PrivateKey.generate()), key_for, now=EXPIRES + timedelta(days=1)) == pi.FORGED


def test_the_resolver_is_asked_for_the_device_named_in_the_invitation(device_key):
    asked = []
    text = invitation(device_key)
    verify_portal_invitation(text, lambda d: asked.append(d) or device_key.public_key(), NOW)
    assert asked == [DEVICE]


@pytest.mark.parametrize("part", [1, 2])
def test_every_bit_flip_is_refused(device_key, key_for, part):
    text = invitation(device_key)
    parts = text.split(".")
    raw = bytearray(base64.b32decode(parts[part] + "=" * (-len(parts[part]) % 8)))
    for bit in range(len(raw) * 8):
        flipped = bytearray(raw)
        flipped[bit // 8] ^= 1 << (bit % 8)
        changed = list(parts)
        changed[part] = signed_code.b32(bytes(flipped))
        assert code_of(".".join(changed), key_for) in (pi.FORGED, pi.MALFORMED, pi.UNKNOWN_KEY)


def test_a_check_in_code_is_not_an_invitation(device_key, key_for):
    checkin = make_checkin_token(device_key, appointment_id=str(uuid.uuid4()), site_id=str(uuid.uuid4()),
                                 expires_at=EXPIRES, key_id="k1")
    assert code_of(checkin, key_for) == pi.MALFORMED
    assert code_of("PI1" + checkin[3:], key_for) in (pi.MALFORMED, pi.FORGED, pi.UNKNOWN_KEY)


@pytest.mark.parametrize("text", ["", "PI1", "PI1..", "PI1.AAAA.AAAA", "PI2.AAAA.AAAA", "https://portal/x",
                                  "PI1." + "B" * 5000, None, 7])
def test_malformed(text, key_for):
    assert code_of(text, key_for) == pi.MALFORMED


def test_fuzz_only_ever_raises_token_error(device_key, key_for):
    rng = random.Random(11)
    text = invitation(device_key)
    for _ in range(2000):
        chars = list(text)
        pos = rng.randrange(len(chars))
        chars[pos] = rng.choice(string.ascii_letters + string.digits + ".= ")
        mutated = "".join(chars)
        try:
            verify_portal_invitation(mutated, key_for, NOW)
        except TokenError as e:
            assert e.code in (pi.MALFORMED, pi.FORGED, pi.UNKNOWN_KEY)
        else:
            assert "".join(mutated.split()).upper() == text


@pytest.mark.parametrize("bad", [{"invitation_id": "not-a-uuid"}, {"expires_at": datetime(2026, 12, 1)},
                                 {"device_id": ""}, {"appointment_id": "x" * 100}])
def test_make_refuses_bad_input(device_key, bad):
    with pytest.raises(ValueError):
        invitation(device_key, **bad)


def test_messages_never_quote_the_invitation(device_key, key_for):
    text = invitation(device_key)
    for candidate, now in ((text, EXPIRES), (text[:-3], NOW), (invitation(Ed25519PrivateKey.generate()), NOW)):
        with pytest.raises(TokenError) as caught:
            verify_portal_invitation(candidate, key_for, now)
        assert candidate.split(".")[1][:12] not in str(caught.value) and DEVICE not in str(caught.value)
