"""Consent after check-in: read each document the patient has not signed yet, sign it.

Which documents: the practice's consents bundle (or the bundled defaults); a document
version the patient already signed (the practice's record or this kiosk's) is not asked
again. Each signature is one `consent.signed` event carrying the PNG, the strokes and the
SHA-256 of exactly the text shown, written with the patient's history entry in one
transaction (the outbox is encrypted). A patient who wants to talk first signs at the
front desk instead (`consent.deferred`): staff see it, nothing is forced.
"""
from __future__ import annotations

import base64
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kiosk.consent.documents import ConsentDocument, ConsentText, load_default_documents, parse_consents_bundle, text_for
from kiosk.flow import Journey, Step
from kiosk.signature import Signature, SignatureProblem, check_signature, render_png, summary

if TYPE_CHECKING:
    from kiosk.store import Store

log = logging.getLogger(__name__)

CONSENT = "consent"
EVENT_SIGNED = "consent.signed"
EVENT_DEFERRED = "consent.deferred"
SIGNATURE_PNG_SIZE = (600, 200)


def consent_documents(store: Store) -> list[ConsentDocument]:
    """The practice's documents as last synced (bad entries logged for IT and skipped; an
    empty list means none to sign), or the bundled defaults until the practice sent some."""
    saved = store.bundle("consents")
    if saved is not None and isinstance(saved[0].get("items"), list):
        documents, problems = parse_consents_bundle(saved[0]["items"])
        for problem in problems:
            log.warning("consent.bundle_problem", extra={"fields": {"problem": str(problem)}})
        return documents
    return load_default_documents()


def history_key(document: ConsentDocument) -> str:
    return f"consent:{document.id}@{document.version}"


@dataclass
class ConsentState:
    """One visit's documents to sign; lives in session.step_state[CONSENT]."""

    documents: list[ConsentDocument]
    index: int = 0


class ConsentStep(Step):
    name = CONSENT

    def prepare(self, journey: Journey) -> None:
        session = journey.session
        if session is None or session.appointment is None or CONSENT in session.step_state:
            return
        signed = journey.store.patient_history(session.appointment.patient_id)
        wanted = [d for d in consent_documents(journey.store) if history_key(d) not in signed]
        session.step_state[CONSENT] = ConsentState(wanted)

    def applies(self, session) -> bool:
        state = session.step_state.get(CONSENT)
        return state is not None and state.index < len(state.documents)

    # -- what the screen calls --------------------------------------------------------
    def current(self, journey: Journey) -> ConsentText:
        state = self._state(journey)
        return text_for(state.documents[state.index], journey.session.language)

    def progress(self, journey: Journey) -> tuple[int, int]:
        state = self._state(journey)
        return state.index + 1, len(state.documents)

    def sign(self, journey: Journey, signature: Signature) -> SignatureProblem | None:
        """Refuse an empty or trivial signature; otherwise store it and go on."""
        problem = check_signature(signature)
        if problem is not None:
            return problem
        shown = self.current(journey)
        self._record(journey, EVENT_SIGNED, shown, {
            "signed_at": journey.clock().isoformat(),
            "signature_png": base64.b64encode(render_png(signature, *SIGNATURE_PNG_SIZE)).decode(),
            "signature": summary(signature),
            "signature_strokes": signature.to_json(),
        }, signed=True)
        return None

    def defer(self, journey: Journey) -> None:
        """"I want to sign at the front desk": recorded for staff, then the next document."""
        self._record(journey, EVENT_DEFERRED, self.current(journey), {"reason": "front_desk"}, signed=False)

    # -- inside -----------------------------------------------------------------------
    def _state(self, journey: Journey) -> ConsentState:
        state = journey.session.step_state.get(CONSENT) if journey.session else None
        if state is None:
            raise RuntimeError("the consent step was not prepared for this visit")
        return state

    def _record(self, journey: Journey, event_type: str, shown: ConsentText, extra: dict[str, Any], signed: bool) -> None:
        from kiosk.store import HistoryEntry, NewEvent

        session = journey.session
        state = self._state(journey)
        document = state.documents[state.index]
        payload = {
            "patient_id": session.appointment.patient_id,
            "appointment_id": session.appointment.appointment_id,
            "document": {"id": document.id, "version": document.version, "language": shown.language,
                         "title": shown.title, "sha256": shown.sha256},
            **extra,
        }
        now = journey.clock()
        history = HistoryEntry(session.appointment.patient_id, history_key(document), now.astimezone().date()) if signed else None
        journey.store.record_events([NewEvent(event_type, payload)], session.id, now, history=history)
        log.info(event_type, extra={"fields": {"document": document.id, "version": document.version}})
        state.index += 1
        if state.index >= len(state.documents):
            journey.complete_step(CONSENT)
