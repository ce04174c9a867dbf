"""The enrolment URI carried by the QR code IT shows the kiosk, and its terminal/PNG rendering.

    clinic-kiosk-enrol:?server=https%3A%2F%2Fpractice.example.org%3A8443&token=…&ca=sha256:<hex>

Everything a kiosk needs to enrol, and nothing secret beyond the single-use, expiring
token: the CA fingerprint is public (it only lets the kiosk recognise the real CA).
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

from provisioning.errors import ProvisioningError
from provisioning.pki import normalise_fingerprint

SCHEME = "clinic-kiosk-enrol"


@dataclass(frozen=True)
class EnrolUri:
    server: str
    token: str
    ca_fingerprint: str | None


def build_uri(server: str, token: str, ca_fingerprint: str | None) -> str:
    params = {"server": server, "token": token}
    if ca_fingerprint:
        params["ca"] = ca_fingerprint
    # ":" and "/" kept readable (legal in a query; the server URL stays legible in the QR text).
    return f"{SCHEME}:?" + urlencode(params, safe=":/")


def parse_uri(text: str) -> EnrolUri:
    parts = urlsplit(text.strip())
    if parts.scheme != SCHEME:
        raise ProvisioningError(
            f"--uri must start with '{SCHEME}:?' (copy it from the issue-token output), found {text[:40]!r}"
        )
    query = parse_qs(parts.query, keep_blank_values=False)
    server = (query.get("server") or [""])[0]
    token = (query.get("token") or [""])[0]
    if not server or not token:
        raise ProvisioningError("the enrolment URI lacks server= or token=: copy it again from issue-token")
    ca = (query.get("ca") or [None])[0]
    return EnrolUri(server=server, token=token, ca_fingerprint=normalise_fingerprint(ca) if ca else None)


def qr_ascii(data: str) -> str:
    """The QR code as text for a terminal (two characters per module, dark on light)."""
    import qrcode

    qr = qrcode.QRCode(border=2, error_correction=qrcode.constants.ERROR_CORRECT_M)
    qr.add_data(data)
    qr.make(fit=True)
    out = io.StringIO()
    # invert=True: most terminals are light-on-dark; inverting keeps the code dark-on-light
    # for phone and kiosk cameras.
    qr.print_ascii(out=out, invert=True)
    return out.getvalue()


def save_qr_png(data: str, path: Path) -> None:
    import qrcode

    qr = qrcode.QRCode(border=4, box_size=8, error_correction=qrcode.constants.ERROR_CORRECT_M)
    qr.add_data(data)
    qr.make(fit=True)
    try:
        qr.make_image().save(str(path))
    except OSError as exc:
        raise ProvisioningError(f"cannot write the QR code PNG {path}: {exc.strerror or exc}") from None
