"""Intake forms after check-in: which forms, one question per screen, nothing lost.

- The forms come from the practice's forms bundle (or the bundled defaults), chosen by
  visit type, language, age and when the patient last completed each one.
- After every confirmed answer ("Next") the answers are saved as an encrypted draft, so a
  timeout or a crash loses nothing the patient confirmed. A finished form becomes a
  `form.response` event in the transaction that deletes its draft; a form left unfinished
  (timeout, "start over", a crash found at the next start) is sent as a partial
  (in-progress) response.
- An urgent answer (e.g. PHQ-9 item 9 above "not at all") raises a high-priority
  `alert.raised` event in the same transaction as the answer, at once, not at the end of
  the form: a patient who walks away after it still gets a person. At the end of that
  form the patient sees a calm, neutral message, never a score.
"""
from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from kiosk.flow import Journey, Step
from kiosk.forms.answers import COMPLETED, IN_PROGRESS, AnswerError
from kiosk.forms.runner import FormRunner
from kiosk.forms.selection import SelectedForm, default_forms_bundle, select_forms
from kiosk.forms.selection import history_key as form_history_key
from kiosk.i18n_markers import N_

if TYPE_CHECKING:
    from kiosk.store import Store

log = logging.getLogger(__name__)

FORMS = "forms"
EVENT_RESPONSE = "form.response"
EVENT_ALERT = "alert.raised"
CALM_MESSAGE = N_("Thank you. A member of our team will be with you shortly.")


def forms_bundle(store: Store) -> dict[str, Any]:
    """The practice's forms bundle as last synced (an empty policy means no forms), or the
    bundled defaults until the practice has sent one."""
    saved = store.bundle(FORMS)
    if saved is not None:
        items = saved[0].get("items")
        if isinstance(items, dict) and "policy" in items:
            return items
    return default_forms_bundle()


def form_key(url: str) -> str:
    """A short, PHI-free name of the form for analytics: the last part of its url ("phq-9")."""
    return (url.rstrip("/").rsplit("/", 1)[-1] or "form")[:40]


def analytics_step(url: str) -> str:
    return f"form:{form_key(url)}"


@dataclass
class FormInProgress:
    chosen: SelectedForm
    runner: FormRunner
    draft_id: str
    alerted: bool = False  # the urgent alert of this form is written (once per form)
    confirmed: dict[str, Any] | None = None  # snapshot at the last "Next": what a timeout sends


@dataclass
class FormsState:
    """One visit's forms; lives in session.step_state[FORMS] (wiped with the session)."""

    waiting: list[SelectedForm]
    current: FormInProgress | None = None
    calm_message: bool = False  # shown once the form that raised an alert is finished
    done: int = 0


class FormsStep(Step):
    name = FORMS

    def __init__(self, bundle_source: Callable[[Store], dict[str, Any]] = forms_bundle):
        self.bundle_source = bundle_source

    # -- the journey's hooks ---------------------------------------------------------
    def prepare(self, journey: Journey) -> None:
        session = journey.session
        if session is None or session.appointment is None or FORMS in session.step_state:
            return
        today = journey.clock().astimezone().date()
        born = session.birth_date
        age = None if born is None else today.year - born.year - ((today.month, today.day) < (born.month, born.day))
        history = journey.store.patient_history(session.appointment.patient_id)
        selection = select_forms(
            self.bundle_source(journey.store),
            visit_type=session.appointment.visit_type,
            language=session.language,
            age=age,
            today=today,
            history=history,
        )
        for problem in selection.problems:
            log.warning("forms.bundle_problem", extra={"fields": {"problem": problem}})
        if selection.skipped:
            journey.record_step_events(
                [(analytics_step(s.form), "abandoned", s.reason) for s in selection.skipped]
            )
        session.step_state[FORMS] = FormsState(waiting=list(selection.forms))

    def applies(self, session) -> bool:
        state = session.step_state.get(FORMS)
        return state is not None and (bool(state.waiting) or state.current is not None)

    def end_visit(self, journey: Journey, reason: str) -> None:
        """The visit ends with a form open: send what was confirmed, marked partial."""
        state = self._state(journey, required=False)
        if state is None or state.current is None:
            return
        current = state.current
        state.current = None
        journey.record_step_events([(analytics_step(current.chosen.url), "abandoned", reason)])
        # Only what the patient confirmed with "Next": a half-made choice may be a stray touch.
        current.runner = FormRunner.restore(current.chosen.questionnaire, current.confirmed,
                                            rules=_rules_of(current.chosen))
        self._send(journey.store, current, journey.session, IN_PROGRESS, journey.clock())

    def recover(self, store: Store, now: datetime) -> None:
        """Drafts left by a crash: each becomes a partial response (its answers were confirmed)."""
        for draft in store.open_drafts():
            try:
                body = draft.body
                # The bundled rules score it: the partial score is for information only, and
                # any urgent alert was written with the answer that raised it.
                runner = FormRunner.restore(body["questionnaire"], body["snapshot"])
                payload = response_payload(body["context"], runner, IN_PROGRESS, now)
                from kiosk.store import NewEvent

                store.record_events([NewEvent(EVENT_RESPONSE, payload)], draft.session_id, now, close_draft=draft.id)
                log.info("forms.recovered_partial", extra={"fields": {"draft": draft.id}})
            except Exception:  # noqa: BLE001 - one bad draft must not stop the kiosk; IT sees it
                log.error("forms.recovery_failed", exc_info=True, extra={"fields": {"draft": draft.id}})

    # -- what the screen calls --------------------------------------------------------
    def runner(self, journey: Journey) -> FormRunner | None:
        """The form being filled, starting the next one if none is open."""
        state = self._state(journey)
        if state.current is None and state.waiting and not state.calm_message:
            self._start(journey, state, state.waiting.pop(0))
        current = state.current
        if current is not None:
            current.runner.set_language(journey.session.language)  # switched mid-form: new words
        return None if current is None else current.runner

    def showing_calm_message(self, journey: Journey) -> bool:
        return self._state(journey).calm_message

    def progress(self, journey: Journey) -> tuple[int, int]:
        """(this form's number, how many forms) for "Form 2 of 3"."""
        state = self._state(journey)
        total = state.done + len(state.waiting) + (1 if state.current else 0)
        return min(state.done + 1, max(total, 1)), max(total, 1)

    def answer(self, journey: Journey, values) -> AnswerError | None:
        return self._current(journey).runner.answer(values)

    def next(self, journey: Journey) -> AnswerError | None:
        """Confirm the answer on screen: saved (with any alert it raises), then move on."""
        state = self._state(journey)
        current = self._current(journey)
        runner = current.runner
        error = runner.next()
        if error is not None:
            return error
        now = journey.clock()
        alert = self._new_alert(journey, current, now)
        if runner.finished:
            self._finish(journey, state, current, alert, now)
        else:
            journey.store.record_events(
                alert, journey.session.id, now, save_draft=(current.draft_id, self._draft_body(journey, current))
            )
            current.confirmed = runner.snapshot()
        return None

    def back(self, journey: Journey) -> bool:
        return self._current(journey).runner.back()

    def dismiss_calm_message(self, journey: Journey) -> None:
        state = self._state(journey)
        state.calm_message = False
        if not state.waiting:
            journey.complete_step(FORMS)

    # -- inside -----------------------------------------------------------------------
    def _state(self, journey: Journey, required: bool = True) -> FormsState | None:
        session = journey.session
        state = None if session is None else session.step_state.get(FORMS)
        if state is None and required:
            raise RuntimeError("the forms step was not prepared for this visit")
        return state

    def _current(self, journey: Journey) -> FormInProgress:
        self.runner(journey)  # opens the next form if none is open
        state = self._state(journey)
        if state.current is None:
            raise RuntimeError("no form is open")
        return state.current

    def _start(self, journey: Journey, state: FormsState, chosen: SelectedForm) -> None:
        runner = FormRunner(chosen.questionnaire, journey.session.language, rules=_rules_of(chosen))
        state.current = FormInProgress(chosen, runner, draft_id=str(uuid.uuid4()), confirmed=runner.snapshot())
        journey.record_step_events([(analytics_step(chosen.url), "started", None)])
        # Saved at once: even a form abandoned on its first question is sent (empty, partial).
        journey.store.save_draft(state.current.draft_id, journey.session.id,
                                 self._draft_body(journey, state.current), journey.clock())

    def _new_alert(self, journey: Journey, current: FormInProgress, now: datetime) -> list:
        from kiosk.store import HIGH_PRIORITY, NewEvent

        if current.alerted:
            return []
        outcome = current.runner.outcome()
        if not outcome.urgent:
            return []
        current.alerted = True
        rules = current.chosen.rules
        urgent = [f for f in outcome.flags if rules is None or any(r.name == f and r.urgent for r in rules.flags)]
        session = journey.session
        questionnaire = current.chosen.questionnaire
        log.info("forms.urgent_answer", extra={"fields": {"form": form_key(current.chosen.url)}})
        return [NewEvent(EVENT_ALERT, {
            "alert_id": str(uuid.uuid4()),
            "kind": "urgent_answer",
            "priority": "high",
            "patient_id": session.appointment.patient_id,
            "appointment_id": session.appointment.appointment_id,
            "questionnaire_url": questionnaire.get("url") or current.chosen.url,
            "flags": urgent or list(outcome.flags),
            "raised_at": now.isoformat(),
        }, HIGH_PRIORITY)]

    def _finish(self, journey: Journey, state: FormsState, current: FormInProgress, alert: list, now: datetime) -> None:
        from kiosk.store import HistoryEntry

        session = journey.session
        history = HistoryEntry(session.appointment.patient_id, form_history_key(current.chosen.url),
                               now.astimezone().date())
        self._send(journey.store, current, session, COMPLETED, now, alert=alert, history=history)
        journey.record_step_events([(analytics_step(current.chosen.url), "completed", None)])
        state.current = None
        state.done += 1
        if current.alerted:
            state.calm_message = True
        elif not state.waiting:
            journey.complete_step(FORMS)

    def _send(self, store: Store, current: FormInProgress, session, status: str, now: datetime,
              alert: list = (), history=None) -> None:
        from kiosk.store import NewEvent

        payload = response_payload(self._context(session, current), current.runner, status, now)
        store.record_events([*alert, NewEvent(EVENT_RESPONSE, payload)], session.id, now,
                            history=history, close_draft=current.draft_id)

    @staticmethod
    def _context(session, current: FormInProgress) -> dict[str, Any]:
        return {"patient_id": session.appointment.patient_id,
                "appointment_id": session.appointment.appointment_id}

    def _draft_body(self, journey: Journey, current: FormInProgress) -> dict[str, Any]:
        return {
            "questionnaire": current.chosen.questionnaire,
            "snapshot": current.runner.snapshot(),
            "context": self._context(journey.session, current),
        }


def _rules_of(chosen: SelectedForm):
    """The practice's rules for this form, or None for the bundled ones."""
    return None if chosen.rules is None else [chosen.rules]


def response_payload(context: dict[str, Any], runner: FormRunner, status: str, now: datetime) -> dict[str, Any]:
    """The form.response event (docs/SYNC_API.md): the QuestionnaireResponse and its score."""
    q = runner.raw
    outcome = runner.outcome()
    return {
        "patient_id": context["patient_id"],
        "appointment_id": context["appointment_id"],
        "questionnaire": {
            "url": q.get("url"),
            "version": q.get("version"),
            "title": q.get("title"),
            "codes": [{"system": c.get("system"), "code": c.get("code")} for c in q.get("code", []) if c.get("code")],
        },
        "status": status,
        "language": runner.language,
        "response": runner.to_response(status, authored=now.isoformat()),
        "score": {"total": outcome.total, "band": outcome.band, "flags": list(outcome.flags), "urgent": outcome.urgent},
    }
