"""Confirm: the least PHI that lets a patient recognise their own appointment."""
from kivy.properties import StringProperty

from kiosk.screens.base import KioskScreen


class ConfirmScreen(KioskScreen):
    display_name = StringProperty("")
    appointment_time = StringProperty("")
    clinician = StringProperty("")

    def refresh(self) -> None:
        match = self.journey.session.appointment
        # First name and last initial only: enough to recognise, little to overhear.
        self.display_name = f"{match.first_name} {match.last_name[:1]}."
        self.appointment_time = self.app.translator.format_time(match.start.time())
        self.clinician = match.clinician_name

    def answer(self, is_me: bool) -> None:
        self.journey.confirm(is_me)
        self.app.sync()

    def clear(self) -> None:
        super().clear()
        self.display_name = self.appointment_time = self.clinician = ""
