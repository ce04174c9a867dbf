"""Check-in tokens (sync_protocol/checkin_token.py): round trip, every refusal, fuzzing."""

from __future__ import annotations

import base64
import random
import string
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sync_protocol import checkin_token as ct
from sync_protocol import signed_code
from sync_protocol.checkin_token import (
    DEMO_KEY_ID,
    DEMO_SITE_ID,
    TokenError,
    checkin_keys_from,
    decode_public_keys,
    demo_checkin_token,
    demo_public_keys,
    encode_public_key,
    expiry_for_day,
    key_id_for,
    make_checkin_token,
    verify_checkin_token,
)
from sync_protocol.portal_invitation import make_portal_invitation

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
EXPIRES = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)  # end of 2026-11-23 in Chicago
QR_ALPHANUMERIC = set(string.digits + string.ascii_uppercase + " $%*+-./:")


@pytest.fixture(scope="module")
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture(scope="module")
def key_id(key) -> str:
    return key_id_for(key.public_key())


@pytest.fixture(scope="module")
def keys(key, key_id):
    return {key_id: key.public_key()}


def token(key, kid, **kw) -> str:
    fields = dict(appointment_id=str(uuid.uuid4()), site_id=str(uuid.uuid4()), expires_at=EXPIRES, key_id=kid)
    fields.update(kw)
    return make_checkin_token(key, **fields)


def code_of(text, keys, now=NOW, **kw) -> str:
    with pytest.raises(TokenError) as caught:
        verify_checkin_token(text, keys, now, **kw)
    return caught.value.code


# -- the good path ----------------------------------------------------------------------------


def test_round_trip_gives_back_every_field(key, key_id, keys):
    appointment, site = str(uuid.uuid4()), str(uuid.uuid4())
    text = make_checkin_token(key, appointment_id=appointment, site_id=site, expires_at=EXPIRES,
                              key_id=key_id, token_id="0123456789abcdef")
    got = verify_checkin_token(text, keys, NOW, site_id=site)
    assert got == ct.CheckinToken(appointment_id=appointment, site_id=site, expires_at=EXPIRES,
                                  token_id="0123456789abcdef", key_id=key_id)


def test_text_is_short_and_qr_alphanumeric(key, key_id):
    import qrcode

    text = token(key, key_id)
    assert text.startswith("CK1.") and len(text) <= 210
    assert set(text) <= QR_ALPHANUMERIC
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M)
    qr.add_data(text)
    qr.make(fit=True)
    assert qr.version <= 8  # 49 x 49 modules: reads easily off a phone screen or a letter


def test_token_ids_are_random_and_well_formed(key, key_id, keys):
    ids = {verify_checkin_token(token(key, key_id), keys, NOW).token_id for _ in range(50)}
    assert len(ids) == 50
    assert all(len(i) == 16 and set(i) <= set("0123456789abcdef") for i in ids)


def test_ids_that_are_not_uuids_are_kept_as_text(key, key_id, keys):
    text = token(key, key_id, appointment_id="EHR-000123", site_id="NORTH")
    got = verify_checkin_token(text, keys, NOW)
    assert (got.appointment_id, got.site_id) == ("EHR-000123", "NORTH")
    # an upper-case UUID is not canonical: kept exactly as given, as text
    upper = str(uuid.uuid4()).upper()
    assert verify_checkin_token(token(key, key_id, appointment_id=upper), keys, NOW).appointment_id == upper


def test_typed_codes_are_forgiven_case_and_line_breaks(key, key_id, keys):
    text = token(key, key_id)
    typed = "\n".join(text[i:i + 40] for i in range(0, len(text), 40)).lower()
    assert verify_checkin_token(typed, keys, NOW) == verify_checkin_token(text, keys, NOW)


def test_expiry_is_kept_to_the_second_rounded_down(key, key_id, keys):
    got = verify_checkin_token(token(key, key_id, expires_at=EXPIRES + timedelta(microseconds=999_999)), keys, NOW)
    assert got.expires_at == EXPIRES


def test_key_rotation_several_keys_verify(key, key_id):
    new = Ed25519PrivateKey.generate()
    both = {key_id: key.public_key(), key_id_for(new.public_key()): new.public_key()}
    for signer, kid in ((key, key_id), (new, key_id_for(new.public_key()))):
        assert verify_checkin_token(token(signer, kid), both, NOW).key_id == kid


# -- refusals ---------------------------------------------------------------------------------


def test_expired_at_the_end_of_the_day_not_before(key, key_id, keys):
    text = token(key, key_id)
    assert verify_checkin_token(text, keys, EXPIRES - timedelta(seconds=1))
    assert code_of(text, keys, now=EXPIRES) == ct.EXPIRED
    assert code_of(text, keys, now=EXPIRES + timedelta(days=30)) == ct.EXPIRED


def test_unknown_key(key, key_id):
    assert code_of(token(key, key_id), {"someone-else": Ed25519PrivateKey.generate().public_key()}) == ct.UNKNOWN_KEY
    assert code_of(token(key, key_id), {}) == ct.UNKNOWN_KEY


def test_signed_by_another_key_under_our_key_id_is_forged(key_id, keys):
    assert code_of(token(Ed25519PrivateKey.generate(), key_id), keys) == ct.FORGED


@pytest.mark.parametrize("part", [1, 2])
def test_every_bit_flip_is_refused(key, key_id, keys, part):
    """Flip each bit of the payload (part 1) or signature (part 2) in turn, re-encoded
    canonically: never accepted; a payload flip is forged or malformed, a signature
    flip is forged."""
    text = token(key, key_id)
    parts = text.split(".")
    raw = bytearray(base64.b32decode(parts[part] + "=" * (-len(parts[part]) % 8)))
    codes = set()
    for bit in range(len(raw) * 8):
        flipped = bytearray(raw)
        flipped[bit // 8] ^= 1 << (bit % 8)
        changed = list(parts)
        changed[part] = signed_code.b32(bytes(flipped))
        codes.add(code_of(".".join(changed), keys))
    assert codes <= ({ct.FORGED} if part == 2 else {ct.FORGED, ct.MALFORMED, ct.UNKNOWN_KEY})
    assert ct.FORGED in codes


def test_forged_is_told_before_expired_and_other_site(key_id, keys):
    forged = token(Ed25519PrivateKey.generate(), key_id)
    assert code_of(forged, keys, now=EXPIRES + timedelta(days=1), site_id="elsewhere") == ct.FORGED


def test_other_site_when_the_kiosk_gives_its_site(key, key_id, keys):
    site = str(uuid.uuid4())
    text = token(key, key_id, site_id=site)
    assert verify_checkin_token(text, keys, NOW, site_id=site).site_id == site
    assert code_of(text, keys, site_id=str(uuid.uuid4())) == ct.OTHER_SITE
    assert verify_checkin_token(text, keys, NOW).site_id == site  # no site given: not checked


def test_a_portal_invitation_is_not_a_check_in_code(key, key_id, keys):
    invitation = make_portal_invitation(key, device_id=key_id, appointment_id=str(uuid.uuid4()),
                                        expires_at=EXPIRES)
    assert code_of(invitation, keys) == ct.MALFORMED
    # the same payload and signature under the check-in prefix: the signing domains differ
    assert code_of("CK1" + invitation[3:], keys) in (ct.MALFORMED, ct.FORGED)


def test_a_validly_signed_payload_with_extra_bytes_is_malformed(key, key_id, keys):
    good = token(key, key_id).split(".")[1]
    payload = base64.b32decode(good + "=" * (-len(good) % 8)) + b"\x00"
    text = signed_code.seal("CK1", ct.DOMAIN, payload, key)
    assert code_of(text, keys) == ct.MALFORMED


@pytest.mark.parametrize("text", [
    "", " ", "CK1", "CK1.", "CK1..", "CK1.A.A", "CK2.AAAA.AAAA", "ck1", "https://example.org/?c=1",
    "CK1.AAAAAAAA.AAAAAAAA.AAAAAAAA", "CK1.AAAA=.AAAA", "CK1.0189.AAAA", "CK1.AAAAAAAB.AAAA",
    "CK1." + "A" * 10_000, "CK1.\u00c9\u00c9\u00c9.AAAA", "\x00", "CK1.AAAA.AAAA\x00",
])
def test_malformed_inputs(text, keys):
    assert code_of(text, keys) == ct.MALFORMED


@pytest.mark.parametrize("value", [None, 12, b"CK1.AAAA.AAAA", ["CK1"]])
def test_not_text_is_malformed(value, keys):
    assert code_of(value, keys) == ct.MALFORMED


def test_truncations_are_refused(key, key_id, keys):
    text = token(key, key_id)
    for cut in range(len(text)):
        assert code_of(text[:cut], keys) in (ct.MALFORMED, ct.FORGED)


def test_fuzz_mutations_only_ever_raise_token_error(key, key_id, keys):
    rng = random.Random(6)
    text = token(key, key_id)
    alphabet = string.ascii_letters + string.digits + ".=-_ /\n\u00e9"
    for _ in range(3000):
        chars = list(text)
        for _ in range(rng.randint(1, 4)):
            op = rng.randrange(3)
            pos = rng.randrange(len(chars))
            if op == 0:
                chars[pos] = rng.choice(alphabet)
            elif op == 1:
                del chars[pos]
            else:
                chars.insert(pos, rng.choice(alphabet))
        mutated = "".join(chars)
        try:
            got = verify_checkin_token(mutated, keys, NOW)
        except TokenError as e:
            assert e.code in (ct.MALFORMED, ct.FORGED, ct.UNKNOWN_KEY)
        else:  # only a change of case or spacing may still verify, to the same content
            assert "".join(mutated.split()).upper() == text
            assert got == verify_checkin_token(text, keys, NOW)


def test_fuzz_random_text_only_ever_raises_token_error(keys):
    rng = random.Random(7)
    for _ in range(2000):
        length = rng.randint(0, 300)
        text = "CK1." * rng.randint(0, 1) + "".join(rng.choice(string.printable) for _ in range(length))
        with pytest.raises(TokenError):
            verify_checkin_token(text, keys, NOW)


def test_messages_never_quote_the_code(key, key_id, keys):
    text = token(key, key_id, appointment_id="EHR-SECRET-1", site_id="SITE-SECRET")
    parts = text.split(".")
    for candidate, kw in ((text, {"now": EXPIRES}), (text, {"site_id": "x"}), (text[:-5], {}),
                          (parts[0] + "." + parts[1] + ".AAAA", {})):
        with pytest.raises(TokenError) as caught:
            verify_checkin_token(candidate, keys, kw.get("now", NOW), site_id=kw.get("site_id"))
        message = str(caught.value)
        assert parts[1][:12] not in message and parts[2][:12] not in message and "SECRET" not in message


# -- making tokens ----------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [
    {"expires_at": datetime(2026, 11, 24, 6, 0)},  # naive
    {"key_id": ""}, {"key_id": "has space"}, {"key_id": "x" * 33},
    {"token_id": "xyz"}, {"token_id": "0123456789ABCDEF"}, {"token_id": "00"},
    {"appointment_id": ""}, {"appointment_id": "x" * 65}, {"appointment_id": "caf\u00e9"},
    {"site_id": None},
])
def test_make_refuses_bad_input(key, key_id, bad):
    with pytest.raises(ValueError):
        token(key, key_id, **bad)


def test_verify_needs_an_aware_now(key, key_id, keys):
    with pytest.raises(ValueError):
        verify_checkin_token(token(key, key_id), keys, datetime(2026, 11, 23, 15, 0))


@pytest.mark.parametrize("day, timezone, expected", [
    (date(2026, 11, 23), "America/Chicago", datetime(2026, 11, 24, 6, 0, tzinfo=UTC)),  # CST
    (date(2026, 7, 4), "America/Chicago", datetime(2026, 7, 5, 5, 0, tzinfo=UTC)),  # CDT
    (date(2026, 3, 7), "America/Chicago", datetime(2026, 3, 8, 6, 0, tzinfo=UTC)),  # the night DST starts
    (date(2026, 11, 23), "Pacific/Auckland", datetime(2026, 11, 23, 11, 0, tzinfo=UTC)),
    (date(2026, 11, 23), "UTC", datetime(2026, 11, 24, 0, 0, tzinfo=UTC)),
])
def test_expiry_is_the_end_of_the_local_day(day, timezone, expected):
    assert expiry_for_day(day, timezone) == expected


# -- public keys as they travel ---------------------------------------------------------------


def test_public_keys_round_trip_through_json(key, key_id):
    raw = {key_id: encode_public_key(key.public_key())}
    decoded = decode_public_keys(raw)
    assert list(decoded) == [key_id]
    text = token(key, key_id)
    assert verify_checkin_token(text, decoded, NOW).key_id == key_id
    assert checkin_keys_from({"checkin_keys": raw}).keys() == decoded.keys()
    assert checkin_keys_from({"site_name": "x"}) == {}


@pytest.mark.parametrize("raw", [
    {"k": "not base64!"}, {"k": base64.b64encode(b"short").decode()}, {"bad id": base64.b64encode(b"x" * 32).decode()},
    {"k": None}, ["k"],
])
def test_bad_public_keys_are_refused_naming_the_key(raw):
    with pytest.raises(ValueError, match="check-in key"):
        decode_public_keys(raw)


def test_key_id_is_derived_from_the_key(key):
    assert key_id_for(key.public_key()) == key_id_for(key.public_key())
    assert key_id_for(key.public_key()) != key_id_for(Ed25519PrivateKey.generate().public_key())


# -- the demo key -----------------------------------------------------------------------------


def test_demo_token_verifies_with_the_demo_key_only(keys):
    appointment = str(uuid.uuid4())
    text = demo_checkin_token(appointment, now=NOW)
    got = verify_checkin_token(text, demo_public_keys(), NOW, site_id=DEMO_SITE_ID)
    assert (got.appointment_id, got.key_id) == (appointment, DEMO_KEY_ID)
    assert got.expires_at == EXPIRES  # the end of today at the demo clinic (Chicago)
    assert code_of(text, keys) == ct.UNKNOWN_KEY  # a real practice's kiosk does not know it
    assert code_of(text, {DEMO_KEY_ID: next(iter(keys.values()))}) == ct.FORGED


def test_demo_token_for_another_day():
    text = demo_checkin_token(str(uuid.uuid4()), day=date(2026, 11, 25))
    assert verify_checkin_token(text, demo_public_keys(), NOW).expires_at == datetime(2026, 11, 26, 6, 0, tzinfo=UTC)
