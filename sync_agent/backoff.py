"""Retry waits: exponential backoff with FULL jitter, capped, fed to stamina.

stamina's own jitter is added on top of the exponential wait, so a fleet of kiosks
that lost the network together would still come back nearly together. Full jitter
(a wait drawn uniformly from 0 to the exponential ceiling) spreads them out; stamina
takes the wait from our hook (its "backoff hook" may return seconds) and keeps its
testing switch: `stamina.set_testing(True, attempts=N)` turns every wait off.

The cap (5 minutes) is what makes a kiosk that was offline for days recover within
minutes of the network returning: the ceiling never grows past it.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable

from .errors import TransientError

BASE_SECONDS = 1.0
CAP_SECONDS = 300.0


class FullJitterBackoff:
    """Counts consecutive failures; `hook` is stamina's `on=` argument."""

    def __init__(
        self,
        *,
        base: float = BASE_SECONDS,
        cap: float = CAP_SECONDS,
        stop: threading.Event | None = None,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.base = base
        self.cap = cap
        self.failures = 0
        self._stop = stop
        self._rng = rng

    def ceiling(self, failures: int) -> float:
        try:
            return min(self.cap, self.base * 2 ** max(failures - 1, 0))
        except OverflowError:
            return self.cap

    def next_wait(self, retry_after: float | None = None) -> float:
        """One more failure; the seconds to wait before the next try."""
        self.failures += 1
        wait = self._rng() * self.ceiling(self.failures)
        if retry_after is not None:  # the server asked for at least this long
            wait = max(wait, min(retry_after, self.cap))
        return wait

    def reset(self) -> None:
        self.failures = 0

    def hook(self, exc: Exception) -> bool | float:
        """Retry transient failures only, and none once a stop was asked for."""
        if not isinstance(exc, TransientError):
            return False
        if self._stop is not None and self._stop.is_set():
            return False
        return self.next_wait(exc.retry_after)
