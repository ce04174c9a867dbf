"""What a scanned code means for check-in: a practice-signed check-in code, a driver's
licence, or something the kiosk cannot use (said in plain words). No Kivy.

Check-in codes are verified offline: the practice's public keys come from enrolment
(`checkin_keys_file`) and, after a key rotation, from the config bundle; a demo-mode
kiosk trusts only the public demo key.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from kiosk.flow import QR_EXPIRED, QR_OTHER_SITE, QR_UNREADABLE
from kiosk.i18n_markers import N_

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from hardware.aamva import Licence
    from kiosk.config import KioskConfig
    from kiosk.store import Store

log = logging.getLogger(__name__)

LICENCE_UNREADABLE = N_("We could not read your licence. Please check in with your name and date of birth.")
LICENCE_INCOMPLETE = N_("Your licence does not show a full name and date of birth. Please check in with your name "
                        "and date of birth.")


@dataclass(frozen=True, repr=False)
class Scanned:
    """kind "checkin" (appointment_id), "licence" (licence) or "problem" (message id)."""

    kind: str
    appointment_id: str = ""
    licence: Licence | None = None
    message: str = ""

    def __repr__(self) -> str:  # a licence is PHI
        return f"Scanned({self.kind!r})"


def checkin_keys(config: KioskConfig, store: Store | None) -> dict[str, Ed25519PublicKey]:
    """The practice's check-in public keys: the enrolment file plus any the config bundle
    carries (key rotation). A kiosk in demo mode trusts only the demo key."""
    from sync_protocol.checkin_token import checkin_keys_from, demo_public_keys

    if config.demo:
        return demo_public_keys()
    keys: dict = {}
    path = config.checkin_keys_file
    try:
        if path is not None and path.exists():
            keys.update(checkin_keys_from(json.loads(path.read_text())))
    except (OSError, ValueError) as error:
        log.error("checkin_keys.unreadable", extra={"fields": {"file": str(path), "problem": str(error)}})
    bundle = store.bundle("config") if store is not None else None
    if bundle is not None:
        try:
            keys.update(checkin_keys_from(bundle[0].get("items") or {}))
        except ValueError as error:
            log.error("checkin_keys.bad_in_config_bundle", extra={"fields": {"problem": str(error)}})
    return keys


def site_of(config: KioskConfig) -> str | None:
    from sync_protocol.checkin_token import DEMO_SITE_ID

    return DEMO_SITE_ID if config.demo else config.site_id


def read_scanned(text: str, *, keys, site_id: str | None, now: datetime) -> Scanned:
    """Classify and check a scanned text."""
    from hardware.aamva import AamvaError, is_aamva, parse_aamva
    from sync_protocol.checkin_token import OTHER_SITE, PREFIX, verify_checkin_token
    from sync_protocol.signed_code import EXPIRED, TokenError

    if text.startswith(PREFIX + "."):
        try:
            token = verify_checkin_token(text, keys, now, site_id=site_id)
        except TokenError as error:
            # The code (never the token) tells IT what happened, e.g. a key it lacks.
            log.info("checkin_code.refused", extra={"fields": {"code": error.code}})
            message = {EXPIRED: QR_EXPIRED, OTHER_SITE: QR_OTHER_SITE}.get(error.code, QR_UNREADABLE)
            return Scanned("problem", message=message)
        return Scanned("checkin", appointment_id=token.appointment_id)
    if is_aamva(text):
        try:
            licence = parse_aamva(text)
        except AamvaError as error:
            log.info("licence.unreadable", extra={"fields": {"problem": str(error)}})
            return Scanned("problem", message=LICENCE_UNREADABLE)
        if not licence.identifies:
            return Scanned("problem", message=LICENCE_INCOMPLETE)
        return Scanned("licence", licence=licence)
    return Scanned("problem", message=QR_UNREADABLE)


def use_scanned(journey, scanned: Scanned, today: date) -> None:
    """Hand a read code to the journey (or show its problem)."""
    if scanned.kind == "checkin":
        journey.use_checkin_code(scanned.appointment_id)
    elif scanned.kind == "licence":
        licence = scanned.licence
        journey.use_licence(licence.family_name, licence.given_name, licence.birth_date,
                            expired=licence.expired(today), address=licence.address)
    else:
        journey.notice = scanned.message
