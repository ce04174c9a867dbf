"""The check-in journey as a plain-Python state machine (no Kivy).

Identification (last name -> birth date -> maybe first name -> confirm) is the fixed core.
What happens after the patient is checked in is a list of pluggable steps: each step
says for which visits it applies, so later features (forms, insurance, consent, copay,
portal, education) register a step and a screen of the same name, and the core does
not change. The app shows the screen whose name equals `journey.state`.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from datetime import date, datetime, timedelta

from kiosk.i18n_markers import N_
from kiosk.session import VisitSession
from kiosk.names import normalise_name

if TYPE_CHECKING:
    from kiosk.store import Store

log = logging.getLogger(__name__)

WELCOME = "welcome"
LAST_NAME = "last_name"
BIRTH_DATE = "birth_date"
FIRST_NAME = "first_name"
CONFIRM = "confirm"
FRONT_DESK = "front_desk"
COOLDOWN = "cooldown"
DONE = "done"

SCAN = "scan"

# What a patient reads when a check-in QR code cannot be used (plain words, no reason codes).
QR_UNREADABLE = N_("We could not use this code. Please check in with your name and date of birth.")
QR_EXPIRED = N_("This check-in code has expired. Please check in with your name and date of birth.")
QR_OTHER_SITE = N_("This code is for another location of the practice. Please see the front desk.")
QR_USED = N_("This code was already used to check in. If you need help, please see the front desk.")
QR_OTHER_DAY = N_("This code is for an appointment on another day. Please see the front desk.")

COOLDOWN_SETTING = "identify_cooldown_until"
FAILURES_SETTING = "identify_failures"


class Step:
    """A step after check-in. Subclasses set `name` (= its screen) and may narrow `applies`."""

    name: str = ""
    visit_types: frozenset[str] | None = None  # None: every visit type

    def prepare(self, journey: Journey) -> None:
        """Called when the journey reaches this step, before `applies` (e.g. choose the forms)."""

    def applies(self, session: VisitSession) -> bool:
        if self.visit_types is None:
            return True
        return session.appointment is not None and session.appointment.visit_type in self.visit_types

    def end_visit(self, journey: Journey, reason: str) -> None:
        """The visit is ending (any reason), before the wipe: save what must not be lost."""

    def recover(self, store: Store, now: datetime) -> None:
        """At start-up: finish what a crash left half done in earlier visits."""


# Stages that are not patient steps: no drop-off events for them.
_NOT_STEPS = frozenset({WELCOME, COOLDOWN})
STEP_EVENT = "step.event"
VISIT_RATED = "visit.rated"  # the one-tap satisfaction rating on the done screen


@dataclass(frozen=True)
class IdentifyPolicy:
    max_attempts: int = 5
    cooldown_seconds: int = 120


class Journey:
    def __init__(
        self,
        store: Store,
        steps: Sequence[Step],
        clock: Callable[[], datetime],
        policy: IdentifyPolicy = IdentifyPolicy(),
        language: str = "en",
    ):
        self.store = store
        self.steps = list(steps)
        self.clock = clock
        self.policy = policy
        self.language = language
        self.session: VisitSession | None = None
        self.notice = ""  # message id the current screen should show, "" for none
        self.state = COOLDOWN if self.cooldown_remaining() > 0 else WELCOME
        # (step name, visit type) -> whether the site runs it (its pushed settings); None: all
        self.site_steps: Callable[[str, str | None], bool] | None = None

    def set_site_steps(self, runs_step: Callable[[str, str | None], bool] | None) -> None:
        """The site's choice of steps per visit type. Between visits only: a visit keeps
        the steps it started with."""
        if self.session is not None:
            raise RuntimeError("the site's steps change between visits only")
        self.site_steps = runs_step

    # -- session boundaries -------------------------------------------------
    def begin(self) -> None:
        if self.session is not None:
            self.end("abandoned")  # never two visits at once: the old one is closed and wiped
        if self.cooldown_remaining() > 0:
            self._go(COOLDOWN)
            return
        self.session = VisitSession(language=self.language, started_at=self.clock())
        self._go(LAST_NAME)

    def set_language(self, language: str) -> None:
        self.language = language
        if self.session:
            self.session.language = language

    def end(self, reason: str) -> None:
        """Close the visit (completed, start_over, timeout, ...), record timings, forget the PHI."""
        session = self.session
        try:
            if session is not None:
                now = self.clock()
                for step in self.steps:
                    step.end_visit(self, reason)
                if self.state not in _NOT_STEPS:
                    done = reason == "completed" and self.state == DONE
                    self.record_step_events([(self.state, "completed" if done else "abandoned", None if done else reason)])
                self.store.record_event(
                    "visit.ended",
                    {
                        "reason": reason,
                        "language": session.language,
                        "checked_in": session.check_in is not None,
                        "stages": session.step_timings(now),
                    },
                    session_id=session.id,
                    now=now,
                )
                log.info("visit.ended", extra={"fields": {"reason": reason, "session": session.id}})
        finally:  # the PHI is forgotten even if the event cannot be written
            if session is not None:
                session.wipe()
            self.session = None
            self.notice = ""
            self.state = COOLDOWN if self.cooldown_remaining() > 0 else WELCOME

    # -- identification -------------------------------------------------------
    def enter_last_name(self, text: str) -> None:
        session = self._session()
        if not normalise_name(text):
            self.notice = N_("Please type your last name.")
            return
        session.last_name = " ".join(text.split())
        self._go(BIRTH_DATE)

    # -- identification by a scanned code --------------------------------------------
    def begin_scan(self) -> None:
        """The patient chose to scan their reminder's QR code or their licence."""
        self.begin()
        if self.state == LAST_NAME:
            self._go(SCAN)

    def use_checkin_code(self, appointment_id: str) -> None:
        """A verified check-in QR code (signature, site and expiry checked by the caller):
        only the birth date is asked, so a lost phone does not check anyone in."""
        session = self._session()
        found = self.store.appointment_by_id(appointment_id)
        if found is None:
            self.notice = QR_UNREADABLE
            return
        match, _born, day = found
        if day != self._today():
            self.notice = QR_OTHER_DAY
            return
        if match.status != "booked":
            self.notice = QR_USED
            return
        session.code_appointment = appointment_id
        self._go(BIRTH_DATE)

    def use_licence(self, last_name: str, first_name: str, born: date, *, expired: bool,
                    address: dict[str, str] | None = None) -> None:
        """A driver's licence read: its name and birth date identify the patient as typed
        ones would. An expired licence still identifies (noted for staff); its address is
        offered for the contact review. The licence number and picture are never kept."""
        session = self._session()
        session.last_name, session.first_name = last_name, first_name
        session.licence_address = dict(address or {})
        self.store.record_event("identify.licence_used", {"expired": expired}, session_id=session.id, now=self.clock())
        self.enter_birth_date(born, first_name=first_name)

    def enter_birth_date(self, born: date, first_name: str | None = None) -> None:
        session = self._session()
        session.birth_date = born
        if session.code_appointment:
            self._confirm_code_birth_date(born)
            return
        today = self._today()
        matches = self.store.find_appointments(session.last_name, born, today)
        if not matches:
            known = self.store.patients_with_identity(session.last_name, born) > 0
            self._fail("no_appointment_today" if known else "no_match")
            return
        session.candidates = matches
        if len({m.patient_id for m in matches}) > 1:
            if first_name:  # from a licence: the first name settles it when it can
                self.enter_first_name(first_name)
                return
            self._go(FIRST_NAME)
        else:
            self._choose(matches)

    def _confirm_code_birth_date(self, born: date) -> None:
        found = self.store.appointment_by_id(self._session().code_appointment)
        if found is None or found[1] != born:
            self._fail("code_birth_date_mismatch")
            return
        self._choose([found[0]])

    def enter_first_name(self, text: str) -> None:
        session = self._session()
        wanted = normalise_name(text)
        if not wanted:
            self.notice = N_("Please type your first name.")
            return
        session.first_name = " ".join(text.split())
        chosen = [m for m in session.candidates if _first_name_matches(wanted, m.first_name)]
        if len({m.patient_id for m in chosen}) == 1:
            self._choose(chosen)
        else:
            self._fail("first_name_mismatch")

    def confirm(self, is_me: bool) -> None:
        session = self._session()
        if session.appointment is None:
            raise RuntimeError("confirm called before a match")
        if not is_me:
            self._fail("patient_rejected_match")
            return
        self._clear_failures()
        # Read before checking in: once the check-in is committed nothing else may fail, or
        # pressing "Yes" again would find this visit "already" checked in and skip its steps.
        contact = self.store.get_contact(session.appointment.patient_id)
        session.check_in = self.store.check_in(session.appointment.appointment_id, session.id, self.clock())
        if session.check_in.already:
            self._go(DONE)
            return
        session.contact = contact
        self._advance(after=None)

    def back(self) -> None:
        """One identification question back; answers already given stay filled in."""
        previous = {BIRTH_DATE: LAST_NAME, FIRST_NAME: BIRTH_DATE, SCAN: LAST_NAME}
        if self.state == BIRTH_DATE and self._session().code_appointment:
            self._session().code_appointment = ""  # back to the camera, not to the name
            self._go(SCAN, action="backed_out")
        elif self.state in previous:
            self._go(previous[self.state], action="backed_out")

    def try_again(self) -> None:
        """From the front-desk message back to the start of identification, same session."""
        session = self._session()
        if self.cooldown_remaining() > 0:
            self.end("cooldown")
            return
        session.wipe()
        self._go(LAST_NAME)

    # -- steps after check-in ---------------------------------------------------
    def step(self, name: str) -> Step:
        for step in self.steps:
            if step.name == name:
                return step
        raise KeyError(name)

    def complete_step(self, name: str) -> None:
        if self.state != name:
            raise RuntimeError(f"step {name} completed while in {self.state}")
        self._advance(after=name)

    def _advance(self, after: str | None) -> None:
        session = self._session()
        names = [s.name for s in self.steps]
        start = names.index(after) + 1 if after else 0
        visit_type = session.appointment.visit_type if session.appointment else None
        for step in self.steps[start:]:
            if self.site_steps is not None and not self.site_steps(step.name, visit_type):
                continue  # the site turned this step off for this visit type
            step.prepare(self)
            if step.applies(session):
                self._go(step.name)
                return
        self._go(DONE)

    def rate(self, rating: int) -> None:
        """The one-tap satisfaction rating at the end (1 hard, 2 okay, 3 easy). No PHI:
        the age band and visit type only, like the drop-off analytics. Best effort: a
        failed write must not trouble a patient who is already checked in."""
        if rating not in (1, 2, 3):
            raise ValueError(f"rating must be 1, 2 or 3, not {rating}")
        session = self._session()
        now = self.clock()
        payload = {"rating": rating, "language": session.language, "age_band": session.age_band(self._today()),
                   "visit_type": session.appointment.visit_type if session.appointment else None,
                   "rated_at": now.isoformat()}
        try:
            self.store.record_event(VISIT_RATED, payload, session_id=session.id, now=now)
        except Exception:  # noqa: BLE001 - the kiosk's error log has it; the patient is done anyway
            log.warning("visit.rating_not_recorded", exc_info=True)

    # -- failed attempts and cool-down -------------------------------------------
    def cooldown_remaining(self) -> float:
        until = self.store.get_setting(COOLDOWN_SETTING)
        if not until:
            return 0.0
        return max(0.0, (datetime.fromisoformat(until) - self.clock()).total_seconds())

    def clear_cooldown(self) -> None:
        """Staff lifted the cool-down (audited by the caller)."""
        self.store.set_setting(COOLDOWN_SETTING, "")
        self._clear_failures()
        if self.state == COOLDOWN:
            self.state = WELCOME

    def _fail(self, reason: str) -> None:
        session = self._session()
        failures = int(self.store.get_setting(FAILURES_SETTING) or 0) + 1
        now = self.clock()
        locked = failures >= self.policy.max_attempts
        # Count (and lock) before writing any event, so a failing event write cannot
        # lift the limit on guesses.
        if locked:
            until = now + timedelta(seconds=self.policy.cooldown_seconds)
            self.store.set_setting(COOLDOWN_SETTING, until.isoformat())
        self.store.set_setting(FAILURES_SETTING, "0" if locked else str(failures))
        try:
            self.store.record_event(
                "identify.failed", {"reason": reason, "attempt": failures}, session_id=session.id, now=now
            )
            log.info("identify.failed", extra={"fields": {"reason": reason, "attempt": failures}})
            if locked:
                self.store.record_event(
                    "identify.cooldown",
                    {"attempts": failures, "seconds": self.policy.cooldown_seconds},
                    session_id=session.id,
                    now=now,
                )
        finally:
            if locked:
                self.end("cooldown")
        if locked:
            return
        # The same words whatever the reason, so the kiosk never reveals who is a patient.
        self._go(FRONT_DESK)

    def _clear_failures(self) -> None:
        self.store.set_setting(FAILURES_SETTING, "0")

    # -- helpers -------------------------------------------------------------------
    def _choose(self, matches) -> None:
        session = self._session()
        waiting = [m for m in matches if m.status == "booked"] or list(matches)
        session.appointment = min(waiting, key=lambda m: m.start)
        self._go(CONFIRM)

    def _go(self, state: str, action: str = "completed") -> None:
        """Show `state`; the step left is `action` (completed or backed_out) for analytics."""
        previous = self.state
        self.state = state
        self.notice = ""
        if self.session and state != previous:
            changes = [] if previous in _NOT_STEPS else [(previous, action, None)]
            self.record_step_events([*changes, (state, "started", None)])
            self.session.enter(state, self.clock())

    def record_step_events(self, changes: Sequence[tuple[str, str, str | None]]) -> None:
        """Drop-off analytics (no PHI): (step, started|completed|backed_out|abandoned,
        reason) with the seconds spent in the current stage, language, age band and visit
        type. Best effort: a failed write must not stop the patient's check-in."""
        session = self._session()
        now = self.clock()
        seconds = session.seconds_in_stage(now)
        context = {
            "language": session.language,
            "age_band": session.age_band(self._today()),
            "visit_type": session.appointment.visit_type if session.appointment else None,
        }
        from kiosk.store import NewEvent  # the store is loaded by the time a visit runs

        events = [
            NewEvent(STEP_EVENT, {"step": step, "action": action, "reason": reason,
                                  "seconds": 0.0 if action == "started" else seconds, **context})
            for step, action, reason in changes
        ]
        try:
            self.store.record_events(events, session.id, now)
        except Exception:  # noqa: BLE001 - analytics only; the error is logged for IT
            log.warning("analytics.not_recorded", exc_info=True)

    def _session(self) -> VisitSession:
        if self.session is None:
            raise RuntimeError("no visit in progress")
        return self.session

    def _today(self) -> date:
        return self.clock().astimezone().date()


def _first_name_matches(wanted: str, first_name: str) -> bool:
    """"Maria" matches "Maria José"; accents, case and hyphens never matter."""
    if normalise_name(first_name) == wanted:
        return True
    return any(normalise_name(part) == wanted for part in first_name.replace("-", " ").split())

