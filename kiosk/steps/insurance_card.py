"""Insurance card after check-in: front and back photographed, or skipped.

The screen's camera preview captures a photo by itself when the card is steady and sharp
(or when the patient taps "Take photo"); the patient sees it and keeps it or retakes it.
A kept side is one `insurance_card.captured` event (the downscaled JPEG travels inside the
encrypted outbox, nowhere else on disk). Until kept, the photo lives only in the session,
which the wipe forgets. Patients without a card skip (`insurance_card.skipped`).
"""
from __future__ import annotations

import base64
import logging
from dataclasses import dataclass, field

from kiosk.flow import Journey, Step

log = logging.getLogger(__name__)

INSURANCE_CARD = "insurance_card"
EVENT_CAPTURED = "insurance_card.captured"
EVENT_SKIPPED = "insurance_card.skipped"
SIDES = ("front", "back")
ASK, CAPTURE, REVIEW = "ask", "capture", "review"


@dataclass(frozen=True, repr=False)
class CardPhoto:
    jpeg: bytes
    width: int
    height: int
    sharpness: float
    capture: str  # "auto" or "manual"

    def __repr__(self) -> str:  # a photo of the card is PHI
        return f"CardPhoto({self.width}x{self.height}, {len(self.jpeg)} bytes)"


@dataclass
class CardState:
    """One visit's card photos; lives in session.step_state[INSURANCE_CARD]."""

    phase: str = ASK
    side: str = "front"
    photo: CardPhoto | None = None  # shown for review, not kept yet
    kept: list[str] = field(default_factory=list)


class InsuranceCardStep(Step):
    name = INSURANCE_CARD

    def prepare(self, journey: Journey) -> None:
        session = journey.session
        if session is not None and INSURANCE_CARD not in session.step_state:
            session.step_state[INSURANCE_CARD] = CardState()

    def state(self, journey: Journey) -> CardState:
        state = journey.session.step_state.get(INSURANCE_CARD) if journey.session else None
        if state is None:
            raise RuntimeError("the insurance card step was not prepared for this visit")
        return state

    def start_photos(self, journey: Journey) -> None:
        self.state(journey).phase = CAPTURE

    def captured(self, journey: Journey, photo: CardPhoto) -> None:
        """The preview caught a photo (auto or manual): show it for review."""
        state = self.state(journey)
        if state.phase != CAPTURE:
            return  # a late capture after the patient moved on
        state.photo, state.phase = photo, REVIEW

    def retake(self, journey: Journey) -> None:
        state = self.state(journey)
        state.photo, state.phase = None, CAPTURE

    def keep(self, journey: Journey) -> None:
        """The patient keeps the photo of this side: it is stored (encrypted) and sent."""
        from kiosk.store import NewEvent

        state = self.state(journey)
        if state.phase != REVIEW or state.photo is None:
            raise RuntimeError("no photo to keep")
        session, photo, now = journey.session, state.photo, journey.clock()
        journey.store.record_events([NewEvent(EVENT_CAPTURED, {
            "patient_id": session.appointment.patient_id,
            "appointment_id": session.appointment.appointment_id,
            "side": state.side,
            "image_jpeg": base64.b64encode(photo.jpeg).decode(),
            "width": photo.width,
            "height": photo.height,
            "captured_at": now.isoformat(),
            "capture": photo.capture,
            "sharpness": round(float(photo.sharpness), 1),
        })], session.id, now)
        log.info("insurance_card.kept", extra={"fields": {"side": state.side, "capture": photo.capture}})
        state.kept.append(state.side)
        state.photo = None
        if state.side == SIDES[-1]:
            journey.complete_step(INSURANCE_CARD)
        else:
            state.side, state.phase = SIDES[SIDES.index(state.side) + 1], CAPTURE

    def skip(self, journey: Journey, reason: str = "no_card") -> None:
        """No card with them (or no photo wanted): staff will ask at the desk."""
        from kiosk.store import NewEvent

        state = self.state(journey)
        session, now = journey.session, journey.clock()
        if not state.kept:  # a front already kept stays; only a visit with no photo is "skipped"
            journey.store.record_events([NewEvent(EVENT_SKIPPED, {
                "patient_id": session.appointment.patient_id,
                "appointment_id": session.appointment.appointment_id,
                "reason": reason,
            })], session.id, now)
        state.photo = None
        journey.complete_step(INSURANCE_CARD)
