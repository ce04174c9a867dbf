"""Portal passwords: the rule a new password must meet, and its argon2id hash.

The rule (NIST SP 800-63B style, no composition rules): 12 to 128 characters, not one
character repeated, not a keyboard or counting run, and not a common password — also
not a common word with digits or symbols stuck on ("Password1234!"). A passphrase of
a few words passes. The hash is argon2-cffi's argon2id with its default cost.
"""

from __future__ import annotations

import re
from functools import cache
from importlib.resources import files

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 12
MAX_LENGTH = 128  # hashing stays cheap; a passphrase fits easily
_RUNS = ("0123456789", "9876543210", "abcdefghijklmnopqrstuvwxyz", "qwertyuiop", "asdfghjkl",
         "zxcvbnm", "1qaz2wsx3edc4rfv", "qazwsxedcrfv")
_AFFIX = re.compile(r"^[\W\d_]+|[\W\d_]+$")

_hasher = PasswordHasher()


@cache
def common_passwords() -> frozenset[str]:
    text = files(__package__).joinpath("common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(w.strip().lower() for w in text.splitlines() if w.strip() and not w.startswith("#"))


def problems(password: str) -> list[str]:
    """Message keys (portal/messages.py) of every rule `password` breaks; [] if it is fine."""
    found = []
    if len(password) < MIN_LENGTH:
        found.append("pw_too_short")
    if len(password) > MAX_LENGTH:
        found.append("pw_too_long")
    if password and _is_guessable(password):
        found.append("pw_common")
    return found


def _is_guessable(password: str) -> bool:
    lowered = password.lower()
    if len(set(lowered)) <= 2:
        return True
    common = common_passwords()
    squeezed = re.sub(r"[\s\-_.]", "", lowered)
    core = _AFFIX.sub("", squeezed)
    if squeezed in common or (core and core in common):
        return True
    return any(squeezed in run * 2 or (len(core) >= 4 and core in run) for run in _RUNS)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
