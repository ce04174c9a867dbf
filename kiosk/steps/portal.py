"""Portal sign-up at the end of check-in: a QR code the patient opens on their phone.

The invitation is minted here, offline, signed with this kiosk's own device key: single
use (the server records its id), valid for INVITATION_DAYS, and it carries only ids (no
name, no birth date). Patients who already have an account are not asked. Each invitation
shown is one `portal.invitation_shown` event, so sign-ups per site can be counted.
"""
from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import timedelta

from kiosk.flow import Journey, Step

log = logging.getLogger(__name__)

PORTAL = "portal"
EVENT_SHOWN = "portal.invitation_shown"
EVENT_DECLINED = "portal.invitation_declined"
INVITATION_DAYS = 7
DEMO_PORTAL_URL = "https://portal.demo.invalid"  # demo mode: a link nobody can open


class PortalStep(Step):
    name = PORTAL

    def __init__(self, signer: Callable[[], tuple[object, str, str] | None] | None = None):
        """`signer()` gives (device private key, device id, server URL) or None when this
        kiosk cannot mint invitations (not enrolled, key unreadable): the step is skipped."""
        self.signer = signer

    def prepare(self, journey: Journey) -> None:
        session = journey.session
        if session is None or PORTAL in session.step_state:
            return
        wanted = session.appointment is not None and not session.appointment.portal_account
        session.step_state[PORTAL] = {"link": self._mint(journey) if wanted else None}

    def applies(self, session) -> bool:
        state = session.step_state.get(PORTAL)
        return bool(state and state["link"])

    def link(self, journey: Journey) -> str:
        return journey.session.step_state[PORTAL]["link"]

    def done(self, journey: Journey, signed_up_now: bool) -> None:
        """The patient scanned it (or says they will) / said no thanks."""
        if not signed_up_now:
            journey.store.record_event(EVENT_DECLINED, {"appointment_id": journey.session.appointment.appointment_id},
                                       session_id=journey.session.id, now=journey.clock())
        journey.complete_step(PORTAL)

    def _mint(self, journey: Journey) -> str | None:
        from sync_protocol.portal_invitation import make_portal_invitation

        signing = self.signer() if self.signer else None
        if signing is None:
            return None
        key, device_id, server_url = signing
        session, now = journey.session, journey.clock()
        invitation_id = str(uuid.uuid4())
        expires_at = now + timedelta(days=INVITATION_DAYS)
        token = make_portal_invitation(key, device_id=device_id, appointment_id=session.appointment.appointment_id,
                                       expires_at=expires_at, invitation_id=invitation_id)
        journey.store.record_event(EVENT_SHOWN, {
            "appointment_id": session.appointment.appointment_id,
            "patient_id": session.appointment.patient_id,
            "invitation_id": invitation_id,
            "expires_at": expires_at.isoformat(),
        }, session_id=session.id, now=now)
        return f"{server_url.rstrip('/')}/portal/enrol?i={token}"
