"""Typed server settings, read once at start-up (CLI flags; workers get them by environment)."""

from __future__ import annotations

import ipaddress
import json
import os
import ssl
from dataclasses import asdict, dataclass
from pathlib import Path

# uvicorn starts extra workers as fresh processes; they rebuild the settings from this.
SETTINGS_ENV = "CLINIC_PRACTICE_SERVER_SETTINGS"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


class SettingsError(ValueError):
    """A setting IT has to fix; the message says which and how."""


def default_database_path() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "clinic-practice" / "practice.db"


def default_database_url() -> str:
    return f"sqlite:///{default_database_path()}"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a DNS name other than localhost may resolve anywhere


@dataclass(frozen=True)
class ServerSettings:
    database_url: str
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    workers: int = 1
    tls_cert: str | None = None
    tls_key: str | None = None
    # PEM of the practice CA that kiosks trust from enrolment on (returned by /enrol).
    ca_cert_file: str | None = None
    # Load the demo practice into an empty database (the default SQLite database only).
    demo: bool = False
    # The fleet page flags a kiosk not heard from for longer (agents beat every minute).
    kiosk_silent_minutes: int = 10

    def check(self) -> None:
        """Raise SettingsError for anything that would fail later or run unsafely."""
        if not 1 <= self.port <= 65535:
            raise SettingsError(f"--port must be 1-65535, not {self.port}")
        if not 2 <= self.kiosk_silent_minutes <= 24 * 60:
            raise SettingsError(f"--kiosk-silent-minutes must be 2-1440, not {self.kiosk_silent_minutes}")
        if not 1 <= self.workers <= 64:
            raise SettingsError(f"--workers must be 1-64, not {self.workers}")
        if bool(self.tls_cert) != bool(self.tls_key):
            raise SettingsError("--tls-cert and --tls-key go together: give both or neither")
        if self.tls_cert and not self.ca_cert_file:
            raise SettingsError(
                "--tls-cert needs --ca-cert: the practice CA certificate kiosks will trust "
                "(for a self-signed server certificate, pass the same file)"
            )
        if not self.tls_cert and not is_loopback(self.host):
            raise SettingsError(
                f"refusing to listen on {self.host} without TLS: kiosks would send patient "
                "data in clear text. Give --tls-cert and --tls-key (and --ca-cert), or listen "
                "on 127.0.0.1 behind a TLS proxy"
            )
        for flag, path in (("--tls-cert", self.tls_cert), ("--tls-key", self.tls_key),
                           ("--ca-cert", self.ca_cert_file)):
            if path and not Path(path).is_file():
                raise SettingsError(f"{flag}: no such file {path}")
        if self.tls_cert and self.tls_key:
            try:
                ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(self.tls_cert, self.tls_key)
            except (ssl.SSLError, OSError) as e:
                raise SettingsError(
                    f"cannot use --tls-cert {self.tls_cert} with --tls-key {self.tls_key}: "
                    f"{getattr(e, 'reason', None) or e} (is the key the certificate's, and readable?)"
                ) from None
        if self.ca_cert_file:
            self.ca_certificate()  # fails now, not at the first enrolment

    def ca_certificate(self) -> str | None:
        if not self.ca_cert_file:
            return None
        try:
            pem = Path(self.ca_cert_file).read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError) as e:
            raise SettingsError(f"--ca-cert: cannot read {self.ca_cert_file} ({e})") from None
        if "-----BEGIN CERTIFICATE-----" not in pem:
            raise SettingsError(f"--ca-cert: {self.ca_cert_file} is not a PEM certificate")
        return pem

    def to_env(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_env(cls) -> ServerSettings:
        raw = os.environ.get(SETTINGS_ENV)
        if not raw:
            raise SettingsError(f"{SETTINGS_ENV} is not set; start the server with `python -m practice_server serve`")
        return cls(**json.loads(raw))
