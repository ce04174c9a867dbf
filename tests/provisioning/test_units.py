"""systemd units: what they run, their hardening, and systemd's own verdict on them."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from provisioning.cli import main


def write(tmp_path, *extra) -> tuple[str, str]:
    # An existing interpreter and an existing binary in cage's place, so that
    # systemd-analyze verify (which checks ExecStart binaries) can pass on this machine.
    venv = Path(sys.executable).parent.parent
    rc = main([
        "write-units", "--out", str(tmp_path), "--user", "root", "--venv", str(venv),
        "--cage", shutil.which("true") or "/bin/true", "--data-dir", "/var/lib/clinic-kiosk", *extra,
    ])
    assert rc == 0
    return (tmp_path / "clinic-kiosk.service").read_text(), (tmp_path / "clinic-sync-agent.service").read_text()


def test_units_run_kiosk_under_cage_and_agent_after_network(tmp_path):
    kiosk, agent = write(tmp_path, "--config", "/etc/clinic-kiosk/kiosk.toml")
    assert " -- " in kiosk and "-m kiosk --config /etc/clinic-kiosk/kiosk.toml" in kiosk
    assert "-m sync_agent --config /etc/clinic-kiosk/kiosk.toml" in agent
    for unit in (kiosk, agent):
        assert "Restart=always" in unit
        assert "NoNewPrivileges=yes" in unit
        assert "ProtectSystem=strict" in unit
        assert "ReadWritePaths=/var/lib/clinic-kiosk" in unit
        assert "PrivateTmp=yes" in unit
        assert "User=root" in unit
    assert "After=network-online.target" in agent and "Wants=network-online.target" in agent
    assert "PrivateDevices=yes" in agent and "PrivateDevices" not in kiosk  # the kiosk needs GPU/input


def test_units_refuse_relative_paths(tmp_path, capsys):
    assert main(["write-units", "--out", str(tmp_path), "--config", "kiosk.toml"]) == 1
    assert "absolute" in capsys.readouterr().err


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed here")
def test_units_pass_systemd_analyze_verify(tmp_path):
    write(tmp_path)
    proc = subprocess.run(
        ["systemd-analyze", "verify", *(str(p) for p in sorted(tmp_path.glob("*.service")))],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    # systemd reports unknown or misspelt settings as warnings, not failures: none allowed
    assert "Unknown key" not in proc.stderr and "Unknown section" not in proc.stderr, proc.stderr
    assert "Failed to parse" not in proc.stderr, proc.stderr
