"""The two ways a request to the practice server can fail, as the agent sees them.

TransientError: try again later, nothing is wrong with this kiosk (network, server
down or overloaded, a garbled reply). PermanentError: retrying as is will not help;
someone (IT) has to act, and the message says what. Messages never hold PHI: they
go to logs, the health file and the heartbeat.
"""

from __future__ import annotations


class SyncError(Exception):
    """Base of the agent's failures. `code` is short and stable (for tests and logs)."""

    def __init__(self, code: str, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


class TransientError(SyncError):
    """Retry with backoff. `retry_after` is the server's Retry-After in seconds, if any."""

    def __init__(
        self, code: str, message: str, *, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(code, message, status=status)
        self.retry_after = retry_after


class PermanentError(SyncError):
    """Retrying will not help until someone acts (re-enrol, fix the clock, update)."""

    # Codes meaning this kiosk is not (or no longer) a device the server accepts:
    # the health file says "not_enrolled" for these.
    ENROLMENT_CODES = frozenset({"unknown_device", "revoked", "bad_signature"})

    @property
    def needs_enrolment(self) -> bool:
        return self.code in self.ENROLMENT_CODES


class BadCursorError(PermanentError):
    """The server does not know our schedule cursor: start again from an empty one."""
