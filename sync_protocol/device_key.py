"""Load the kiosk's Ed25519 device key, refusing a file others can read (the sync agent
signs its requests with it; the kiosk app signs portal invitations with it).

Format: PEM (PKCS#8, unencrypted), as `cryptography` writes it; a base64 line of the
32 raw private key bytes is accepted too. The key never leaves the kiosk; a copy
readable by other users would let them act as this kiosk.
"""

from __future__ import annotations

import base64
import binascii
import stat
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


class DeviceKeyError(Exception):
    """The device key cannot be used; the message says what to do (never key bytes)."""


def load_device_key(path: Path) -> Ed25519PrivateKey:
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        data = path.read_bytes()
    except FileNotFoundError:
        raise DeviceKeyError(f"device key file {path} does not exist") from None
    except PermissionError:
        raise DeviceKeyError(f"device key file {path} cannot be read by this user") from None
    if mode & 0o077:
        raise DeviceKeyError(
            f"device key file {path} has mode {mode:04o}: other users can read it. "
            f"Run: chmod 600 {path}"
        )
    if b"-----BEGIN" in data:
        try:
            key = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError):
            raise DeviceKeyError(f"device key file {path} is not an unencrypted PEM private key") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise DeviceKeyError(f"device key file {path} holds a {type(key).__name__}, not an Ed25519 key")
        return key
    try:
        raw = base64.b64decode(data.strip(), validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise DeviceKeyError(
            f"device key file {path} is neither a PEM Ed25519 key nor 32 base64 bytes; "
            "enrol again with python -m provisioning enrol"
        )
    return Ed25519PrivateKey.from_private_bytes(raw)
