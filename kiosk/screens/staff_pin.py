"""Staff sign-in: a PIN on the keypad, shown as dots, with lockout after failures."""
from kivy.properties import StringProperty

from kiosk.i18n_markers import N_
from kiosk.screens.base import KioskScreen
from kiosk.staff import LOCKED, OK
from kiosk.widgets.keypad import BACKSPACE


class StaffPinScreen(KioskScreen):
    pin = StringProperty("")

    def on_key(self, key: str) -> None:
        self.pin = self.pin[:-1] if key == BACKSPACE else (self.pin + key)[:12]

    def sign_in(self) -> None:
        result = self.app.staff_auth.sign_in(self.pin)
        self.pin = ""
        if result.outcome == OK:
            self.app.enter_staff_mode()
        elif result.outcome == LOCKED:
            self.notice = N_("Too many wrong PINs. Staff sign-in is locked for a few minutes.")
        else:
            self.notice = N_("That PIN is not right. Please try again.")

    def clear(self) -> None:
        super().clear()
        self.pin = ""
