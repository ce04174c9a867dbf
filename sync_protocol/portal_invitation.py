"""Portal invitations: the QR code a kiosk shows so the patient can sign up for the
patient portal on their own phone.

    PI1.<base32 payload>.<base32 Ed25519 signature>        (about 200 characters)

Minted offline by the kiosk with its own Ed25519 device key (the one its requests
are signed with; a separate signing domain keeps the two apart), so it works with
the network down. The payload is the invitation id (a UUID, for single use on the
server), the expiry, the device id (which key to check it with) and the
appointment id: no PHI. The server's portal enrolment page verifies it with the
device's enrolled public key and spends the invitation id once. Envelope:
signed_code.py. No server, web or Kivy imports.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

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
    check_signature,
    lookup,
    seal,
    split,
)

__all__ = ["EXPIRED", "FORGED", "MALFORMED", "UNKNOWN_KEY", "PortalInvitation", "TokenError",
           "make_portal_invitation", "verify_portal_invitation"]

PREFIX = "PI1"
DOMAIN = b"clinic-kiosk/portal-invitation/v1\x00"
KIND = "portal invitation"


@dataclass(frozen=True)
class PortalInvitation:
    device_id: str
    appointment_id: str
    invitation_id: str  # canonical lower-case UUID
    expires_at: datetime  # aware, UTC, whole seconds


def make_portal_invitation(
    device_key: Ed25519PrivateKey,
    *,
    device_id: str,
    appointment_id: str,
    expires_at: datetime,
    invitation_id: str | None = None,
) -> str:
    """The invitation text. `invitation_id` (a UUID) is made here when not given;
    `expires_at` (aware) is kept to the whole second, rounded down. ValueError on bad input."""
    if invitation_id is None:
        invitation_id = str(uuid.uuid4())
    try:
        raw_id = uuid.UUID(invitation_id).bytes
    except (AttributeError, TypeError, ValueError):
        raise ValueError("an invitation id must be a UUID") from None
    payload = (
        Writer().raw(raw_id).time(expires_at, "expires_at")
        .id(device_id, "device_id").id(appointment_id, "appointment_id").bytes()
    )
    return seal(PREFIX, DOMAIN, payload, device_key)


def verify_portal_invitation(
    text: str,
    public_key_for: Callable[[str], Ed25519PublicKey | None],
    now: datetime,
) -> PortalInvitation:
    """The invitation's content once the signature of the device it names holds and it
    has not expired. `public_key_for(device_id)` gives that device's enrolled key, or
    None (unknown or revoked device). Raises TokenError with `code` one of malformed,
    unknown_key, forged, expired. Single use (by invitation_id) is the caller's check."""
    aware(now, "now")
    payload, signature = split(text, PREFIX, KIND)
    reader = Reader(payload)
    invitation_id = str(uuid.UUID(bytes=reader.raw(16)))
    expires_at = reader.time()
    device_id = reader.id()
    appointment_id = reader.id()
    reader.end()
    key = lookup(public_key_for, device_id, "this portal invitation comes from a kiosk this server "
                 "does not know, or one that was revoked")
    check_signature(key, DOMAIN, payload, signature, KIND)
    check_expiry(expires_at, now, KIND)
    return PortalInvitation(device_id=device_id, appointment_id=appointment_id,
                            invitation_id=invitation_id, expires_at=expires_at)
