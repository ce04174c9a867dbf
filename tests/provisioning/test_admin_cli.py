"""IT's server-side commands (sites, tokens, fleet, revoke) on a real practice database,
and the fleet table's formatting."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import requests
from PIL import Image

from provisioning.cli import main
from provisioning.enrol_uri import parse_uri
from provisioning.fleet import table
from provisioning.pki import fingerprint, load_cert_file
from tests.e2e.harness import enrol_kiosk, start_server


@pytest.fixture(scope="module")
def database_url(tmp_path_factory) -> str:
    return "sqlite:///" + str(tmp_path_factory.mktemp("admin-db") / "practice.db")


@pytest.fixture(scope="module")
def server(tmp_path_factory, database_url):
    srv = start_server(tmp_path_factory.mktemp("admin-server"), database_url)
    yield srv
    srv.stop()


def run(capsys, *argv) -> tuple[int, str, str]:
    rc = main(list(argv))
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_sites_and_tokens(database_url, server, tmp_path, capsys, monkeypatch):
    rc, out, err = run(capsys, "create-site", "--database", database_url, "--name", "Eastside Clinic", "--timezone", "America/New_York")
    assert rc == 0, err
    rc, _, err = run(capsys, "create-site", "--database", database_url, "--name", "Eastside Clinic", "--timezone", "America/New_York")
    assert rc == 1 and "exists already" in err
    rc, _, err = run(capsys, "create-site", "--database", database_url, "--name", "X", "--timezone", "Mars/Olympus")
    assert rc == 1 and "Area/City" in err
    monkeypatch.setenv("PRACTICE_SERVER_DATABASE", database_url)  # the default database
    rc, out, _ = run(capsys, "sites")
    assert rc == 0 and "Eastside Clinic" in out and "America/New_York" in out

    png = tmp_path / "enrol.png"
    rc, out, err = run(
        capsys, "issue-token", "--site", "Eastside Clinic", "--ttl-hours", "2", "--server-url", server.url,
        "--ca-cert", str(server.ca_file), "--qr-png", str(png),
    )
    assert rc == 0, err
    token = out.split("token:", 1)[1].split()[0]
    fp = fingerprint(load_cert_file(server.ca_file))
    assert f"--token {token}" in out and f"--ca-fingerprint {fp}" in out and "expires:" in out
    uri_line = next(line.strip() for line in out.splitlines() if line.strip().startswith("clinic-kiosk-enrol:?"))
    uri = parse_uri(uri_line)
    assert (uri.server, uri.token, uri.ca_fingerprint) == (server.url, token, fp)
    assert "█" in out or "▀" in out or "▄" in out  # the QR code, in the terminal
    assert Image.open(png).size[0] > 100

    rc, _, err = run(capsys, "issue-token", "--site", "Nowhere", "--server-url", server.url, "--ca-cert", str(server.ca_file))
    assert rc == 1 and "no site 'Nowhere'" in err and "Eastside Clinic" in err
    rc, _, err = run(capsys, "issue-token", "--site", "Eastside Clinic", "--server-url", server.url)
    assert rc == 1 and "--ca-cert" in err


def test_database_needed(capsys, monkeypatch):
    monkeypatch.delenv("PRACTICE_SERVER_DATABASE", raising=False)
    rc, _, err = run(capsys, "sites")
    assert rc == 1 and "PRACTICE_SERVER_DATABASE" in err


def test_fleet_and_revoke(database_url, server, tmp_path, capsys):
    kiosk = enrol_kiosk(server, database_url, tmp_path / "lobby", site_name="Fleet Clinic", hostname="kiosk-lobby-1")
    rc, out, err = run(capsys, "fleet", "--database", database_url)
    assert rc == 0, err
    row = next(line for line in out.splitlines() if kiosk.device_id in line)
    assert "Fleet Clinic" in row and "kiosk-lobby-1" in row and "NEVER SEEN" in row

    rc, out, _ = run(capsys, "fleet", "--database", database_url, "--json")
    entry = next(d for d in json.loads(out) if d["device_id"] == kiosk.device_id)
    assert entry["hostname"] == "kiosk-lobby-1" and entry["revoked_at"] is None

    rc, out, err = run(capsys, "revoke", "--database", database_url, "--device", kiosk.device_id, "--reason", "stolen")
    assert rc == 0, err
    rc, out, _ = run(capsys, "fleet", "--database", database_url)
    row = next(line for line in out.splitlines() if kiosk.device_id in line)
    assert "REVOKED" in row
    rc, _, err = run(capsys, "revoke", "--database", database_url, "--device", "no-such-device", "--reason", "x")
    assert rc == 1 and "no enrolled device" in err
    # the server agrees: the revoked kiosk's key no longer gets in (a signed heartbeat)
    from sync_protocol.signing import sign_request
    from sync_protocol.device_key import load_device_key

    body = json.dumps({"version": "0", "backlog": 0}).encode()
    headers = {"Content-Type": "application/json"}
    url = server.url + "/api/v1/heartbeat"
    sign_request("POST", url, headers, body, device_id=kiosk.device_id,
                 private_key=load_device_key(kiosk.device_key_file), now=datetime.now(UTC))
    headers["Connection"] = "close"  # not signed; lets the server's shutdown be quick
    r = requests.post(url, data=body, headers=headers, verify=server.verify, timeout=5)
    assert r.status_code == 403 and r.json()["detail"]["code"] == "revoked"


@dataclass(frozen=True)
class FakeStatus:
    device_id: str
    site_id: str = "s1"
    site_name: str = "Northside"
    hostname: str = "kiosk-1"
    version: str | None = "0.4.0"
    enrolled_at: datetime = datetime(2026, 1, 1, tzinfo=UTC)
    last_heartbeat: datetime | None = None
    online: bool = False
    backlog: int | None = None
    oldest_unsent_age_seconds: float | None = None
    disk_free_bytes: int | None = None
    dead_letters: int | None = None
    last_error: str | None = None
    revoked_at: datetime | None = None


def test_fleet_table_formatting():
    now = datetime(2026, 1, 2, 12, 0, tzinfo=UTC)
    devices = [
        FakeStatus("d-online", last_heartbeat=now - timedelta(seconds=30), online=True, backlog=3,
                   oldest_unsent_age_seconds=400, disk_free_bytes=12_300_000_000, dead_letters=1),
        FakeStatus("d-offline", hostname="kiosk-2", last_heartbeat=now - timedelta(hours=5), backlog=120,
                   oldest_unsent_age_seconds=18000, last_error="connection refused " * 10),
        FakeStatus("d-revoked", hostname="kiosk-3", revoked_at=now),
    ]
    text = table(devices, now)
    lines = {line.split()[2]: line for line in text.splitlines()[1:] if line.startswith("Northside")}
    assert "30s ago" in lines["d-online"] and "online" in lines["d-online"] and "3 (1 dead)" in lines["d-online"]
    assert "6m" in lines["d-online"] and "12.3GB" in lines["d-online"]
    assert "5h ago" in lines["d-offline"] and "OFFLINE" in lines["d-offline"] and "…" in lines["d-offline"]
    assert "REVOKED" in lines["d-revoked"]
    assert "3 kiosk(s), 1 not online, 1 revoked." in text
    assert "No kiosks" in table([], now)


def test_harness_server_survives_kill_and_restart_on_same_port(server):
    # Last in this module: it restarts the module's server.
    port, first_pid = server.port, server.pid
    server.kill()
    with pytest.raises(requests.RequestException):
        requests.get(server.url + "/api/v1/health", verify=server.verify, timeout=2)
    server.restart()
    assert server.port == port and server.pid != first_pid
    r = requests.get(server.url + "/api/v1/health", verify=server.verify, timeout=5, headers={"Connection": "close"})
    assert r.json()["status"] == "ok"
