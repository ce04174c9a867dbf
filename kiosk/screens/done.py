"""Done: "You're checked in", what happens next, and the place in line."""
from kivy.properties import BooleanProperty, NumericProperty, StringProperty

from kiosk.screens.base import KioskScreen

FINISH_AFTER_SECONDS = 30  # the patient has what they need; free the kiosk for the next one


class DoneScreen(KioskScreen):
    already = BooleanProperty(False)
    rated = BooleanProperty(False)  # one tap only: the rating row becomes a thank-you
    clinician = StringProperty("")
    position = NumericProperty(0)
    wait_minutes = NumericProperty(0)

    def refresh(self) -> None:
        session = self.journey.session
        if session is None or session.check_in is None:  # the visit is already over
            return
        result = session.check_in
        self.already = result.already
        self.clinician = session.appointment.clinician_name
        self.position = result.queue_position
        self.wait_minutes = result.expected_wait_minutes

    def rate(self, rating: int) -> None:
        if not self.rated:
            self.rated = True
            self.journey.rate(rating)

    def on_enter(self, *_):
        self.after_while_shown(FINISH_AFTER_SECONDS, lambda: self.app.end_visit("completed"))

    def clear(self) -> None:
        super().clear()
        self.clinician = ""
        self.already = False
        self.rated = False
        self.position = self.wait_minutes = 0
