"""Done: "You're checked in", what happens next, and the place in line."""
from kivy.clock import Clock
from kivy.properties import BooleanProperty, NumericProperty, StringProperty

from kiosk.screens.base import KioskScreen


FINISH_AFTER_SECONDS = 30  # the patient has what they need; free the kiosk for the next one


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

    def on_enter(self, *_):
        self._finish = Clock.schedule_once(self._finish_visit, FINISH_AFTER_SECONDS)

    def on_leave(self, *_):
        if getattr(self, "_finish", None) is not None:
            self._finish.cancel()

    def _finish_visit(self, _dt):
        # Screens can be left before on_enter fires (fast taps): act only if still shown.
        if self.manager is not None and self.manager.current == self.name:
            self.app.end_visit("completed")

    def clear(self) -> None:
        super().clear()
        self.clinician = ""
        self.already = False
        self.position = self.wait_minutes = 0
