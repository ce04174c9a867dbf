"""Short signed codes for QR codes and letters: ``PREFIX.PAYLOAD.SIGNATURE``.

PAYLOAD is a compact binary record and SIGNATURE its Ed25519 signature, both in
RFC 4648 base32 without padding. Base32 (A-Z, 2-7) plus the dots is QR
"alphanumeric" mode, which packs denser than bytes, and survives being typed in
any case. The signature covers a domain string and the payload, so a signature
made for one kind of code (or an RFC 9421 request) can never pass for another.

Shared by the check-in token (checkin_token.py) and the portal invitation
(portal_invitation.py). No server or Kivy imports: the kiosk uses this offline.
Errors never quote the code itself.
"""

from __future__ import annotations

import base64
import binascii
import re
import struct
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

MALFORMED = "malformed"
UNKNOWN_KEY = "unknown_key"
FORGED = "forged"
EXPIRED = "expired"

MAX_CODE_CHARS = 400  # a real code is about 200; anything far longer is not one of ours
MAX_TEXT_ID_CHARS = 64
SIGNATURE_BYTES = 64
_KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_ID_UUID, _ID_TEXT = 1, 2
_U32_MAX = 2**32 - 1


class TokenError(ValueError):
    """A code that cannot be used. `code` is malformed, unknown_key, forged or expired
    (check-in also other_site / already_used); the message is for logs and IT."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def b32(data: bytes) -> str:
    return base64.b32encode(data).decode("ascii").rstrip("=")


def _unb32(text: str, what: str) -> bytes:
    if not text:
        raise TokenError(MALFORMED, f"the {what} part is empty")
    try:
        data = base64.b32decode(text + "=" * (-len(text) % 8))
    except (binascii.Error, ValueError):
        raise TokenError(MALFORMED, f"the {what} part is not base32") from None
    if b32(data) != text:  # one text per value: no padding games, no stray trailing bits
        raise TokenError(MALFORMED, f"the {what} part is not canonical base32")
    return data


def check_key_id(key_id: str) -> str:
    if not isinstance(key_id, str) or not _KEY_ID.match(key_id):
        raise ValueError("a key id is 1-32 of A-Z a-z 0-9 _ -")
    return key_id


def aware(moment: datetime, what: str) -> datetime:
    if not isinstance(moment, datetime) or moment.tzinfo is None:
        raise ValueError(f"`{what}` must be a timezone-aware datetime")
    return moment.astimezone(UTC)


class Writer:
    """Builds a payload: fixed-size numbers, raw bytes, ids and short names."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def time(self, moment: datetime, what: str) -> Writer:
        seconds = int(aware(moment, what).timestamp())  # whole seconds, rounded down
        if not 0 < seconds <= _U32_MAX:
            raise ValueError(f"`{what}` is out of range")
        self._buf += struct.pack(">I", seconds)
        return self

    def raw(self, data: bytes) -> Writer:
        self._buf += data
        return self

    def name(self, text: str) -> Writer:
        data = check_key_id(text).encode("ascii")
        self._buf += bytes([len(data)]) + data
        return self

    def id(self, value: str, what: str) -> Writer:
        """A UUID in its canonical lower-case form takes 16 bytes; any other id (an EHR's,
        say) is kept as printable ASCII text of up to 64 characters."""
        if not isinstance(value, str):
            raise ValueError(f"`{what}` must be a string")
        if _canonical_uuid(value):
            self._buf += bytes([_ID_UUID]) + uuid.UUID(value).bytes
            return self
        if not 1 <= len(value) <= MAX_TEXT_ID_CHARS or not _printable_ascii(value):
            raise ValueError(f"`{what}` must be a UUID or 1-{MAX_TEXT_ID_CHARS} printable ASCII characters")
        self._buf += bytes([_ID_TEXT, len(value)]) + value.encode("ascii")
        return self

    def bytes(self) -> bytes:
        return bytes(self._buf)


class Reader:
    """Reads a payload back; anything short, long or out of shape is MALFORMED."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0

    def _take(self, n: int) -> bytes:
        if self._pos + n > len(self._data):
            raise TokenError(MALFORMED, "the code is cut short")
        chunk = self._data[self._pos:self._pos + n]
        self._pos += n
        return chunk

    def time(self) -> datetime:
        (seconds,) = struct.unpack(">I", self._take(4))
        if seconds == 0:
            raise TokenError(MALFORMED, "the code has no expiry time")
        return datetime.fromtimestamp(seconds, tz=UTC)

    def raw(self, n: int) -> bytes:
        return self._take(n)

    def name(self) -> str:
        text = self._take(self._take(1)[0]).decode("ascii", errors="replace")
        if not _KEY_ID.match(text):
            raise TokenError(MALFORMED, "the code's key id is not valid")
        return text

    def id(self) -> str:
        tag = self._take(1)[0]
        if tag == _ID_UUID:
            return str(uuid.UUID(bytes=self._take(16)))
        if tag == _ID_TEXT:
            length = self._take(1)[0]
            text = self._take(length).decode("ascii", errors="replace")
            if not 1 <= length <= MAX_TEXT_ID_CHARS or not _printable_ascii(text) or _canonical_uuid(text):
                raise TokenError(MALFORMED, "the code holds an id that is not valid")
            return text
        raise TokenError(MALFORMED, "the code holds an id of an unknown kind")

    def end(self) -> None:
        if self._pos != len(self._data):
            raise TokenError(MALFORMED, "the code has extra data")


def _canonical_uuid(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value
    except ValueError:
        return False


def _printable_ascii(value: str) -> bool:
    return value.isascii() and value.isprintable()


def seal(prefix: str, domain: bytes, payload: bytes, private_key: Ed25519PrivateKey) -> str:
    signature = private_key.sign(domain + payload)
    return f"{prefix}.{b32(payload)}.{b32(signature)}"


def split(text: object, prefix: str, kind: str) -> tuple[bytes, bytes]:
    """(payload, signature) of a code of this `kind`; whitespace and case are forgiven
    (a code typed from a letter). Raises TokenError(MALFORMED)."""
    if not isinstance(text, str):
        raise TokenError(MALFORMED, f"a {kind} must be text")
    if len(text) > 2 * MAX_CODE_CHARS:
        raise TokenError(MALFORMED, f"this is far too long to be a {kind}")
    compact = "".join(text.split()).upper()
    if len(compact) > MAX_CODE_CHARS:
        raise TokenError(MALFORMED, f"this is far too long to be a {kind}")
    parts = compact.split(".")
    if len(parts) != 3 or parts[0] != prefix:
        raise TokenError(MALFORMED, f"this is not a {kind} (it may be another kind of code, or incomplete)")
    payload = _unb32(parts[1], "data")
    signature = _unb32(parts[2], "signature")
    if len(signature) != SIGNATURE_BYTES:
        raise TokenError(MALFORMED, f"the {kind}'s signature has the wrong length")
    return payload, signature


def check_signature(public_key: Ed25519PublicKey, domain: bytes, payload: bytes, signature: bytes,
                    kind: str) -> None:
    try:
        public_key.verify(signature, domain + payload)
    except InvalidSignature:
        raise TokenError(FORGED, f"the {kind}'s signature does not match: it was altered or not "
                                 "made by the key it names") from None


def check_expiry(expires_at: datetime, now: datetime, kind: str) -> None:
    if aware(now, "now") >= expires_at:
        raise TokenError(EXPIRED, f"this {kind} has expired")


def lookup(resolve: Callable[[str], Ed25519PublicKey | None], key_id: str, message: str) -> Ed25519PublicKey:
    key = resolve(key_id)
    if key is None:
        raise TokenError(UNKNOWN_KEY, message)
    return key
