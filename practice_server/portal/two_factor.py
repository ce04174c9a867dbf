"""Authenticator-app (TOTP, RFC 6238) set-up: the secret, its otpauth:// link, the QR code
as inline SVG made here (no image request, no CDN), and checking a code.

The otpauth label names the clinic and "Patient portal", never the patient: the
authenticator app on a shared phone shows it to anyone who opens the app.
"""

from __future__ import annotations

import re
from datetime import datetime

import pyotp
import qrcode
from markupsafe import escape
from qrcode.constants import ERROR_CORRECT_M

ACCOUNT_LABEL = "Patient portal"
_CODE = re.compile(r"^\d{6}$")


def new_secret() -> str:
    return pyotp.random_base32()  # 32 base32 characters: 160 bits, as RFC 4226 recommends


def provisioning_uri(secret: str, issuer: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=ACCOUNT_LABEL, issuer_name=issuer)


def grouped(secret: str) -> str:
    """The secret in groups of four, easier to type into an app by hand."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def code_is_valid(secret: str, code: str, now: datetime) -> bool:
    """A 6-digit code for `now`, or one step (30 s) either side for a slow hand or clock."""
    code = re.sub(r"\s", "", code)
    if not _CODE.match(code):
        return False
    return pyotp.TOTP(secret).verify(code, for_time=now, valid_window=1)


def qr_svg(text: str, label: str) -> str:
    """An <svg> element drawing `text` as a QR code (one path, scalable) for inline HTML;
    `label` is its accessible name."""
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=4)
    qr.add_data(text)
    qr.make(fit=True)
    matrix = qr.get_matrix()  # includes the quiet-zone border
    size = len(matrix)
    dark = "".join(f"M{x} {y}h1v1h-1z" for y, row in enumerate(matrix) for x, on in enumerate(row) if on)
    return (f'<svg class="qr" viewBox="0 0 {size} {size}" role="img" focusable="false" '
            f'aria-label="{escape(label)}" shape-rendering="crispEdges">'
            f'<rect width="{size}" height="{size}" fill="#fff"/><path d="{dark}" fill="#000"/></svg>')
