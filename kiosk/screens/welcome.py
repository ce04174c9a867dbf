"""Welcome: choose a language, then "Check in"."""
from kiosk.screens.base import KioskScreen


class WelcomeScreen(KioskScreen):
    pass
