"""From the text in the kiosk's QR link to what it invites: the signature checked with the
device's key from the devices table, then the device, the appointment, single use and lock.

Codes of a refused invitation (each has its own page, see routes.PROBLEM_PAGES):
malformed, forged, unknown_device, unknown_appointment (all "we cannot read this"),
expired, revoked (the kiosk that signed it was revoked by IT: nothing it signed is
honoured, whenever it was signed), used, locked (too many wrong birth dates).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy.orm import Session

from sync_protocol.portal_invitation import TokenError, verify_portal_invitation

from ..auth import public_key_from_base64
from ..models import Appointment, Device, Site
from . import limits
from .models import PortalInvitationUse

MAX_TEXT = 2000  # far more than a QR code on a kiosk screen holds
UNREADABLE = frozenset({"malformed", "forged", "unknown_device", "unknown_appointment"})


class InvitationRefused(Exception):
    def __init__(self, code: str, device_id: str | None = None, site_id: str | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.device_id = device_id
        self.site_id = site_id


@dataclass(frozen=True)
class Invited:
    invitation_id: str
    device_id: str
    site_id: str
    site_name: str
    appointment_id: str
    patient_id: str
    expires_at: datetime


def resolve(db: Session, text: str, now: datetime) -> Invited:
    """The invitation `text` stands for, if it may be used now; else InvitationRefused."""
    if not text or len(text) > MAX_TEXT:
        raise InvitationRefused("malformed")
    devices: dict[str, Device | None] = {}

    def public_key_for(device_id: str) -> Ed25519PublicKey | None:
        # Revoked devices get their key here, so a forgery naming one is still "forged";
        # a genuine invitation from one is refused below as "revoked".
        device = db.get(Device, device_id) if len(device_id) <= 36 else None
        devices[device_id] = device
        if device is None:
            return None
        try:
            return public_key_from_base64(device.public_key)
        except ValueError:
            return None

    try:
        invitation = verify_portal_invitation(text, public_key_for, now)
    except TokenError as e:
        device = next((d for d in devices.values() if d is not None), None)
        code = "unknown_device" if e.code == "unknown_key" else e.code
        raise InvitationRefused(code, device.id if device else None,
                                device.site_id if device else None) from None
    device = devices.get(invitation.device_id) or db.get(Device, invitation.device_id)
    if device is None:  # verification found the key, so the device exists
        raise InvitationRefused("unknown_device")
    ids = {"device_id": device.id, "site_id": device.site_id}
    if device.revoked_at is not None:
        raise InvitationRefused("revoked", **ids)
    appointment = db.get(Appointment, invitation.appointment_id)
    if appointment is None or appointment.site_id != device.site_id:
        raise InvitationRefused("unknown_appointment", **ids)
    if db.get(PortalInvitationUse, invitation.invitation_id) is not None:
        raise InvitationRefused("used", **ids)
    if limits.invitation_locked(db, invitation.invitation_id):
        raise InvitationRefused("locked", **ids)
    site = db.get(Site, device.site_id)
    assert site is not None  # devices.site_id is a foreign key
    return Invited(
        invitation_id=invitation.invitation_id, device_id=device.id, site_id=device.site_id,
        site_name=site.name, appointment_id=appointment.id, patient_id=appointment.patient_id,
        expires_at=invitation.expires_at,
    )
