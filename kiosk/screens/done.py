"""Done: "You're checked in", what happens next, and the place in line."""
from kivy.properties import BooleanProperty, NumericProperty, StringProperty

from kiosk.screens.base import KioskScreen


class DoneScreen(KioskScreen):
    already = BooleanProperty(False)
    clinician = StringProperty("")
    position = NumericProperty(0)
    wait_minutes = NumericProperty(0)

    def refresh(self) -> None:
        session = self.journey.session
        result = session.check_in
        self.already = result.already
        self.clinician = session.appointment.clinician_name
        self.position = result.queue_position
        self.wait_minutes = result.expected_wait_minutes

    def clear(self) -> None:
        super().clear()
        self.clinician = ""
        self.already = False
        self.position = self.wait_minutes = 0
