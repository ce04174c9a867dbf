"""The kiosk's Ed25519 device key: made on the kiosk, private half never leaves it.

File format: unencrypted PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----"), mode 0600, read
by the sync agent with `cryptography`'s `load_pem_private_key` (`load_device_key`).
No passphrase: the agent starts unattended; the file mode and the kiosk's disk are
the protection, and a stolen kiosk is revoked at the server (`provisioning revoke`).
"""
from __future__ import annotations

import base64
import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey



def generate_device_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def public_key_b64(key: Ed25519PrivateKey) -> str:
    """Base64 of the 32 raw public key bytes (what POST /api/v1/enrol expects)."""
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


def private_key_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def write_private_key(path: Path, key: Ed25519PrivateKey) -> None:
    """Create `path` 0600 and write the key. O_EXCL: an existing file is never replaced here
    (the caller writes to a fresh temporary name and renames, see enrol)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        # The mode is set at creation, before any key byte exists in the file; fchmod only
        # makes sure a strange umask did not change it.
        os.fchmod(fd, 0o600)
        os.write(fd, private_key_pem(key))
        os.fsync(fd)
    finally:
        os.close(fd)
