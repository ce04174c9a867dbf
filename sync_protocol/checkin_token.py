"""Check-in tokens: the QR code on an appointment reminder or letter.

    CK1.<base32 payload>.<base32 Ed25519 signature>        (about 200 characters)

Signed by the practice with its check-in key (practice_server/practice_keys.py),
bound to one appointment at one site, valid until the end of the appointment day
in the site's time zone (`expiry_for_day`; the token carries the absolute time),
and carrying no PHI: the payload is the key id, a random token id, the expiry,
the site id and the appointment id, nothing else. Envelope: signed_code.py.

The kiosk verifies offline with the practice's public keys it got at enrolment
and with its config bundle (several at once: key rotation, see `key_id`). What a
signature cannot tell is the kiosk's to check: that the token is for its site
(`site_id=` here, else OTHER_SITE), and that the appointment has not already
arrived (ALREADY_USED) — then it asks for the birth date, so a lost phone alone
never checks anyone in.

No server, web or Kivy imports: kiosk and server both use this module.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from .signed_code import (
    EXPIRED,
    FORGED,
    MALFORMED,
    UNKNOWN_KEY,
    Reader,
    TokenError,
    Writer,
    aware,
    check_expiry,
    check_key_id,
    check_signature,
    lookup,
    seal,
    split,
)

__all__ = [
    "ALREADY_USED", "DEMO_KEY_ID", "DEMO_SITE_ID", "DEMO_TIMEZONE", "EXPIRED", "FORGED", "MALFORMED",
    "OTHER_SITE", "UNKNOWN_KEY", "CheckinToken", "TokenError", "checkin_keys_from", "decode_public_keys",
    "demo_checkin_token", "demo_private_key", "demo_public_keys", "encode_public_key",
    "expiry_for_day", "key_id_for", "make_checkin_token", "verify_checkin_token",
]

PREFIX = "CK1"
DOMAIN = b"clinic-kiosk/checkin-token/v1\x00"
KIND = "check-in code"
TOKEN_ID_BYTES = 8
# Checked by the kiosk, beyond the signature (same TokenError, same style of message).
OTHER_SITE = "other_site"
ALREADY_USED = "already_used"


@dataclass(frozen=True)
class CheckinToken:
    appointment_id: str
    site_id: str
    expires_at: datetime  # aware, UTC, whole seconds
    token_id: str  # 16 hex characters; the server records it with the reminder
    key_id: str


def new_token_id() -> str:
    return secrets.token_hex(TOKEN_ID_BYTES)


def make_checkin_token(
    private_key: Ed25519PrivateKey,
    *,
    appointment_id: str,
    site_id: str,
    expires_at: datetime,
    key_id: str,
    token_id: str | None = None,
) -> str:
    """The token text. `expires_at` (aware) is kept to the whole second, rounded down.
    `token_id`: 16 hex characters, made here when not given. ValueError on bad input."""
    token_id = new_token_id() if token_id is None else token_id
    try:
        raw_id = bytes.fromhex(token_id)
    except (TypeError, ValueError):
        raw_id = b""
    if len(raw_id) != TOKEN_ID_BYTES or raw_id.hex() != token_id:
        raise ValueError(f"a token id is {2 * TOKEN_ID_BYTES} lower-case hex characters")
    payload = (
        Writer().name(key_id).raw(raw_id).time(expires_at, "expires_at")
        .id(site_id, "site_id").id(appointment_id, "appointment_id").bytes()
    )
    return seal(PREFIX, DOMAIN, payload, private_key)


def verify_checkin_token(
    text: str,
    public_keys: Mapping[str, Ed25519PublicKey],
    now: datetime,
    *,
    site_id: str | None = None,
) -> CheckinToken:
    """The token's content once its signature holds and it has not expired; with
    `site_id`, also that it is for that site. Raises TokenError with `code` one of
    malformed, unknown_key, forged, other_site, expired (checked in that order, so a
    forged token never tells whether it would have expired)."""
    aware(now, "now")
    payload, signature = split(text, PREFIX, KIND)
    reader = Reader(payload)
    key_id = reader.name()
    token_id = reader.raw(TOKEN_ID_BYTES).hex()
    expires_at = reader.time()
    token_site = reader.id()
    appointment_id = reader.id()
    reader.end()
    key = lookup(public_keys.get, key_id, "this check-in code was signed by a key this kiosk does not "
                 "know (has the kiosk synced since the practice changed its key?)")
    check_signature(key, DOMAIN, payload, signature, KIND)
    if site_id is not None and token_site != site_id:
        raise TokenError(OTHER_SITE, "this check-in code is for an appointment at another site")
    check_expiry(expires_at, now, KIND)
    return CheckinToken(appointment_id=appointment_id, site_id=token_site, expires_at=expires_at,
                        token_id=token_id, key_id=key_id)


def expiry_for_day(day: date, timezone: str) -> datetime:
    """The end of `day` in `timezone` (the next local midnight), in UTC."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=ZoneInfo(timezone)).astimezone(UTC)


# -- public keys as they travel (enrolment answer, config bundle, checkin_keys.json) ----


def encode_public_key(public_key: Ed25519PublicKey) -> str:
    """Standard base64 of the 32 raw key bytes."""
    return base64.b64encode(public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode("ascii")


def key_id_for(public_key: Ed25519PublicKey) -> str:
    """A short id derived from the key (12 hex characters of its SHA-256)."""
    return hashlib.sha256(public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)).hexdigest()[:12]


def decode_public_keys(raw: Mapping[str, str]) -> dict[str, Ed25519PublicKey]:
    """{key_id: base64 raw public key} -> {key_id: Ed25519PublicKey}. ValueError names
    the key id that is not valid."""
    if not isinstance(raw, Mapping):
        raise ValueError("check-in keys must be an object {key_id: base64 public key}")
    keys: dict[str, Ed25519PublicKey] = {}
    for key_id, text in raw.items():
        try:
            check_key_id(key_id)
            data = base64.b64decode(text, validate=True)
            if len(data) != 32:
                raise ValueError
            keys[key_id] = Ed25519PublicKey.from_public_bytes(data)
        except (TypeError, ValueError, binascii.Error):
            raise ValueError(f"check-in key {str(key_id)[:32]!r} is not a base64 Ed25519 public key") from None
    return keys


def checkin_keys_from(document: Mapping) -> dict[str, Ed25519PublicKey]:
    """The keys under "checkin_keys" of checkin_keys.json, of the enrolment answer or of
    the config bundle's items (all three carry them the same way); {} when absent.
    ValueError when they are not valid."""
    if not isinstance(document, Mapping):
        raise ValueError("expected a JSON object with \"checkin_keys\"")
    raw = document.get("checkin_keys")
    return {} if raw is None else decode_public_keys(raw)


# =======================================================================================
# DEMO ONLY — THIS KEY PAIR IS PUBLIC. Its private half is derived from a fixed string in
# this source file, so anyone can sign check-in codes with it. Only the demo practice
# (practice_server/demo_practice.py) signs with it, and only a kiosk in demo mode
# (KioskConfig.demo: no server configured) may trust it. Never publish it to a real
# kiosk, never register it on a real practice server.
# =======================================================================================
DEMO_KEY_ID = "demo"
DEMO_SITE_ID = "d3e0c0de-0000-4000-8000-00000000f001"  # the demo practice's first site
DEMO_TIMEZONE = "America/Chicago"
_DEMO_SEED = hashlib.sha256(b"clinic-kiosk DEMO check-in key: public, never for real use").digest()


def demo_private_key() -> Ed25519PrivateKey:
    """DEMO ONLY (see above)."""
    return Ed25519PrivateKey.from_private_bytes(_DEMO_SEED)


def demo_public_keys() -> dict[str, Ed25519PublicKey]:
    """DEMO ONLY: what a demo-mode kiosk passes to verify_checkin_token."""
    return {DEMO_KEY_ID: demo_private_key().public_key()}


def demo_checkin_token(appointment_id: str, *, day: date | None = None, now: datetime | None = None) -> str:
    """DEMO ONLY: the code a demo reminder for this appointment carries, valid until
    the end of `day` (default: today in the demo clinic's time zone)."""
    if day is None:
        day = aware(now or datetime.now(UTC), "now").astimezone(ZoneInfo(DEMO_TIMEZONE)).date()
    return make_checkin_token(demo_private_key(), appointment_id=appointment_id, site_id=DEMO_SITE_ID,
                              expires_at=expiry_for_day(day, DEMO_TIMEZONE), key_id=DEMO_KEY_ID)
