"""`python -m sync_agent` as a real process: --once exit codes, status, not enrolled,
key permissions, and a clean stop on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fake_server import FakePracticeServer, serve_http
from kiosk.staff_pin import hash_pin

ROOT = Path(__file__).resolve().parents[2]
PIN_HASH = hash_pin("8642")


def real_now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
def kiosk(tmp_path):
    """An enrolled kiosk's files, a fake server on 127.0.0.1 and a way to run the agent."""
    key = Ed25519PrivateKey.generate()
    device_id = str(uuid.uuid4())
    server = FakePracticeServer(device_id, key.public_key(), clock=real_now)
    httpd, url = serve_http(server)
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    key_path = secrets / "device.key"
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    config = tmp_path / "kiosk.toml"
    lines = {
        "data_dir": tmp_path / "data", "key_file": secrets / "data.key", "log_file": tmp_path / "logs" / "k.log",
        "server_url": url, "device_id": device_id, "device_key_file": key_path,
        "health_file": tmp_path / "health.json", "staff_pin_hash": PIN_HASH,
    }
    config.write_text("".join(f'{k} = "{v}"\n' for k, v in lines.items()) + "sync_interval_seconds = 1\n")

    class Kiosk:
        pass

    k = Kiosk()
    k.server, k.config, k.key_path, k.health = server, config, key_path, tmp_path / "health.json"
    k.tmp = tmp_path

    def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "sync_agent", *args], cwd=ROOT, capture_output=True,
                              text=True, timeout=timeout, env={**os.environ, "KIOSK_CONFIG": ""})

    k.run = run
    yield k
    httpd.shutdown()


def test_once_succeeds_and_status_prints_the_health(kiosk):
    result = kiosk.run("--once", "--config", str(kiosk.config))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("sync ok:") and result.stderr == ""
    assert ("POST", "/api/v1/heartbeat") in kiosk.server.requests
    status = kiosk.run("status", "--config", str(kiosk.config))
    assert status.returncode == 0
    health = json.loads(status.stdout)
    assert health["state"] == "online" and health["backlog"] == 0 and health["last_success"]
    # The agent logs JSON lines to its own file, next to the kiosk's.
    log_lines = (kiosk.tmp / "logs" / "sync-agent.log").read_text().splitlines()
    assert any(json.loads(line)["event"] == "sync.done" for line in log_lines)


def test_once_fails_with_one_line_and_non_zero(kiosk):
    kiosk.server.fail("503", times=50)
    result = kiosk.run("--once", "--config", str(kiosk.config))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sync failed (server_busy)")
    kiosk.server._faults.clear()
    kiosk.server.revoked = True
    result = kiosk.run("--once", "--config", str(kiosk.config))
    assert result.returncode == 3 and "revoked" in result.stderr
    assert json.loads(kiosk.run("status", "--config", str(kiosk.config)).stdout)["state"] == "not_enrolled"


def test_status_without_a_health_file_is_unknown(kiosk):
    result = kiosk.run("status", "--config", str(kiosk.config))
    assert result.returncode == 0 and json.loads(result.stdout)["state"] == "unknown"


def test_not_enrolled_is_exit_2_with_what_to_run(kiosk):
    text = kiosk.config.read_text()
    kiosk.config.write_text("\n".join(line for line in text.splitlines()
                                      if not line.startswith(("server_url", "staff_pin_hash"))))
    result = kiosk.run("--once", "--config", str(kiosk.config))
    assert result.returncode == 2
    assert result.stderr.startswith("not enrolled:") and "python -m provisioning enrol" in result.stderr
    assert json.loads(kiosk.run("status", "--config", str(kiosk.config)).stdout)["state"] == "not_enrolled"


def test_missing_device_key_is_not_enrolled(kiosk):
    kiosk.key_path.unlink()
    result = kiosk.run("--config", str(kiosk.config))  # even the service refuses to start
    assert result.returncode == 2 and "no device key" in result.stderr


def test_a_device_key_others_can_read_is_refused_with_the_chmod(kiosk):
    kiosk.key_path.chmod(0o644)
    result = kiosk.run("--once", "--config", str(kiosk.config))
    assert result.returncode == 2
    assert f"chmod 600 {kiosk.key_path}" in result.stderr


def test_runs_until_sigterm_and_stops_cleanly(kiosk):
    proc = subprocess.Popen([sys.executable, "-m", "sync_agent", "--config", str(kiosk.config)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        end = time.monotonic() + 30
        while time.monotonic() < end and len([r for r in kiosk.server.requests if r[1].endswith("/schedule")]) < 2:
            time.sleep(0.05)  # two rounds: it loops on sync_interval_seconds
        assert len([r for r in kiosk.server.requests if r[1].endswith("/schedule")]) >= 2
        proc.send_signal(signal.SIGTERM)
        proc.wait(15)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    assert json.loads(kiosk.run("status", "--config", str(kiosk.config)).stdout)["state"] == "online"


def test_sigterm_cuts_a_backoff_wait_short(kiosk):
    kiosk.server.fail("503", times=1000)  # Retry-After: 7 -> stamina waits at least 7 s
    proc = subprocess.Popen([sys.executable, "-m", "sync_agent", "--config", str(kiosk.config)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        end = time.monotonic() + 30
        while time.monotonic() < end and not kiosk.health.exists():
            time.sleep(0.05)
        time.sleep(0.5)  # now inside the backoff wait
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(15)
        took = time.monotonic() - started
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, proc.stderr.read()
    assert took < 5  # not the 7 s the server asked for
    health = json.loads(kiosk.run("status", "--config", str(kiosk.config)).stdout)
    assert health["state"] == "offline" and "503" in health["last_error"]
