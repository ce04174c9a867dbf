"""The data key: one 32-byte master key in a 0600 file outside the database.

The master key is never used directly; HKDF-SHA256 derives two independent
keys from it, one for AES-GCM field encryption and one for the HMAC blind index,
so a leak of index values says nothing about the encryption key.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .errors import StoreError

MASTER_KEY_BYTES = 32

# HKDF "info" labels; changing them changes every derived key.
_ENC_INFO = b"clinic-kiosk store v1 enc (AES-256-GCM)"
_INDEX_INFO = b"clinic-kiosk store v1 index (HMAC-SHA256)"


@dataclass(frozen=True, repr=False)
class DerivedKeys:
    enc: bytes
    index: bytes

    def __repr__(self) -> str:  # keep keys out of tracebacks and logs
        return "DerivedKeys(<hidden>)"


def create_key_file(path: Path) -> None:
    """Write a new random master key as one base64 line, mode 0600.

    O_EXCL: never overwrite an existing key, that would orphan the database.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    line = base64.b64encode(secrets.token_bytes(MASTER_KEY_BYTES)) + b"\n"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)  # the umask may have narrowed it, never widened: be explicit
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)


def load_key_file(path: Path) -> bytes:
    """Read the master key, refusing a file that others could read."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise StoreError(f"key file {path} does not exist") from None
    if not stat.S_ISREG(st.st_mode):
        raise StoreError(f"key file {path} is not a regular file")
    if st.st_mode & 0o077:
        raise StoreError(
            f"key file {path} has permissions {stat.S_IMODE(st.st_mode):o}, "
            f"looser than 0600; run: chmod 600 {path}"
        )
    try:
        key = base64.b64decode(path.read_bytes().strip(), validate=True)
    except (binascii.Error, ValueError):
        raise StoreError(f"key file {path} is not a base64 key") from None
    if len(key) != MASTER_KEY_BYTES:
        raise StoreError(f"key file {path} must hold {MASTER_KEY_BYTES} bytes, not {len(key)}")
    return key


def derive_keys(master: bytes) -> DerivedKeys:
    """Split the master key into the encryption key and the index key."""

    def hkdf(info: bytes) -> bytes:
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(master)

    return DerivedKeys(enc=hkdf(_ENC_INFO), index=hkdf(_INDEX_INFO))
