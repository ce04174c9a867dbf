"""Helpers (not tests) for end-to-end, chaos and benchmark code: a practice PKI, a real
practice server process on 127.0.0.1, and enrolled kiosk configurations.

    pki = make_pki(tmp_path)
    server = start_server(tmp_path, "sqlite:///" + str(tmp_path / "practice.db"))
    kiosk = enrol_kiosk(server, database_url, tmp_path / "kiosk1", site_name="Northside Clinic")
    config = kiosk.config.load_config(kiosk.config_path)   # accepted as is
    ...
    server.kill(); server.restart(); server.stop()

The server runs `python -m practice_server serve` as a real subprocess (its own
interpreter, its own event loop), so killing it is a real crash. Its output goes to
<tmp_dir>/server-<port>.log (the path is in error messages when it does not start).
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[2]
# A staff PIN for test kiosks (not the public demo PIN, which a synced kiosk refuses).
TEST_STAFF_PIN = "13579"
START_TIMEOUT_S = 30.0
_PIN_HASH_CACHE: dict[str, str] = {}


@dataclass(frozen=True)
class Pki:
    ca_cert: Path
    ca_key: Path
    server_cert: Path  # the full chain: server certificate + CA
    server_key: Path


def make_pki(tmp_dir: Path, hostnames: tuple[str, ...] = ("localhost",), ips: tuple[str, ...] = ("127.0.0.1",)) -> Pki:
    """A practice CA and a server certificate for localhost/127.0.0.1 in <tmp_dir>/pki.
    Reuses one made earlier in the same folder."""
    from provisioning.pki import init_pki

    directory = Path(tmp_dir) / "pki"
    if (directory / "ca.key").exists():
        return Pki(directory / "ca.pem", directory / "ca.key", directory / "server.pem", directory / "server.key")
    paths = init_pki(directory, list(hostnames), list(ips))
    return Pki(paths.ca_cert, paths.ca_key, paths.server_cert, paths.server_key)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class ServerProcess:
    tmp_dir: Path
    database_url: str
    port: int
    tls: bool
    workers: int
    pki: Pki | None
    process: subprocess.Popen | None = None
    log_path: Path | None = None
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    @property
    def ca_file(self) -> Path | None:
        return self.pki.ca_cert if self.pki else None

    @property
    def verify(self) -> str | bool:
        """What to pass as requests' `verify=` for this server."""
        return str(self.pki.ca_cert) if self.pki else True

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def start(self) -> None:
        cmd = [
            sys.executable, "-m", "practice_server", "serve",
            "--database", self.database_url,
            "--host", "127.0.0.1",
            "--port", str(self.port),
        ]
        if self.workers != 1:
            cmd += ["--workers", str(self.workers)]
        if self.tls:
            assert self.pki is not None
            cmd += [
                "--tls-cert", str(self.pki.server_cert),
                "--tls-key", str(self.pki.server_key),
                "--ca-cert", str(self.pki.ca_cert),
            ]
        self.log_path = Path(self.tmp_dir) / f"server-{self.port}.log"
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **self.extra_env}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
        with open(self.log_path, "ab") as log:
            # A new session: stop()/kill() reach uvicorn's worker processes too.
            self.process = subprocess.Popen(
                cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.wait_ready()

    def wait_ready(self, timeout: float = START_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout
        last: object = None
        # One session, closed explicitly: a connection left to the garbage collector stays
        # open, and uvicorn's graceful shutdown would wait its full timeout for it in stop().
        with requests.Session() as session:
            session.trust_env = False
            while time.monotonic() < deadline:
                if self.process is not None and self.process.poll() is not None:
                    raise RuntimeError(
                        f"practice server exited with code {self.process.returncode} before answering; "
                        f"log: {self.log_path}\n{self._log_tail()}"
                    )
                try:
                    r = session.get(
                        self.url + "/api/v1/health", verify=self.verify, timeout=2,
                        headers={"Connection": "close"},  # the server drops it right after answering
                    )
                    r.content  # read it all, so the connection goes back to the pool
                    if r.status_code == 200:
                        return
                    last = f"HTTP {r.status_code}"
                except requests.RequestException as exc:
                    last = f"{type(exc).__name__}: {exc}"  # text only: no traceback kept alive
                time.sleep(0.1)
        self.kill()
        raise RuntimeError(
            f"practice server did not answer /api/v1/health in {timeout}s ({last}); "
            f"log: {self.log_path}\n{self._log_tail()}"
        )

    def _log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])  # type: ignore[union-attr]
        except OSError:
            return ""

    def _signal(self, sig: int) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, sig)  # its own session: this is only the server's group
        except ProcessLookupError:
            pass

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM (uvicorn shuts down gracefully), SIGKILL if it lingers."""
        if self.process is None:
            return
        self._signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self._signal(signal.SIGKILL)
            self.process.wait(timeout)

    def kill(self) -> None:
        """SIGKILL, no shutdown: a crash or a power cut, as far as the server knows."""
        if self.process is None:
            return
        self._signal(signal.SIGKILL)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            pass

    def restart(self) -> None:
        """Stop (if running) and start again on the same port and database."""
        if self.process is not None and self.process.poll() is None:
            self.stop()
        self.start()

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_server(
    tmp_dir: Path, database_url: str, *, tls: bool = True, port: int | None = None, workers: int = 1
) -> ServerProcess:
    """Start `python -m practice_server serve` on 127.0.0.1 and wait until /api/v1/health answers.
    With tls=True a PKI is made (or reused) in <tmp_dir>/pki."""
    tmp_dir = Path(tmp_dir)
    tmp_dir.mkdir(parents=True, exist_ok=True)
    server = ServerProcess(
        tmp_dir=tmp_dir,
        database_url=database_url,
        port=port or free_port(),
        tls=tls,
        workers=workers,
        pki=make_pki(tmp_dir) if tls else None,
    )
    server.start()
    return server


def staff_pin_hash(pin: str = TEST_STAFF_PIN) -> str:
    from kiosk.staff_pin import hash_pin

    if pin not in _PIN_HASH_CACHE:  # scrypt costs ~50 ms; many kiosks share one hash
        _PIN_HASH_CACHE[pin] = hash_pin(pin)
    return _PIN_HASH_CACHE[pin]


@dataclass(frozen=True)
class KioskFiles:
    config_path: Path
    data_dir: Path
    key_file: Path  # the kiosk's data key (config key `key_file`, for open_store(data_dir, key_file))
    device_id: str
    device_key_file: Path  # the Ed25519 device key (PEM, 0600)
    server_ca_file: Path | None  # the practice CA (None for a server without TLS)
    site_id: str
    site_name: str


def ensure_site(database_url: str, site_name: str, timezone: str = "America/Chicago"):
    from practice_server import admin
    from practice_server.db import open_database

    engine, sessions = open_database(database_url)
    try:
        with sessions() as db:
            site = admin.find_site(db, site_name) or admin.create_site(db, site_name, timezone)
            db.commit()
            return site
    finally:
        engine.dispose()


def issue_token(
    database_url: str, site_id: str, *, ttl: timedelta = timedelta(hours=1), now: datetime | None = None
) -> str:
    from practice_server import admin
    from practice_server.db import open_database

    engine, sessions = open_database(database_url)
    try:
        with sessions() as db:
            issued = admin.issue_enrolment_token(db, site_id, ttl, now or datetime.now(UTC))
            db.commit()
            return issued.token
    finally:
        engine.dispose()


def enrol_kiosk(
    server: ServerProcess,
    database_url: str,
    kiosk_dir: Path,
    site_name: str = "Test Clinic",
    *,
    timezone: str = "America/Chicago",
    hostname: str | None = None,
    extra_config: dict | None = None,
) -> KioskFiles:
    """Create the site if needed, issue a token and enrol a kiosk whose files all live in
    `kiosk_dir` (config, data folder, data key, device key, CA). Windowed, test staff PIN
    (TEST_STAFF_PIN). The config loads with kiosk.config.load_config as is."""
    from provisioning.enrol import EnrolOptions, enrol

    kiosk_dir = Path(kiosk_dir)
    site = ensure_site(database_url, site_name, timezone)
    token = issue_token(database_url, site.id)
    result = enrol(
        EnrolOptions(
            server_url=server.url,
            token=token,
            config_path=kiosk_dir / "kiosk.toml",
            ca_file=server.ca_file,
            staff_pin_hash=staff_pin_hash(),
            data_dir=kiosk_dir / "data",
            key_file=kiosk_dir / "secrets" / "data.key",
            device_key_file=kiosk_dir / "secrets" / "device.key",
            server_ca_file=kiosk_dir / "secrets" / "practice-ca.pem",
            hostname=hostname or f"kiosk-{kiosk_dir.name}",
            extra={"fullscreen": False, "log_level": "DEBUG", **(extra_config or {})},
            timeout=10,
        )
    )
    return KioskFiles(
        config_path=result.config_path,
        data_dir=result.data_dir,
        key_file=result.key_file,
        device_id=result.device_id,
        device_key_file=result.device_key_file,
        server_ca_file=result.server_ca_file,
        site_id=result.site_id,
        site_name=result.site_name,
    )
