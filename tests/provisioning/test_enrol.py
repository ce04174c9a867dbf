"""`provisioning enrol` end to end against a real practice server process over real TLS,
and every IT mistake it must turn into one clear line (without burning the token when
the mistake is found before the server is asked)."""
from __future__ import annotations

import base64
import json
import shutil
import stat
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.config import load_config
from provisioning import enrol as enrol_module
from provisioning.cli import main
from provisioning.enrol import EnrolOptions, checkin_keys_json, enrol
from provisioning.enrol_uri import build_uri
from provisioning.errors import ProvisioningError
from provisioning.pki import fingerprint, load_cert_file
from tests.e2e.harness import (
    REPO,
    enrol_kiosk,
    ensure_site,
    free_port,
    issue_token,
    staff_pin_hash,
    start_server,
)

SITE = "Northside Clinic"


@pytest.fixture(scope="module")
def database_url(tmp_path_factory) -> str:
    return "sqlite:///" + str(tmp_path_factory.mktemp("practice-db") / "practice.db")


@pytest.fixture(scope="module")
def server(tmp_path_factory, database_url, pki):
    # The module's one server; its PKI is the session's `pki` (copied into its folder).
    tmp = tmp_path_factory.mktemp("server")
    shutil.copytree(pki.ca_cert.parent, tmp / "pki")
    srv = start_server(tmp, database_url)
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def site(database_url, server):
    return ensure_site(database_url, SITE, "America/Chicago")


@pytest.fixture
def token(database_url, site) -> str:
    return issue_token(database_url, site.id)


def options(server, token, kiosk_dir: Path, **kw) -> EnrolOptions:
    base = dict(
        server_url=server.url,
        token=token,
        config_path=kiosk_dir / "etc" / "kiosk.toml",
        ca_file=server.ca_file,
        staff_pin_hash=staff_pin_hash(),
        data_dir=kiosk_dir / "data",
        timeout=5,
    )
    base.update(kw)
    return EnrolOptions(**base)


def assert_token_still_works(server, token, tmp_path):
    """The token was not burnt: it still enrols a kiosk."""
    result = enrol(options(server, token, tmp_path / "retry"))
    assert result.device_id


# -- the good path ------------------------------------------------------------------------


def test_enrol_end_to_end_with_ca_file(server, token, tmp_path, site, capsys):
    config = tmp_path / "etc" / "kiosk.toml"
    config.parent.mkdir()
    # an existing config: its other keys and comments survive
    config.write_text('# lobby kiosk\nminutes_per_visit = 20\nlanguages = ["en"]\n')
    rc = main([
        "enrol", "--server", server.url, "--token", token, "--ca-file", str(server.ca_file),
        "--config", str(config), "--staff-pin-hash", staff_pin_hash(), "--data-dir", str(tmp_path / "data"),
    ])
    out = capsys.readouterr()
    assert rc == 0, out.err
    cfg = load_config(config, env={})
    assert cfg.server_url == server.url and cfg.site_id == site.id and cfg.site_name == SITE
    assert cfg.device_id and cfg.device_id in out.out
    assert cfg.minutes_per_visit == 20 and cfg.languages == ("en",)
    assert "# lobby kiosk" in config.read_text()
    # device key: 0600, Ed25519, next to the config; CA saved; data key made 0600
    assert stat.S_IMODE(cfg.device_key_file.stat().st_mode) == 0o600
    serialization.load_pem_private_key(cfg.device_key_file.read_bytes(), None)
    from sync_protocol.device_key import load_device_key  # the agent reads what enrol wrote

    load_device_key(cfg.device_key_file)
    assert cfg.server_ca_file.read_bytes() == server.ca_file.read_bytes()
    assert stat.S_IMODE(cfg.key_file.stat().st_mode) == 0o600
    # the kiosk can now talk TLS to its server trusting only the saved CA
    with requests.get(server.url + "/api/v1/health", verify=str(cfg.server_ca_file), timeout=5,
                      headers={"Connection": "close"}) as r:
        assert r.json()["status"] == "ok"


def test_enrol_by_uri_with_ca_fingerprint(server, token, tmp_path):
    fp = fingerprint(load_cert_file(server.ca_file))
    uri = build_uri(server.url, token, fp)
    result = enrol(options(server, None, tmp_path, server_url=None, ca_file=None, uri=uri))
    assert result.ca_fingerprint == fp
    assert result.server_ca_file.read_bytes() == server.ca_file.read_bytes()
    assert load_config(result.config_path, env={}).device_id == result.device_id


def test_private_key_never_sent_and_written_0600_from_the_start(server, token, tmp_path, monkeypatch):
    bodies: list[bytes] = []
    session = requests.Session()
    real_send = session.send

    def recording_send(request, **kw):
        bodies.append(request.body or b"")
        return real_send(request, **kw)

    session.send = recording_send  # type: ignore[method-assign]
    modes: list[int] = []
    real_write = enrol_module.keys.write_private_key

    def spy_write(path, key):
        real_write(path, key)
        modes.append(stat.S_IMODE(path.stat().st_mode))

    monkeypatch.setattr(enrol_module.keys, "write_private_key", spy_write)
    try:
        result = enrol(options(server, token, tmp_path), session=session)
    finally:
        session.close()
    key = serialization.load_pem_private_key(result.device_key_file.read_bytes(), None)
    raw_private = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    raw_public = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    sent = b"\n".join(b if isinstance(b, bytes) else b.encode() for b in bodies)
    assert base64.b64encode(raw_public) in sent  # the public half was sent...
    for form in (raw_private, base64.b64encode(raw_private), result.device_key_file.read_bytes()):
        assert form not in sent  # ...the private half in no form
    assert modes == [0o600]
    assert stat.S_IMODE(result.device_key_file.stat().st_mode) == 0o600


def test_harness_enrol_kiosk_gives_a_loadable_config(server, database_url, tmp_path):
    files = enrol_kiosk(server, database_url, tmp_path / "k1", site_name="Harness Clinic")
    cfg = load_config(files.config_path, env={})
    assert cfg.device_id == files.device_id and cfg.data_dir == files.data_dir and cfg.key_file == files.key_file
    assert cfg.site_name == "Harness Clinic" and not cfg.demo and cfg.fullscreen is False


def test_enrol_writes_the_practices_checkin_keys_for_offline_qr_checks(server, database_url, token, tmp_path):
    from practice_server import practice_keys
    from practice_server.db import open_database
    from sync_protocol.checkin_token import checkin_keys_from, make_checkin_token, verify_checkin_token

    engine, sessions = open_database(database_url)
    try:
        with sessions.begin() as db:
            key = practice_keys.load_or_create(db, tmp_path / "practice" / "checkin.key", datetime.now(UTC))
    finally:
        engine.dispose()
    result = enrol(options(server, token, tmp_path / "kiosk"))
    assert result.checkin_keys_file == result.server_ca_file.parent / "checkin_keys.json"
    assert stat.S_IMODE(result.checkin_keys_file.stat().st_mode) == 0o644  # public keys
    assert load_config(result.config_path, env={}).checkin_keys_file == result.checkin_keys_file
    assert "checkin_keys_file" in result.config_path.read_text()
    document = json.loads(result.checkin_keys_file.read_text())
    assert key.key_id in document["checkin_keys"]
    expires = datetime.now(UTC) + timedelta(hours=2)
    code = make_checkin_token(key.private_key, appointment_id="a-1", site_id=result.site_id, expires_at=expires,
                              key_id=key.key_id)
    assert verify_checkin_token(code, checkin_keys_from(document), datetime.now(UTC), site_id=result.site_id)


def test_checkin_keys_file_from_the_servers_answer():
    from sync_protocol.checkin_token import encode_public_key

    good = {"k1": encode_public_key(Ed25519PrivateKey.generate().public_key())}
    text, problem = checkin_keys_json(good)
    assert json.loads(text) == {"checkin_keys": good} and problem is None
    assert json.loads(checkin_keys_json({})[0]) == {"checkin_keys": {}} and checkin_keys_json({})[1] is None
    text, problem = checkin_keys_json(None)  # an older server
    assert json.loads(text) == {"checkin_keys": {}} and "no check-in keys" in problem
    text, problem = checkin_keys_json({"k1": "not a key"})
    assert json.loads(text) == {"checkin_keys": {}} and "'k1'" in problem and "when it syncs" in problem


# -- token problems (the server says no) -----------------------------------------------------


def test_used_token_is_refused_clearly(server, token, tmp_path):
    enrol(options(server, token, tmp_path / "first"))
    with pytest.raises(ProvisioningError, match="already used") as e:
        enrol(options(server, token, tmp_path / "second"))
    assert "issue-token" in str(e.value)
    assert not (tmp_path / "second" / "etc" / "device.key").exists()  # no half-enrolled leftovers
    assert not (tmp_path / "second" / "etc" / "kiosk.toml").exists()


def test_expired_token_is_refused_clearly(server, database_url, site, tmp_path):
    old = issue_token(database_url, site.id, ttl=timedelta(hours=1), now=datetime.now(UTC) - timedelta(days=2))
    with pytest.raises(ProvisioningError, match="expired"):
        enrol(options(server, old, tmp_path))


def test_unknown_token_is_refused_clearly(server, site, tmp_path):
    with pytest.raises(ProvisioningError, match="does not know this enrolment token"):
        enrol(options(server, "not-a-real-token-0123456789", tmp_path))


def test_cli_error_is_one_line_without_traceback(server, site, tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "provisioning", "enrol", "--server", server.url, "--token", "nope-nope-nope",
         "--ca-file", str(server.ca_file), "--config", str(tmp_path / "kiosk.toml"),
         "--staff-pin-hash", staff_pin_hash(), "--data-dir", str(tmp_path / "data")],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode != 0
    assert proc.stderr.startswith("error: ") and proc.stderr.count("\n") == 1, proc.stderr
    assert "Traceback" not in proc.stderr


# -- mistakes found before the token is sent: the token stays usable --------------------------


def test_untrusted_ca_names_the_ca_and_keeps_the_token(server, token, other_pki, tmp_path):
    with pytest.raises(ProvisioningError) as e:
        enrol(options(server, token, tmp_path / "a", ca_file=other_pki.ca_cert))
    msg = str(e.value)
    assert "not trusted" in msg and str(other_pki.ca_cert) in msg and "ca.pem" in msg
    assert "token was not used" in msg
    assert_token_still_works(server, token, tmp_path)


def test_wrong_fingerprint_is_refused(server, token, other_pki, tmp_path):
    wrong = fingerprint(load_cert_file(other_pki.ca_cert))
    with pytest.raises(ProvisioningError, match="did not present the practice CA"):
        enrol(options(server, token, tmp_path / "a", ca_file=None, ca_fingerprint=wrong))
    assert_token_still_works(server, token, tmp_path)


def test_connection_refused(server, token, tmp_path):
    url = f"https://127.0.0.1:{free_port()}"  # nothing listens there
    with pytest.raises(ProvisioningError, match="connection refused"):
        enrol(options(server, token, tmp_path, server_url=url))


def test_unknown_host_name(server, token, tmp_path):
    with pytest.raises(ProvisioningError, match="cannot find the server name"):
        enrol(options(server, token, tmp_path, server_url="https://no-such-practice-server.invalid"))


def test_not_our_server(server, token, foreign_http_server, tmp_path):
    with pytest.raises(ProvisioningError, match="is not a clinic practice server"):
        enrol(options(server, token, tmp_path, server_url=foreign_http_server))
    assert_token_still_works(server, token, tmp_path)


def test_http_to_an_https_server(server, token, tmp_path):
    plain = server.url.replace("https://", "http://")
    with pytest.raises(ProvisioningError, match="closed the connection|not a clinic practice server"):
        enrol(options(server, token, tmp_path, server_url=plain))


@pytest.mark.parametrize("offset", [timedelta(minutes=30), -timedelta(days=3)])
def test_clock_far_off_is_found_before_the_token_is_used(server, token, tmp_path, offset):
    def wrong_clock():
        return datetime.now(UTC) + offset

    with pytest.raises(ProvisioningError) as e:
        enrol(options(server, token, tmp_path / "a"), now=wrong_clock)
    msg = str(e.value)
    assert "clock" in msg and "timedatectl set-ntp true" in msg
    assert ("ahead of" if offset > timedelta(0) else "behind") in msg
    assert "token was not used" in msg
    assert_token_still_works(server, token, tmp_path)


def test_small_clock_difference_is_fine(server, token, tmp_path):
    enrol(options(server, token, tmp_path), now=lambda: datetime.now(UTC) + timedelta(minutes=2))


def test_no_disk_space_keeps_the_token(server, token, tmp_path, monkeypatch):
    # No tmpfs can be mounted here, so the file system's answer is simulated: statvfs
    # (shutil.disk_usage) reports 4 KiB free. Everything else is real.
    real = shutil.disk_usage

    def full(path):
        usage = real(path)
        return type(usage)(usage.total, usage.total - 4096, 4096)

    monkeypatch.setattr(shutil, "disk_usage", full)
    with pytest.raises(ProvisioningError, match="not enough free disk space") as e:
        enrol(options(server, token, tmp_path / "a"))
    assert "token was not used" in str(e.value)
    monkeypatch.setattr(shutil, "disk_usage", real)
    assert_token_still_works(server, token, tmp_path)


def test_write_failure_in_config_folder_keeps_the_token(server, token, tmp_path, monkeypatch):
    # The trial write really fails with ENOSPC: it goes to /dev/full (root ignores file
    # modes and no tmpfs can be mounted here, so this is the honest full disk we have).
    import os
    import tempfile

    real_mkstemp = tempfile.mkstemp

    def probe_on_dev_full(*args, prefix=None, **kw):
        if prefix == ".enrol-probe-":
            _fd, path = real_mkstemp(*args, prefix=prefix, **kw)
            os.close(_fd)
            return os.open("/dev/full", os.O_WRONLY), path
        return real_mkstemp(*args, prefix=prefix, **kw)

    monkeypatch.setattr(enrol_module.tempfile, "mkstemp", probe_on_dev_full)
    with pytest.raises(ProvisioningError, match="cannot write in .*No space left"):
        enrol(options(server, token, tmp_path / "a"))
    monkeypatch.setattr(enrol_module.tempfile, "mkstemp", real_mkstemp)
    assert_token_still_works(server, token, tmp_path)


def test_config_folder_that_cannot_exist_keeps_the_token(server, token, tmp_path):
    blocker = tmp_path / "etc"
    blocker.write_text("a file where the config folder should be")
    with pytest.raises(ProvisioningError, match="part of its path is a file"):
        enrol(options(server, token, tmp_path, config_path=blocker / "clinic-kiosk" / "kiosk.toml"))
    assert_token_still_works(server, token, tmp_path / "ok")


def test_staff_pin_hash_required_and_demo_pin_refused(server, token, tmp_path):
    from kiosk.staff_pin import DEMO_PIN_HASH

    with pytest.raises(ProvisioningError, match="python -m kiosk.staff_pin"):
        enrol(options(server, token, tmp_path, staff_pin_hash=None))
    with pytest.raises(ProvisioningError, match="demo PIN"):
        enrol(options(server, token, tmp_path, staff_pin_hash=DEMO_PIN_HASH))
    assert_token_still_works(server, token, tmp_path)


def test_enrolled_once_unless_forced(server, database_url, site, token, tmp_path):
    first = enrol(options(server, token, tmp_path))
    old_key = first.device_key_file.read_bytes()
    second_token = issue_token(database_url, site.id)
    with pytest.raises(ProvisioningError, match="already enrolled as device .*--force"):
        enrol(options(server, second_token, tmp_path))
    assert first.device_key_file.read_bytes() == old_key
    again = enrol(options(server, second_token, tmp_path, force=True))
    assert again.device_id != first.device_id
    assert again.device_key_file.read_bytes() != old_key
    assert stat.S_IMODE(again.device_key_file.stat().st_mode) == 0o600
    assert load_config(again.config_path, env={}).device_id == again.device_id
