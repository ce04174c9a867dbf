"""Copay: the amount, "pay with card" (the terminal works on a worker thread), the result,
a receipt, or "pay at the front desk"."""
from __future__ import annotations

import logging
import threading
from functools import partial

from babel.numbers import format_currency
from kivy.clock import Clock
from kivy.properties import StringProperty

from kiosk.i18n_markers import N_
from kiosk.screens import load_kv_once
from kiosk.screens.base import KioskScreen
from kiosk.steps.copay import ASK, WAITING
from kiosk.widgets.buttons import KioskButton
from kiosk.widgets.tr import tr

log = logging.getLogger(__name__)


class CopayScreen(KioskScreen):
    amount = StringProperty("")
    phase = StringProperty(ASK)
    message = StringProperty("")  # the terminal's patient message id, on the result page

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._keep_alive = None  # holds off the idle warning while the card reader works

    @property
    def step(self):
        return self.journey.step("copay")

    def refresh(self) -> None:
        journey = self.journey
        if journey is None or journey.session is None or journey.state != "copay":
            return
        state = self.step.state(journey)
        self.amount = format_currency(state.amount_cents / 100, "USD", locale=self.app.translator.locale)
        self.phase = state.phase
        self.message = state.result.message_for_patient_id if state.result else ""
        self._buttons(state)

    def _buttons(self, state) -> None:
        row = self.ids.actions
        row.clear_widgets()
        result = state.result
        if state.phase == ASK:
            wanted = [("copay_desk", N_("Pay at the front desk"), "secondary", self.pay_at_desk),
                      ("copay_card", N_("Pay with card"), "primary", self.pay_with_card)]
        elif state.phase == WAITING:
            wanted = [("copay_cancel", N_("Cancel"), "secondary", self.cancel)]
        elif result is not None and result.approved:
            wanted = [("receipt_no", N_("No receipt"), "secondary", partial(self.finish, False))]
            if self.app.kiosk_config.receipt_printer != "none":
                wanted.append(("receipt_print", N_("Print a receipt"), "primary", partial(self.finish, True)))
            else:
                wanted = [("copay_continue", N_("Continue"), "primary", partial(self.finish, False))]
        elif result is not None and result.final and result.status.value in ("declined", "cancelled", "timeout"):
            wanted = [("copay_desk", N_("Pay at the front desk"), "secondary", self.pay_at_desk),
                      ("copay_retry", N_("Try again"), "primary", self.pay_with_card)]
        else:  # offline, error, or not confirmed: the desk settles it; no second attempt
            wanted = [("copay_continue", N_("Continue"), "primary", partial(self.finish, False))]
        for action, text, kind, handler in wanted:
            button = KioskButton(action=action, kind=kind)
            button.text = tr._(text)
            button.bind(on_release=lambda *_a, h=handler: h())
            row.add_widget(button)

    # -- the patient's touches --------------------------------------------------------
    def pay_with_card(self) -> None:
        step, journey = self.step, self.journey
        key = step.start(journey)
        amount = step.state(journey).amount_cents
        self.refresh()

        def work():
            result = step.collect(key, amount)  # blocks while the patient uses the reader
            Clock.schedule_once(lambda _dt: self._settled(result))

        # The patient is busy with the card reader, not the screen: no "are you still there?"
        # meanwhile (the terminal has its own time limit).
        self._keep_alive = Clock.schedule_interval(lambda _dt: self.app.more_time(), 1.0)
        threading.Thread(target=work, name="copay", daemon=True).start()

    def _stop_keep_alive(self) -> None:
        if self._keep_alive is not None:
            self._keep_alive.cancel()
            self._keep_alive = None

    def _settled(self, result) -> None:
        self._stop_keep_alive()
        journey = self.journey
        if journey is None or journey.session is None or journey.state != "copay":
            return  # the visit ended while the terminal worked; the key is reconciled at start-up
        self.step.settle(journey, result)
        self.refresh()

    def cancel(self) -> None:
        key = self.step.state(self.journey).key
        threading.Thread(target=self.step.cancel_key, args=(key,), name="copay-cancel", daemon=True).start()

    def pay_at_desk(self) -> None:
        self.step.pay_at_desk(self.journey)
        self.app.sync()

    def finish(self, receipt: bool) -> None:
        if receipt:
            self.app.print_receipt(self.step.state(self.journey).result)
        self.step.finish(self.journey)
        self.app.sync()

    def on_leave(self, *args):
        super().on_leave(*args)
        self._stop_keep_alive()

    def clear(self) -> None:
        super().clear()
        self._stop_keep_alive()
        self.amount = self.message = ""
        self.phase = ASK
        self.ids.actions.clear_widgets()


load_kv_once(__file__)
