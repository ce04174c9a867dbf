"""Which CA the kiosk trusts while enrolling, and how it gets it.

Two ways, both ending with ONE trusted CA certificate used as the only trust anchor of a
normal, fully verified TLS connection (chain + hostname checked by OpenSSL):

* `--ca-file ca.pem`: IT copied the practice CA to the kiosk. Used as given.
* `--ca-fingerprint sha256:HEX` (from the QR code): the kiosk has only a hash. We open a
  TLS connection WITHOUT verification, send nothing over it, and read the certificate
  chain the server presents (the server's --tls-cert holds the full chain, init-pki
  writes it so). A certificate in that chain whose SHA-256 equals the fingerprint IS the
  practice CA — the hash is the trust anchor, the unverified connection only carried
  its bytes; an attacker cannot make another certificate with the same hash. That CA
  must be a CA (basicConstraints). Then the real requests go over a NEW connection
  verified against that CA alone, so a man in the middle who relayed the real chain
  still fails the handshake (he lacks the server's key).

Python 3.13 has `SSLSocket.get_unverified_chain()`; 3.10-3.12 have the same method on
the private `_sslobj`. If neither exists we say so and ask for --ca-file.
"""
from __future__ import annotations

import socket
import ssl
from urllib.parse import urlsplit

from cryptography import x509

from provisioning.errors import ProvisioningError
from provisioning.pki import cert_pem, fingerprint_der, is_ca, load_cert_file

_DER = getattr(ssl, "ENCODING_DER", None) or getattr(ssl._ssl, "ENCODING_DER", 2)  # type: ignore[attr-defined]


def ca_from_file(path) -> bytes:
    cert = load_cert_file(path)
    if not is_ca(cert):
        raise ProvisioningError(
            f"{path} is not a CA certificate (it is {cert.subject.rfc4514_string()}); "
            "use ca.pem from the practice server's init-pki directory, not server.pem"
        )
    return cert_pem(cert)


def _presented_chain(host: str, port: int, timeout: float) -> list[bytes]:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # on purpose: see the module docstring; nothing is sent
    try:
        with socket.create_connection((host, port), timeout=timeout) as raw:
            with ctx.wrap_socket(raw, server_hostname=host) as tls:
                getter = getattr(tls, "get_unverified_chain", None) or getattr(
                    tls._sslobj, "get_unverified_chain", None  # type: ignore[attr-defined]
                )
                if getter is None:
                    raise ProvisioningError(
                        "this Python cannot read the server's certificate chain; "
                        "copy ca.pem to the kiosk and use --ca-file instead of --ca-fingerprint"
                    )
                chain = getter() or []
                return [c if isinstance(c, bytes) else c.public_bytes(_DER) for c in chain]
    except ProvisioningError:
        raise
    except ssl.SSLError as exc:
        raise ProvisioningError(
            f"TLS handshake with {host}:{port} failed ({exc.reason or exc}): is the server URL "
            "https:// and the port the practice server's?"
        ) from None
    except OSError as exc:
        from provisioning.net_errors import explain_os_error

        raise ProvisioningError(explain_os_error(exc, host, port)) from None


def ca_from_fingerprint(server_url: str, pin: str, timeout: float) -> bytes:
    """The practice CA whose SHA-256 is `pin` ('sha256:<hex>'), taken from the server's chain."""
    parts = urlsplit(server_url)
    host = parts.hostname or ""
    port = parts.port or 443
    chain = _presented_chain(host, port, timeout)
    for der in chain:
        if fingerprint_der(der) == pin:
            cert = x509.load_der_x509_certificate(der)
            if not is_ca(cert):
                raise ProvisioningError(
                    f"the certificate with fingerprint {pin} is not a CA certificate: the "
                    "fingerprint must be the practice CA's (issue-token prints it)"
                )
            return cert_pem(cert)
    seen = ", ".join(fingerprint_der(d)[:23] + "…" for d in chain) or "none"
    hint = (
        " The server sent only its own certificate: its --tls-cert file must hold the full "
        "chain (server.pem from init-pki does)."
        if len(chain) == 1
        else ""
    )
    raise ProvisioningError(
        f"the server at {server_url} did not present the practice CA with fingerprint {pin} "
        f"(it presented {seen}): check the fingerprint from the issue-token output / QR code, "
        f"or copy ca.pem to the kiosk and use --ca-file.{hint}"
    )
