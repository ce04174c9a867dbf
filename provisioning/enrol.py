"""Enrol this kiosk with the practice server (runs ON the kiosk, usually as root).

The order matters because the enrolment token is single-use: everything that can go
wrong on the kiosk or between kiosk and server is checked BEFORE the token is sent, so
an IT mistake never burns a token:

1. local checks: arguments, the existing config, an existing device key (a kiosk is
   enrolled once; --force to enrol again), the staff PIN hash, free disk space and
   writable folders (a trial write of the new config, which is also validated with the
   kiosk's own `load_config`);
2. trust: the practice CA from --ca-file or by fingerprint (see tls_trust.py);
3. GET /api/v1/health over verified TLS: right URL, our server, its database up, and
   its clock (Date header) within 5 minutes of ours — a kiosk with a wrong clock would
   have every signed request refused as stale after enrolling;
4. a new Ed25519 key pair, the private half written 0600 to a temporary name;
5. POST /api/v1/enrol (the token is spent here) with the public key only;
6. the key moved into place, the CA and the practice's check-in public keys
   (`checkin_keys.json`, next to the CA; the kiosk verifies reminder QR codes with them
   offline) saved, the config written atomically.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from cryptography import x509

from provisioning import keys
from provisioning.enrol_uri import parse_uri
from provisioning.errors import ProvisioningError
from provisioning.kiosk_toml import atomic_write, read_config, updated_text
from provisioning.net_errors import explain_request_error
from provisioning.pki import fingerprint, normalise_fingerprint
from provisioning.tls_trust import ca_from_file, ca_from_fingerprint

DEFAULT_CONFIG = Path("/etc/clinic-kiosk/kiosk.toml")
DEFAULT_DATA_DIR = Path("/var/lib/clinic-kiosk")
MAX_CLOCK_SKEW = timedelta(minutes=5)
# Enough for the key, the CA, the config and the kiosk's first start; a disk with less
# free is full in practice, and the kiosk would fail right after enrolling.
MIN_FREE_BYTES = 16 * 1024 * 1024
NOT_USED = " (the enrolment token was not used; run enrol again when fixed)"
_LOOPBACK = {"localhost", "127.0.0.1", "::1"}


@dataclass
class EnrolOptions:
    server_url: str | None = None
    token: str | None = None
    config_path: Path = DEFAULT_CONFIG
    ca_file: Path | None = None
    ca_fingerprint: str | None = None
    uri: str | None = None  # clinic-kiosk-enrol:?server=…&token=…&ca=… (explicit options win)
    staff_pin_hash: str | None = None
    force: bool = False
    data_dir: Path | None = None  # default: the config's, else /var/lib/clinic-kiosk
    key_file: Path | None = None  # the data key; default: the config's, else next to the config
    device_key_file: Path | None = None
    server_ca_file: Path | None = None
    checkin_keys_file: Path | None = None  # default: checkin_keys.json next to the CA file
    owner: str | None = None  # the kiosk's service user: gets the keys and data_dir
    extra: Mapping[str, Any] = field(default_factory=dict)  # other config keys to set
    hostname: str | None = None
    version: str | None = None
    timeout: float = 15.0


@dataclass(frozen=True)
class EnrolResult:
    device_id: str
    site_id: str
    site_name: str
    config_path: Path
    device_key_file: Path
    server_ca_file: Path | None
    data_dir: Path
    key_file: Path
    ca_fingerprint: str | None
    warnings: tuple[str, ...] = ()
    checkin_keys_file: Path | None = None


def _utc_now() -> datetime:
    return datetime.now(UTC)


def kiosk_version() -> str:
    try:
        from importlib.metadata import version

        return version("clinic-kiosk")
    except Exception:  # not installed as a distribution (a source checkout)
        return "0.0.0+source"


def check_server_url(url: str) -> str:
    url = url.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ProvisioningError(
            f"server URL {url!r} must look like https://practice.example.org:8443" + NOT_USED
        )
    if parts.scheme == "http" and parts.hostname not in _LOOPBACK:
        raise ProvisioningError(
            f"server URL {url!r} must be https:// (http:// only for localhost, for testing)" + NOT_USED
        )
    if parts.path not in ("", "/") or parts.query:
        raise ProvisioningError(
            f"server URL {url!r} must be the server's address only, without a path" + NOT_USED
        )
    try:
        parts.port
    except ValueError:
        raise ProvisioningError(f"server URL {url!r} has an invalid port" + NOT_USED) from None
    return url


def _resolve(base: Path, value: Any) -> Path:
    path = Path(str(value)).expanduser()
    return path if path.is_absolute() else base / path


def _check_staff_pin(pin_hash: str | None, config_path: Path) -> str:
    from kiosk import staff_pin

    how = "make one with: python -m kiosk.staff_pin (it prints staff_pin_hash = \"…\")"
    if not pin_hash:
        raise ProvisioningError(
            f"a kiosk that syncs needs its own staff PIN and {config_path} has none: pass "
            f"--staff-pin-hash 'scrypt$…'; {how}" + NOT_USED
        )
    try:
        staff_pin.parse_pin_hash(pin_hash)
    except staff_pin.PinHashError as exc:
        raise ProvisioningError(f"--staff-pin-hash is not a staff PIN hash ({exc}); {how}" + NOT_USED) from None
    if staff_pin.verify_pin(staff_pin.DEMO_PIN, pin_hash):
        raise ProvisioningError(
            f"the staff PIN hash is the public demo PIN {staff_pin.DEMO_PIN}; {how}" + NOT_USED
        )
    return pin_hash.strip()


def _prepare_dir(directory: Path, mode: int) -> None:
    """Create `directory` if needed and prove we can write a file there with room to spare."""
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=mode)
    except FileExistsError:
        raise ProvisioningError(f"{directory} exists and is not a folder" + NOT_USED) from None
    except NotADirectoryError:
        raise ProvisioningError(
            f"cannot create folder {directory}: part of its path is a file, not a folder" + NOT_USED
        ) from None
    except OSError as exc:
        raise ProvisioningError(
            f"cannot create folder {directory} ({exc.strerror}): run enrol as root (sudo) or "
            "choose another --config folder" + NOT_USED
        ) from None
    if not directory.is_dir():
        raise ProvisioningError(f"{directory} exists and is not a folder" + NOT_USED)
    try:
        free = shutil.disk_usage(directory).free
    except OSError as exc:
        raise ProvisioningError(f"cannot check free space in {directory}: {exc.strerror}" + NOT_USED) from None
    if free < MIN_FREE_BYTES:
        raise ProvisioningError(
            f"not enough free disk space for {directory} ({free // 1024} KiB free, "
            f"{MIN_FREE_BYTES // (1024 * 1024)} MiB needed): free some space (e.g. "
            "journalctl --vacuum-size=100M, apt-get clean)" + NOT_USED
        )
    # A real write with fsync: a read-only mount, a full disk that statvfs misjudged or a
    # folder we may not write all show up here, before the server is asked anything.
    try:
        fd, probe = tempfile.mkstemp(prefix=".enrol-probe-", dir=directory)
        try:
            os.write(fd, b"\0" * 65536)
            os.fsync(fd)
        finally:
            os.close(fd)
            os.unlink(probe)
    except OSError as exc:
        raise ProvisioningError(
            f"cannot write in {directory} ({exc.strerror}): check free space, that the disk is "
            "not read-only, and run enrol as root (sudo) or as the folder's owner" + NOT_USED
        ) from None


def _validate_config_text(text: str, config_path: Path) -> None:
    """Load the would-be config with the kiosk's own loader, from a temporary file next to
    the real one (relative paths resolve the same way). Raises ProvisioningError."""
    from kiosk.config import ConfigError, load_config

    fd, tmp = tempfile.mkstemp(prefix=f".{config_path.name}.check-", suffix=".toml", dir=config_path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        try:
            load_config(Path(tmp), env={"HOME": os.environ.get("HOME", "/root")})
        except ConfigError as exc:
            problems = "; ".join(p.replace(tmp, str(config_path)) for p in exc.problems)
            raise ProvisioningError(f"the kiosk config would not load: {problems}" + NOT_USED) from None
    finally:
        os.unlink(tmp)


class _Trust:
    """The CA the enrolment trusts, as a temporary PEM file for requests' `verify`."""

    def __init__(self, ca_pem: bytes | None, described: str) -> None:
        self.ca_pem = ca_pem
        self.described = described
        self._dir = tempfile.TemporaryDirectory(prefix="clinic-enrol-")
        self.verify: str | bool = True
        if ca_pem is not None:
            path = Path(self._dir.name) / "ca.pem"
            path.write_bytes(ca_pem)
            self.verify = str(path)  # a file: requests trusts it ONLY, not the system store

    @property
    def fingerprint(self) -> str | None:
        return fingerprint(x509.load_pem_x509_certificate(self.ca_pem)) if self.ca_pem else None

    def close(self) -> None:
        self._dir.cleanup()


def _check_health(
    session: requests.Session, url: str, trust: _Trust, timeout: float, now: Callable[[], datetime]
) -> None:
    health = url + "/api/v1/health"
    try:
        # Connection: close — two requests in all; no idle connection left to the garbage
        # collector (a server's graceful shutdown would wait for it).
        r = session.get(health, verify=trust.verify, timeout=timeout, allow_redirects=False,
                        headers={"Connection": "close"})
    except requests.RequestException as exc:
        raise ProvisioningError(explain_request_error(exc, url, trust.described) + NOT_USED) from None
    local = now()
    try:
        body = r.json()
    except ValueError:
        body = None
    ours = isinstance(body, dict) and "status" in body and "database" in body
    if r.status_code == 503 and ours:
        raise ProvisioningError(
            f"the practice server at {url} is up but its database does not answer: ask whoever "
            "runs the server to check it" + NOT_USED
        )
    if r.status_code != 200 or not ours or body.get("status") != "ok":  # type: ignore[union-attr]
        raise ProvisioningError(
            f"{url} is not a clinic practice server ({health} answered HTTP {r.status_code}"
            f"{' with JSON' if body is not None else ', not JSON'} unlike ours): check the host "
            "and port in the server URL" + NOT_USED
        )
    date = r.headers.get("Date")
    if not date:
        return
    try:
        server_now = parsedate_to_datetime(date)
    except (TypeError, ValueError):
        return
    if server_now.tzinfo is None:
        server_now = server_now.replace(tzinfo=UTC)
    skew = local - server_now
    if abs(skew) > MAX_CLOCK_SKEW:
        direction = "ahead of" if skew > timedelta(0) else "behind"
        raise ProvisioningError(
            f"this kiosk's clock is {_duration(abs(skew))} {direction} the practice server's "
            f"(kiosk {local.astimezone(UTC):%Y-%m-%d %H:%M} UTC, server {server_now.astimezone(UTC):%Y-%m-%d %H:%M} "
            "UTC); signed requests would be refused. Fix the clock first, e.g. "
            "`sudo timedatectl set-ntp true` (or `sudo timedatectl set-time 'YYYY-MM-DD HH:MM:SS'`)" + NOT_USED
        )


def _duration(delta: timedelta) -> str:
    s = int(delta.total_seconds())
    if s >= 2 * 86400:
        return f"{s // 86400} days"
    if s >= 2 * 3600:
        return f"{s // 3600} hours"
    return f"{s // 60} minutes"


_TOKEN_ERRORS = {
    "token_unknown": "the server does not know this enrolment token: check it was copied completely "
    "(or scan the QR code), or issue a new one with `python -m provisioning issue-token`",
    "token_used": "this enrolment token was already used (each token enrols one kiosk once): issue "
    "a new one with `python -m provisioning issue-token`",
    "token_expired": "this enrolment token has expired: issue a new one with "
    "`python -m provisioning issue-token` (--ttl-hours sets how long it lasts)",
}


def _post_enrol(
    session: requests.Session, url: str, trust: _Trust, body: dict[str, str], timeout: float
) -> dict[str, Any]:
    try:
        r = session.post(url + "/api/v1/enrol", json=body, verify=trust.verify, timeout=timeout,
                         allow_redirects=False, headers={"Connection": "close"})
    except requests.RequestException as exc:
        raise ProvisioningError(
            explain_request_error(exc, url, trust.described)
            + " (the token may or may not have been used: if enrol fails again with 'already used', "
            "issue a new token)"
        ) from None
    try:
        answer = r.json()
    except ValueError:
        answer = None
    if r.status_code == 201 and isinstance(answer, dict):
        return answer
    detail = answer.get("detail") if isinstance(answer, dict) else None
    code = detail.get("code") if isinstance(detail, dict) else None
    message = detail.get("message") if isinstance(detail, dict) else None
    if code in _TOKEN_ERRORS:
        raise ProvisioningError(_TOKEN_ERRORS[code])
    if code == "bad_public_key":
        raise ProvisioningError(f"the server refused this kiosk's public key: {message or 'no reason given'}")
    if r.status_code == 404:
        raise ProvisioningError(f"{url} has no enrolment endpoint: is it the practice server's URL?")
    raise ProvisioningError(
        f"the server refused the enrolment (HTTP {r.status_code}"
        f"{': ' + str(message) if message else ''}); try again, or ask whoever runs the server"
    )


def _chown(path: Path, owner: str | None, *, group_only: bool = False) -> None:
    if not owner:
        return
    import grp
    import pwd

    try:
        pw = pwd.getpwnam(owner)
    except KeyError:
        raise ProvisioningError(f"--owner {owner!r}: no such user on this kiosk") from None
    gid = pw.pw_gid
    try:
        grp.getgrgid(gid)
    except KeyError:
        pass
    os.chown(path, -1 if group_only else pw.pw_uid, gid)


def enrol(
    opts: EnrolOptions,
    *,
    now: Callable[[], datetime] = _utc_now,
    session: requests.Session | None = None,
) -> EnrolResult:
    """Enrol this kiosk; raises ProvisioningError with one line for IT on any problem."""
    server_url, token, pin = opts.server_url, opts.token, opts.ca_fingerprint
    if opts.uri:
        parsed = parse_uri(opts.uri)
        server_url = server_url or parsed.server
        token = token or parsed.token
        pin = pin or parsed.ca_fingerprint
    if not server_url or not token:
        raise ProvisioningError("enrol needs --server and --token (or --uri from the QR code)")
    token = token.strip()
    url = check_server_url(server_url)
    tls = urlsplit(url).scheme == "https"
    if tls and not opts.ca_file and not pin:
        raise ProvisioningError(
            "enrol needs the practice CA: --ca-file ca.pem (from the server's init-pki folder) or "
            "--ca-fingerprint sha256:… (printed by issue-token, also in the QR code)" + NOT_USED
        )
    if opts.ca_file and pin:
        raise ProvisioningError("give either --ca-file or --ca-fingerprint, not both")
    if pin:
        pin = normalise_fingerprint(pin)

    # -- 1. local checks -----------------------------------------------------------------
    config_path = Path(opts.config_path).expanduser().absolute()
    base = config_path.parent
    text, existing = read_config(config_path)
    device_key_file = _resolve(base, opts.device_key_file or existing.get("device_key_file") or base / "device.key")
    server_ca_file = _resolve(base, opts.server_ca_file or existing.get("server_ca_file") or base / "practice-ca.pem")
    data_dir = _resolve(base, opts.data_dir or existing.get("data_dir") or DEFAULT_DATA_DIR)
    key_file = _resolve(base, opts.key_file or existing.get("key_file") or base / "data.key")
    checkin_keys_file = _resolve(base, opts.checkin_keys_file or existing.get("checkin_keys_file")
                                 or server_ca_file.parent / "checkin_keys.json")
    if device_key_file.exists() and not opts.force:
        enrolled_as = f" as device {existing['device_id']}" if existing.get("device_id") else ""
        raise ProvisioningError(
            f"this kiosk is already enrolled{enrolled_as}: its device key {device_key_file} exists. "
            "A kiosk is enrolled once; to enrol it again (e.g. after it was revoked) add --force, "
            "which makes a new key and replaces the old one" + NOT_USED
        )
    staff_pin_hash = _check_staff_pin(opts.staff_pin_hash or existing.get("staff_pin_hash"), config_path)

    # Folders for keys only are 0700 (and the kiosk user's with --owner); a folder that also
    # holds the config or the CA must stay readable (0755), its key files are 0600 anyway.
    dirs = {device_key_file.parent: 0o700, key_file.parent: 0o700}
    dirs.update({config_path.parent: 0o755, server_ca_file.parent: 0o755, checkin_keys_file.parent: 0o755})
    for directory, mode in dirs.items():
        existed = directory.exists()
        _prepare_dir(directory, mode)
        if not existed and mode == 0o700:
            _chown(directory, opts.owner)

    updates: dict[str, Any] = dict(opts.extra)
    updates.update(
        server_url=url,
        device_id="00000000-0000-0000-0000-000000000000",  # placeholders for the dry run
        site_id="00000000-0000-0000-0000-000000000000",
        site_name=str(existing.get("site_name") or "Clinic"),
        data_dir=str(data_dir),
        key_file=str(key_file),
        device_key_file=str(device_key_file),
        checkin_keys_file=str(checkin_keys_file),
        staff_pin_hash=staff_pin_hash,
    )
    if tls:
        updates["server_ca_file"] = str(server_ca_file)
    _validate_config_text(updated_text(text, updates), config_path)

    # -- 2. trust --------------------------------------------------------------------------
    if not tls:
        trust = _Trust(None, "nothing (plain http:// on this machine, for tests)")
    elif opts.ca_file:
        ca_pem = ca_from_file(Path(opts.ca_file))
        trust = _Trust(ca_pem, "")
        trust.described = f"the CA in {opts.ca_file} ({trust.fingerprint})"
    else:
        assert pin is not None
        ca_pem = ca_from_fingerprint(url, pin, opts.timeout)
        trust = _Trust(ca_pem, f"the practice CA with fingerprint {pin}")

    own_session = session is None
    session = session or requests.Session()
    session.trust_env = False  # no proxy from the environment: the kiosk talks to its server
    tmp_key: Path | None = None
    try:
        # -- 3. is it our server, and do the clocks agree? -------------------------------
        _check_health(session, url, trust, opts.timeout, now)

        # -- 4. the key pair: private half to disk (0600) before the server hears of it --
        key = keys.generate_device_key()
        tmp_key = device_key_file.with_name(f".{device_key_file.name}.enrolling-{os.getpid()}")
        tmp_key.unlink(missing_ok=True)
        try:
            keys.write_private_key(tmp_key, key)
        except OSError as exc:
            raise ProvisioningError(f"cannot write the device key next to {device_key_file}: {exc.strerror}" + NOT_USED) from None

        # -- 5. enrol (the token is spent here) -------------------------------------------
        answer = _post_enrol(
            session,
            url,
            trust,
            {
                "token": token,
                "public_key": keys.public_key_b64(key),
                "hostname": opts.hostname or socket.gethostname(),
                "version": opts.version or kiosk_version(),
            },
            opts.timeout,
        )
        device_id = answer.get("device_id")
        site = answer.get("site") if isinstance(answer.get("site"), dict) else {}
        if not isinstance(device_id, str) or not isinstance(site.get("id"), str):
            raise ProvisioningError(
                f"{url} answered the enrolment without a device id or site: is it the practice "
                "server, and up to date? (the token is now used: revoke any half-made device and "
                "issue a new token)"
            )

        # -- 6. put everything in place ---------------------------------------------------
        warnings: list[str] = []
        try:
            os.replace(tmp_key, device_key_file)
            tmp_key = None
            _chown(device_key_file, opts.owner)
            if trust.ca_pem is not None:
                returned = answer.get("ca_certificate")
                if isinstance(returned, str) and returned.strip():
                    try:
                        returned_fp = fingerprint(x509.load_pem_x509_certificate(returned.encode()))
                    except ValueError:
                        returned_fp = "unreadable"
                    if returned_fp != trust.fingerprint:
                        # Keep the CA that actually verified this server: the one it returned
                        # would not verify the certificate it presents.
                        warnings.append(
                            f"the server returned a CA ({returned_fp}) other than the one that "
                            f"verified its certificate ({trust.fingerprint}); kept the latter. The "
                            "server's --ca-cert and --tls-cert do not match: tell whoever runs it"
                        )
                atomic_write(server_ca_file, trust.ca_pem, 0o644)
            keys_json, problem = checkin_keys_json(answer.get("checkin_keys"))
            if problem:
                warnings.append(problem)
            atomic_write(checkin_keys_file, keys_json, 0o644)  # public keys: readable
            _ensure_data_key(key_file, data_dir, opts.owner)
            updates.update(
                device_id=device_id,
                site_id=site["id"],
                site_name=str(site.get("name") or updates["site_name"]),
            )
            new_text = updated_text(text, updates)
            mode = (config_path.stat().st_mode & 0o777) if config_path.exists() else 0o640
            atomic_write(config_path, new_text.encode("utf-8"), mode)
            _chown(config_path, opts.owner, group_only=True)
        except OSError as exc:
            raise ProvisioningError(
                f"enrolled as device {device_id}, but writing the kiosk's files failed ({exc.strerror}: "
                f"{exc.filename}); fix that, then revoke {device_id} and enrol again with a new token and --force"
            ) from None
    finally:
        if tmp_key is not None:
            tmp_key.unlink(missing_ok=True)
        trust.close()
        if own_session:
            session.close()

    from kiosk.config import ConfigError, load_config

    try:
        load_config(config_path, env={"HOME": os.environ.get("HOME", "/root")})
    except ConfigError as exc:  # checked before enrolling; only a race could get here
        raise ProvisioningError(f"enrolled as device {device_id}, but {exc}") from None
    return EnrolResult(
        device_id=device_id,
        site_id=site["id"],
        site_name=updates["site_name"],
        config_path=config_path,
        device_key_file=device_key_file,
        server_ca_file=server_ca_file if trust.ca_pem is not None else None,
        data_dir=data_dir,
        key_file=key_file,
        ca_fingerprint=pin or (trust.fingerprint if trust.ca_pem else None),
        warnings=tuple(warnings),
        checkin_keys_file=checkin_keys_file,
    )


def checkin_keys_json(value: Any) -> tuple[bytes, str | None]:
    """The enrolment answer's `checkin_keys` as the kiosk's checkin_keys.json
    ({"checkin_keys": {key_id: base64 raw Ed25519 public key}}), and a warning when the
    server sent none or something unusable (the kiosk then gets the keys with its
    config bundle at its first sync)."""
    from sync_protocol.checkin_token import decode_public_keys

    keys: dict[str, str] = {}
    problem = None
    if value is None:
        problem = ("the server sent no check-in keys (an older server?): reminder QR codes work once "
                   "the kiosk has synced its configuration")
    else:
        try:
            decode_public_keys(value)
            keys = dict(value)
        except ValueError as exc:
            problem = f"ignored the server's check-in keys ({exc}); the kiosk gets them when it syncs"
    text = json.dumps({"checkin_keys": keys}, indent=2, sort_keys=True) + "\n"
    return text.encode("utf-8"), problem


def _ensure_data_key(key_file: Path, data_dir: Path, owner: str | None) -> None:
    """Make the kiosk's data key now, as root, if there is none yet.

    The services run with /etc read-only (ProtectSystem=strict, see units.py), so the
    kiosk could not create the key there on its first start. Never when a database
    already exists without its key: a new key would not open it (the kiosk reports that).
    """
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    _chown(data_dir, owner)
    if key_file.exists():
        return
    from kiosk.store import DB_FILENAME
    from kiosk.store.keys import create_key_file

    if (data_dir / DB_FILENAME).exists():
        return
    create_key_file(key_file)
    _chown(key_file, owner)
