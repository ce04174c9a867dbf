"""Field encryption (AES-256-GCM) and the keyed blind index used for look-ups."""

from __future__ import annotations

import hashlib
import hmac
import os
from datetime import date, datetime

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from kiosk.names import normalise_name

from .errors import StoreError
from .keys import DerivedKeys

FORMAT_V1 = b"\x01"
_NONCE_BYTES = 12
_TAG_BYTES = 16

KEY_MISMATCH = "the data key does not match this database"

class FieldCipher:
    """Encrypts single column values; AAD b"table.column" pins a value to its column."""

    def __init__(self, keys: DerivedKeys) -> None:
        self._aead = AESGCM(keys.enc)
        self._index_key = keys.index

    def __repr__(self) -> str:
        return "FieldCipher(<key hidden>)"

    def encrypt(self, value: str, aad: bytes) -> bytes:
        if not isinstance(value, str):
            raise TypeError(f"only str values are encrypted, got {type(value).__name__}")
        nonce = os.urandom(_NONCE_BYTES)
        return FORMAT_V1 + nonce + self._aead.encrypt(nonce, value.encode("utf-8"), aad)

    def decrypt(self, blob: bytes, aad: bytes) -> str:
        if len(blob) < 1 + _NONCE_BYTES + _TAG_BYTES or blob[:1] != FORMAT_V1:
            raise StoreError(f"encrypted field {aad.decode()} has an unknown format")
        nonce = blob[1 : 1 + _NONCE_BYTES]
        try:
            plain = self._aead.decrypt(nonce, blob[1 + _NONCE_BYTES :], aad)
        except InvalidTag:
            # Almost always a different key file; a flipped bit reads the same.
            raise StoreError(f"{KEY_MISMATCH} (cannot decrypt {aad.decode()})") from None
        return plain.decode("utf-8")

    def identity_index(self, last_name: str, birth_date: date) -> bytes:
        """HMAC of the normalised last name and ISO birth date: equal inputs, equal bytes."""
        if isinstance(birth_date, datetime) or not isinstance(birth_date, date):
            raise TypeError("birth_date must be a datetime.date")
        message = f"v1|{normalise_name(last_name)}|{birth_date.isoformat()}"
        return hmac.new(self._index_key, message.encode("utf-8"), hashlib.sha256).digest()
