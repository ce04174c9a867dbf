"""Inactivity: after a quiet spell, warn with a countdown; if still quiet, expire (wipe).

Plain Python with an injected clock, so the timing rules test without a window.
"""
from __future__ import annotations

from dataclasses import dataclass

ACTIVE, WARNING, EXPIRED = "active", "warning", "expired"


@dataclass
class IdleTimer:
    warn_after: float  # seconds of no touch before the warning shows
    countdown: float  # seconds the warning shows before the session is wiped
    last_activity: float = 0.0

    def touch(self, now: float) -> None:
        self.last_activity = now

    def state(self, now: float) -> str:
        quiet = now - self.last_activity
        if quiet < self.warn_after:
            return ACTIVE
        if quiet < self.warn_after + self.countdown:
            return WARNING
        return EXPIRED

    def seconds_left(self, now: float) -> int:
        """Whole seconds until expiry, for the countdown shown to the patient."""
        left = self.warn_after + self.countdown - (now - self.last_activity)
        return max(0, int(left + 0.999))
