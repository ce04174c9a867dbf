"""Staff sign-in at the kiosk: scrypt PIN check, lockout after failures, audit of every action.

Failure counts and the lockout live in the kiosk database, so restarting the app does not
reset them.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from kiosk.staff_pin import verify_pin
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # types only: the store (SQLAlchemy) is not loaded before the first frame
    from kiosk.store import Store

FAILURES = "staff_pin_failures"
LOCKED_UNTIL = "staff_locked_until"

OK, WRONG, LOCKED = "ok", "wrong", "locked"


@dataclass(frozen=True)
class SignInResult:
    outcome: str  # OK, WRONG or LOCKED
    attempts_left: int = 0
    locked_seconds: int = 0


class StaffAuth:
    def __init__(
        self,
        store: Store,
        pin_hash: str,
        clock: Callable[[], datetime],
        max_failures: int = 5,
        lockout_seconds: int = 300,
    ):
        self.store = store
        self.pin_hash = pin_hash
        self.clock = clock
        self.max_failures = max_failures
        self.lockout_seconds = lockout_seconds

    def locked_seconds(self) -> int:
        until = self.store.get_setting(LOCKED_UNTIL)
        if not until:
            return 0
        return max(0, int((datetime.fromisoformat(until) - self.clock()).total_seconds() + 0.999))

    def sign_in(self, pin: str) -> SignInResult:
        locked = self.locked_seconds()
        if locked:
            self.store.audit("staff", "staff.sign_in_refused_locked", {})
            return SignInResult(LOCKED, locked_seconds=locked)
        if verify_pin(pin, self.pin_hash):
            self.store.set_setting(FAILURES, "0")
            self.store.audit("staff", "staff.signed_in", {})
            return SignInResult(OK)
        failures = int(self.store.get_setting(FAILURES) or 0) + 1
        if failures >= self.max_failures:
            until = self.clock() + timedelta(seconds=self.lockout_seconds)
            self.store.set_setting(LOCKED_UNTIL, until.isoformat())
            self.store.set_setting(FAILURES, "0")
            self.store.audit("staff", "staff.locked_out", {"failures": failures})
            return SignInResult(LOCKED, locked_seconds=self.lockout_seconds)
        self.store.set_setting(FAILURES, str(failures))
        self.store.audit("staff", "staff.sign_in_failed", {"failures": failures})
        return SignInResult(WRONG, attempts_left=self.max_failures - failures)

    def record(self, action: str, **detail) -> None:
        """Audit a staff action taken while signed in."""
        self.store.audit("staff", action, detail)
