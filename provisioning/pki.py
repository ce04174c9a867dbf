"""The practice PKI: one private CA per practice and the practice server's TLS certificate.

Kiosks trust only this CA (never the public web PKI), so a stolen public certificate
for the practice's name cannot impersonate the server. ECDSA P-256 everywhere: every
TLS stack we meet (OpenSSL behind Python's ssl, uvicorn, requests, Chromium for the
dashboard) accepts it, where Ed25519 certificates are still refused by browsers.

Layout written by `init_pki(dir, ...)`:

    ca.key       the CA private key, 0600. Keep it offline after set-up if you can.
    ca.pem       the CA certificate: give it to kiosks (or its fingerprint, in the QR code)
    server.key   the server's TLS key, 0600
    server.pem   the server certificate FOLLOWED BY ca.pem (the full chain). The chain
                 matters: a kiosk that only has the CA's fingerprint (from the QR code)
                 finds the CA certificate in the chain the server presents.
"""
from __future__ import annotations

import hashlib
import ipaddress
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from provisioning.errors import ProvisioningError

CA_KEY = "ca.key"
CA_CERT = "ca.pem"
SERVER_KEY = "server.key"
SERVER_CERT = "server.pem"

CA_VALIDITY = timedelta(days=3650)
# Long enough that a small practice is not caught out by a yearly renewal, short enough
# that a leaked server key stops working eventually. Browsers' 398-day cap applies to
# public CAs only; a private CA may issue longer.
SERVER_VALIDITY = timedelta(days=825)
# Certificates start a little in the past so a kiosk whose clock lags by a few minutes
# (a common state before NTP syncs) still accepts a fresh certificate.
BACKDATE = timedelta(hours=1)


@dataclass(frozen=True)
class PkiPaths:
    ca_cert: Path
    ca_key: Path
    server_cert: Path
    server_key: Path


def fingerprint(cert: x509.Certificate) -> str:
    """'sha256:<hex>' of the certificate's DER bytes (what the QR code carries)."""
    return "sha256:" + hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def fingerprint_der(der: bytes) -> str:
    return "sha256:" + hashlib.sha256(der).hexdigest()


def normalise_fingerprint(text: str) -> str:
    """Accept 'sha256:AB:CD…', 'sha256:abcd…' or bare hex; return 'sha256:<lower hex>'."""
    value = text.strip()
    if value.lower().startswith("sha256:"):
        value = value[7:]
    value = value.replace(":", "").replace(" ", "").lower()
    if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        raise ProvisioningError(
            f"CA fingerprint {text!r} is not 'sha256:' followed by 64 hex digits: copy it again "
            "from the issue-token output or scan the QR code"
        )
    return "sha256:" + value


def load_cert_file(path: Path) -> x509.Certificate:
    """The first certificate in a PEM file (a CA file normally holds exactly one)."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise ProvisioningError(f"certificate file {path} does not exist") from None
    except OSError as exc:
        raise ProvisioningError(f"cannot read certificate file {path}: {exc.strerror}") from None
    try:
        return x509.load_pem_x509_certificate(data)
    except ValueError:
        raise ProvisioningError(
            f"{path} is not a PEM certificate (expected '-----BEGIN CERTIFICATE-----'; "
            "use ca.pem from `python -m provisioning init-pki`)"
        ) from None


def is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _write_new(path: Path, data: bytes, mode: int) -> None:
    """Create `path` with `mode` from the first byte on; never replace an existing file."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.fchmod(fd, mode)  # the umask may have narrowed it; be explicit
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def make_ca(common_name: str, now: datetime) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Clinic Kiosk practice"),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + CA_VALIDITY)
        # path_length=0: this CA signs server certificates only, never another CA.
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ski, critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def make_server_cert(
    ca_cert: x509.Certificate,
    ca_key: ec.EllipticCurvePrivateKey,
    hostnames: Sequence[str],
    ips: Sequence[str],
    now: datetime,
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    if not hostnames and not ips:
        raise ProvisioningError("the server certificate needs at least one --hostname or --ip")
    sans: list[x509.GeneralName] = [x509.DNSName(h) for h in hostnames]
    for ip in ips:
        try:
            sans.append(x509.IPAddress(ipaddress.ip_address(ip)))
        except ValueError:
            raise ProvisioningError(f"--ip {ip!r} is not an IP address (e.g. 192.168.1.10)") from None
    key = ec.generate_private_key(ec.SECP256R1())
    cn = hostnames[0] if hostnames else ips[0]
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(min(now + SERVER_VALIDITY, ca_cert.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    return cert, key


def init_pki(
    directory: Path,
    hostnames: Sequence[str],
    ips: Sequence[str] = (),
    *,
    reuse_ca: bool = False,
    now: datetime | None = None,
) -> PkiPaths:
    """Make the CA (unless `reuse_ca`) and a fresh server certificate in `directory`.

    Never overwrites the CA key: every enrolled kiosk trusts that CA, a new one would cut
    them all off. With `reuse_ca` the existing CA signs a new server certificate (new
    names, or renewal); the old server key/cert are replaced.
    """
    now = now or datetime.now(UTC)
    directory = Path(directory)
    paths = PkiPaths(
        ca_cert=directory / CA_CERT,
        ca_key=directory / CA_KEY,
        server_cert=directory / SERVER_CERT,
        server_key=directory / SERVER_KEY,
    )
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise ProvisioningError(f"cannot create PKI directory {directory}: {exc.strerror}") from None
    if reuse_ca:
        if not paths.ca_key.exists() or not paths.ca_cert.exists():
            raise ProvisioningError(
                f"--reuse-ca: no CA in {directory} ({CA_KEY} and {CA_CERT} are needed); "
                "run init-pki without --reuse-ca to make one"
            )
        ca_cert = load_cert_file(paths.ca_cert)
        try:
            ca_key = serialization.load_pem_private_key(paths.ca_key.read_bytes(), password=None)
        except (ValueError, TypeError):
            raise ProvisioningError(f"{paths.ca_key} is not an unencrypted PEM private key") from None
        if not isinstance(ca_key, ec.EllipticCurvePrivateKey) or (
            ca_key.public_key().public_numbers() != ca_cert.public_key().public_numbers()  # type: ignore[union-attr]
        ):
            raise ProvisioningError(f"{paths.ca_key} does not belong to {paths.ca_cert}")
        for old in (paths.server_key, paths.server_cert):
            old.unlink(missing_ok=True)
    else:
        if paths.ca_key.exists():
            raise ProvisioningError(
                f"a practice CA key already exists at {paths.ca_key}; it is never overwritten "
                "(every enrolled kiosk trusts that CA). To make a new server certificate with it "
                "add --reuse-ca; to start a new PKI use another --dir"
            )
        for stale in (paths.ca_cert, paths.server_key, paths.server_cert):
            if stale.exists():
                raise ProvisioningError(
                    f"{stale} exists but there is no {CA_KEY} next to it: move the old files "
                    "away (or use another --dir) before making a new CA"
                )
        ca_cert, ca_key = make_ca(f"Clinic Kiosk Practice CA ({(list(hostnames) + list(ips))[0]})", now)
        try:
            _write_new(paths.ca_key, _key_pem(ca_key), 0o600)
            _write_new(paths.ca_cert, cert_pem(ca_cert), 0o644)
        except OSError as exc:
            raise ProvisioningError(f"cannot write the CA into {directory}: {exc.strerror}") from None
    server_cert, server_key = make_server_cert(ca_cert, ca_key, hostnames, ips, now)
    try:
        _write_new(paths.server_key, _key_pem(server_key), 0o600)
        _write_new(paths.server_cert, cert_pem(server_cert) + cert_pem(ca_cert), 0o644)
    except OSError as exc:
        raise ProvisioningError(
            f"cannot write the server certificate into {directory}: {exc.strerror}"
        ) from None
    return paths
