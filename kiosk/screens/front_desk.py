"""Could not find a check-in: the same kind words whatever the reason (no patient leaks)."""
from kiosk.screens.base import KioskScreen


class FrontDeskScreen(KioskScreen):
    def try_again(self) -> None:
        self.journey.try_again()
        self.app.sync()
