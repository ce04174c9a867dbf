"""Something failed inside the kiosk: plain words for the patient, never a traceback."""
from kiosk.screens.base import KioskScreen

BACK_TO_WELCOME_SECONDS = 60


class ProblemScreen(KioskScreen):
    def on_enter(self, *_):
        self.after_while_shown(BACK_TO_WELCOME_SECONDS, self.app.back_to_welcome)
