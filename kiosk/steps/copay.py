"""Copay at check-in, on a semi-integrated payment terminal (the kiosk never sees a card).

- The amount due comes from the schedule; no amount, or no terminal configured: skipped
  (the front desk collects). "Pay at the front desk" is always offered and recorded.
- Each attempt has its own idempotency key, written to the store (payment "started")
  BEFORE the terminal is asked. The terminal's answer and its `payment.recorded` event are
  written together. A crash in between leaves a started payment: at the next start the
  terminal is asked what it did with that key (never charged twice, never lost).
- An answer that is not final (no reply: the terminal may have charged) is left started,
  reconciled later, and the patient is sent to the desk: no second attempt.
"""
from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from kiosk.flow import Journey, Step

if TYPE_CHECKING:
    from hardware.payment import PaymentResult, PaymentTerminal
    from kiosk.store import Store

log = logging.getLogger(__name__)

COPAY = "copay"
EVENT_RECORDED = "payment.recorded"
EVENT_DEFERRED = "payment.deferred"
ASK, WAITING, RESULT = "ask", "waiting", "result"


@dataclass
class CopayState:
    """One visit's copay; lives in session.step_state[COPAY]."""

    amount_cents: int
    phase: str = ASK
    key: str = ""  # the idempotency key of the attempt in progress
    result: PaymentResult | None = None


def payment_event(appointment_id: str, result: PaymentResult) -> dict:
    """The `payment.recorded` payload: what the terminal returned, never a card number."""
    record = result.to_record()
    return {"appointment_id": appointment_id, **{k: record[k] for k in (
        "idempotency_key", "status", "amount_cents", "token", "brand", "last4", "approval_code",
        "decline_reason", "stored_offline", "at", "terminal_transaction_id")}}


class CopayStep(Step):
    name = COPAY

    def __init__(self, terminal_source: Callable[[], PaymentTerminal | None] | None = None):
        self.terminal_source = terminal_source

    def terminal(self) -> PaymentTerminal | None:
        from hardware.payment import NoTerminal

        terminal = self.terminal_source() if self.terminal_source else None
        return None if terminal is None or isinstance(terminal, NoTerminal) else terminal

    def prepare(self, journey: Journey) -> None:
        session = journey.session
        if session is None or session.appointment is None or COPAY in session.step_state:
            return
        amount = session.appointment.copay_cents or 0
        already = any(p.state == "approved" for p in journey.store.payments(
            appointment_id=session.appointment.appointment_id))
        if amount > 0 and not already and self.terminal() is not None:
            session.step_state[COPAY] = CopayState(amount)

    def applies(self, session) -> bool:
        return COPAY in session.step_state

    def state(self, journey: Journey) -> CopayState:
        return journey.session.step_state[COPAY]

    # -- what the screen calls (collect() runs on a worker thread) ------------------------
    def start(self, journey: Journey) -> str:
        """A new attempt: its key is stored before the terminal hears of it."""
        state = self.state(journey)
        state.key, state.phase, state.result = str(uuid.uuid4()), WAITING, None
        session = journey.session
        journey.store.start_payment(state.key, session.appointment.appointment_id, session.id,
                                    state.amount_cents, journey.clock())
        return state.key

    def collect(self, key: str, amount_cents: int) -> PaymentResult:
        """Blocking: ask the terminal (call from a worker thread)."""
        return self.terminal().collect(amount_cents, key, reference=key[:8])

    def settle(self, journey: Journey, result: PaymentResult) -> None:
        """The terminal's answer for the current attempt (back on the UI thread)."""
        state = self.state(journey)
        if result.idempotency_key != state.key:
            return  # an answer for an attempt the patient already left
        state.result, state.phase = result, RESULT
        record(journey.store, state.key, journey.session.appointment.appointment_id, result, journey.clock())

    def pay_at_desk(self, journey: Journey) -> None:
        from kiosk.store import NewEvent

        state, session = self.state(journey), journey.session
        journey.store.record_events([NewEvent(EVENT_DEFERRED, {
            "appointment_id": session.appointment.appointment_id,
            "amount_cents": state.amount_cents, "reason": "front_desk"})], session.id, journey.clock())
        journey.complete_step(COPAY)

    def finish(self, journey: Journey) -> None:
        journey.complete_step(COPAY)

    def cancel_key(self, key: str) -> PaymentResult | None:
        """"Cancel" while the terminal waits for a card (worker thread): what the sale is now."""
        terminal = self.terminal()
        return None if terminal is None else terminal.cancel(key)

    # -- start-up ---------------------------------------------------------------------
    def recover(self, store: Store, now: datetime) -> None:
        """Payments a crash (or a lost answer) left started: ask the terminal by key."""
        from hardware.payment import reconcile

        started = store.payments(state="started")
        terminal = self.terminal() if started else None
        for payment in started:
            if terminal is None:
                log.error("payment.unreconciled", extra={"fields": {"payment": payment.id, "why": "no terminal"}})
                continue
            result = reconcile(terminal, payment.id)
            if result is None:  # the terminal never had it: nothing was charged
                store.finish_payment(payment.id, "not_charged", None, [], now)
                log.info("payment.reconciled", extra={"fields": {"payment": payment.id, "status": "not_charged"}})
            elif result.final:
                record(store, payment.id, payment.appointment_id, result, now)
                log.info("payment.reconciled", extra={"fields": {"payment": payment.id, "status": result.status.value}})
            else:
                log.warning("payment.still_unconfirmed", extra={"fields": {"payment": payment.id}})


def record(store: Store, key: str, appointment_id: str, result: PaymentResult, now: datetime) -> None:
    """A final answer is stored with its event; one that is not final stays started."""
    from kiosk.store import NewEvent

    if not result.final:
        log.warning("payment.unconfirmed", extra={"fields": {"payment": key, "reason": result.reason[:200]}})
        return
    store.finish_payment(key, result.status.value, result.to_record(),
                         [NewEvent(EVENT_RECORDED, payment_event(appointment_id, result))], now)
    log.info("payment.recorded", extra={"fields": {"payment": key, "status": result.status.value}})
