"""Paused after too many failed tries: send the patient to the desk, count down, then reopen."""
from kivy.clock import Clock
from kivy.properties import NumericProperty

from kiosk.screens.base import KioskScreen


class CooldownScreen(KioskScreen):
    seconds_left = NumericProperty(0)

    def on_enter(self, *_):
        self._tick(0)
        self._timers.append(Clock.schedule_interval(self._tick, 1))  # cancelled on leave

    def _tick(self, _dt):
        if self.manager is None or self.manager.current != self.name:
            return False  # left before on_enter fired: stop ticking
        self.seconds_left = int(self.journey.cooldown_remaining() + 0.999)
        if self.seconds_left <= 0:
            self.journey.end("cooldown_over")
            self.app.sync()
