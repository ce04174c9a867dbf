"""Staff PIN hashing (scrypt) for the kiosk's staff functions.

The kiosk stores only a hash of the staff PIN, in its configuration file
(`staff_pin_hash`).  IT makes one with::

    python -m kiosk.staff_pin

which asks for the PIN twice and prints a line like
``scrypt$16384$8$1$<salt base64>$<hash base64>`` to paste into the config.

No Kivy here.
"""
from __future__ import annotations

import base64
import binascii
import getpass
import hashlib
import hmac
import os
import sys

SCHEME = "scrypt"
N = 2**14
R = 8
P = 1
SALT_BYTES = 16
HASH_BYTES = 32

# Refuse parameters that would make verification hang or eat memory (a hash
# string comes from a config file, so treat it as untrusted input).
_MAX_N = 2**20
_MAX_R = 32
_MAX_P = 16

MIN_PIN_LENGTH = 4
MAX_PIN_LENGTH = 12

DEMO_PIN = "2468"
# hash_pin(DEMO_PIN), fixed so demo start-up does not pay for a scrypt run.
DEMO_PIN_HASH = (
    "scrypt$16384$8$1$Prbeth/aZXqScJL1fh5GzA==$"
    "o0Altv5KYi5uuVlH9zRqAeBapzeIEBZsI1kIib1kRj0="
)


class PinHashError(ValueError):
    """A stored PIN hash string is not in the expected format."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError) as exc:
        raise PinHashError(f"not valid base64: {text!r}") from exc


def _scrypt(pin: str, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
    maxmem = 128 * r * (n + p + 2) + (1 << 20)
    return hashlib.scrypt(pin.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=maxmem, dklen=dklen)


def hash_pin(pin: str) -> str:
    """Hash `pin` with scrypt and a random 16-byte salt.

    Returns ``scrypt$16384$8$1$<salt b64>$<hash b64>``.
    """
    if not isinstance(pin, str) or not pin:
        raise ValueError("PIN must be a non-empty string")
    salt = os.urandom(SALT_BYTES)
    digest = _scrypt(pin, salt, N, R, P, HASH_BYTES)
    return f"{SCHEME}${N}${R}${P}${_b64(salt)}${_b64(digest)}"


def parse_pin_hash(encoded: str) -> tuple[int, int, int, bytes, bytes]:
    """Split an encoded hash into (n, r, p, salt, digest); PinHashError if malformed."""
    if not isinstance(encoded, str):
        raise PinHashError(f"expected a string, found {type(encoded).__name__}")
    parts = encoded.strip().split("$")
    if len(parts) != 6 or parts[0] != SCHEME:
        raise PinHashError(
            "expected 'scrypt$<n>$<r>$<p>$<salt base64>$<hash base64>' "
            "(as printed by `python -m kiosk.staff_pin`)"
        )
    try:
        n, r, p = (int(x) for x in parts[1:4])
    except ValueError as exc:
        raise PinHashError("scrypt parameters n, r, p must be integers") from exc
    if n < 2 or n > _MAX_N or n & (n - 1):
        raise PinHashError(f"scrypt n must be a power of two between 2 and {_MAX_N}, found {n}")
    if not 1 <= r <= _MAX_R or not 1 <= p <= _MAX_P:
        raise PinHashError(f"scrypt r/p out of range (r 1..{_MAX_R}, p 1..{_MAX_P}), found r={r} p={p}")
    salt = _unb64(parts[4])
    digest = _unb64(parts[5])
    if len(salt) < 8:
        raise PinHashError(f"salt too short ({len(salt)} bytes, expected at least 8)")
    if not 16 <= len(digest) <= 64:
        raise PinHashError(f"hash length {len(digest)} bytes, expected 16..64")
    return n, r, p, salt, digest


def verify_pin(pin: str, encoded: str) -> bool:
    """True when `pin` matches the encoded hash. A malformed hash never matches."""
    if not isinstance(pin, str) or not pin:
        return False
    try:
        n, r, p, salt, expected = parse_pin_hash(encoded)
    except PinHashError:
        return False
    actual = _scrypt(pin, salt, n, r, p, len(expected))
    return hmac.compare_digest(actual, expected)


def valid_pin_format(pin: str) -> bool:
    """Staff PINs are 4 to 12 digits (what the kiosk's keypad can type)."""
    return pin.isascii() and pin.isdigit() and MIN_PIN_LENGTH <= len(pin) <= MAX_PIN_LENGTH


def main(argv: list[str] | None = None) -> int:
    try:
        first = getpass.getpass(f"New staff PIN ({MIN_PIN_LENGTH}-{MAX_PIN_LENGTH} digits): ")
        if not valid_pin_format(first):
            print(
                f"error: the PIN must be {MIN_PIN_LENGTH} to {MAX_PIN_LENGTH} digits (0-9).",
                file=sys.stderr,
            )
            return 2
        if first == DEMO_PIN:
            print(f"error: {DEMO_PIN} is the public demo PIN; choose another.", file=sys.stderr)
            return 2
        second = getpass.getpass("Repeat the PIN: ")
    except (EOFError, KeyboardInterrupt):
        print("\ncancelled.", file=sys.stderr)
        return 1
    if not hmac.compare_digest(first.encode(), second.encode()):
        print("error: the two PINs differ; nothing was printed.", file=sys.stderr)
        return 1
    encoded = hash_pin(first)
    print("# Paste this line into the kiosk's config file:", file=sys.stderr)
    print(f'staff_pin_hash = "{encoded}"')
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
