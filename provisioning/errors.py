"""The one error type IT sees: a single line saying what is wrong and what to do."""
from __future__ import annotations


class ProvisioningError(Exception):
    """Something IT can fix. The CLI prints the message (no traceback) and exits non-zero."""

    def __init__(self, message: str, *, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code
