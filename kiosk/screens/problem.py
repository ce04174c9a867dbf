"""Something failed inside the kiosk: plain words for the patient, never a traceback."""
from kivy.clock import Clock

from kiosk.screens.base import KioskScreen

BACK_TO_WELCOME_SECONDS = 60


class ProblemScreen(KioskScreen):
    def on_enter(self, *_):
        self._back = Clock.schedule_once(self._back_to_welcome, BACK_TO_WELCOME_SECONDS)

    def on_leave(self, *_):
        if getattr(self, "_back", None) is not None:
            self._back.cancel()

    def _back_to_welcome(self, _dt):
        if self.manager is not None and self.manager.current == self.name:
            self.app.back_to_welcome()
