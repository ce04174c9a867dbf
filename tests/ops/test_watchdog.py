"""systemd integration: sd_notify over a real unix datagram socket, the watchdog
interval, the nightly restart window, the agent's watchdog thread and nightly restart,
and the generated units checked by systemd-analyze."""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from kiosk.watchdog import MIN_UPTIME, Notifier, parse_window, restart_due
from provisioning.units import AGENT_UNIT, KIOSK_UNIT, UnitOptions, write_units


@pytest.fixture
def systemd_socket(tmp_path):
    """A datagram socket standing in for systemd's notify socket."""
    path = tmp_path / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
        s.bind(str(path))
        s.settimeout(2)
        yield s, str(path)


def test_ready_and_watchdog_reach_the_socket(systemd_socket):
    s, path = systemd_socket
    notifier = Notifier({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "60000000", "WATCHDOG_PID": str(os.getpid())})
    assert notifier.ping_every == 30.0
    assert notifier.ready("showing the welcome screen") and notifier.ping() and notifier.stopping()
    got = [s.recv(4096).decode() for _ in range(3)]
    assert got == ["READY=1\nSTATUS=showing the welcome screen", "WATCHDOG=1", "STOPPING=1"]


def test_an_abstract_socket_name_works_too():
    name = f"@kiosk-test-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
        s.bind("\0" + name[1:])
        s.settimeout(2)
        assert Notifier({"NOTIFY_SOCKET": name}).ready()
        assert s.recv(100) == b"READY=1"


def test_the_watchdog_is_for_this_process_or_the_compositor_that_started_it(tmp_path):
    base = {"NOTIFY_SOCKET": str(tmp_path / "x"), "WATCHDOG_USEC": "10000000"}
    assert Notifier({**base, "WATCHDOG_PID": str(os.getppid())}).ping_every == 5.0  # cage's child
    assert Notifier({**base, "WATCHDOG_PID": "1"}).ping_every is None  # another process's watchdog
    assert Notifier({}).enabled is False and Notifier({}).ready() is False  # not under systemd


def test_a_vanished_socket_is_reported_once_and_never_raises(tmp_path, caplog):
    notifier = Notifier({"NOTIFY_SOCKET": str(tmp_path / "gone.sock")})
    with caplog.at_level(logging.WARNING):
        assert notifier.ping() is False and notifier.ping() is False
    assert [r.getMessage() for r in caplog.records].count("watchdog.notify_failed") == 1


@pytest.mark.parametrize("window, at, due", [
    ("02:00-04:00", "03:10", True), ("02:00-04:00", "04:00", False), ("02:00-04:00", "13:00", False),
    ("23:30-01:00", "00:15", True), ("23:30-01:00", "23:45", True), ("23:30-01:00", "01:30", False),
])
def test_the_restart_window(window, at, due):
    now = datetime.fromisoformat(f"2026-11-24T{at}:00")
    assert restart_due(parse_window(window), now, MIN_UPTIME + timedelta(minutes=1)) is due
    assert restart_due(parse_window(window), now, MIN_UPTIME - timedelta(minutes=1)) is False  # just restarted


@pytest.mark.parametrize("text", ["2am-4am", "02:00", "02:00-02:00", "25:00-26:00"])
def test_a_window_that_cannot_be_read_says_how_to_write_it(text):
    with pytest.raises(ValueError, match="02:00-04:00"):
        parse_window(text)
    assert parse_window("none") is None


def test_the_agents_watchdog_pings_only_while_its_loop_moves():
    from sync_agent.__main__ import _watchdog

    pings = []

    class Recorder:
        ping_every = 0.02

        def ping(self):
            pings.append(time.monotonic())

    class Agent:
        alive_until = time.monotonic() + 0.15

    stop = threading.Event()
    thread = threading.Thread(target=_watchdog, args=(Agent, Recorder(), stop))
    thread.start()
    time.sleep(0.4)
    stop.set()
    thread.join()
    assert pings and max(pings) <= Agent.alive_until + 0.03  # no pings once the loop stalled


def test_generated_units_pass_systemd_analyze_verify(tmp_path):
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.skip("systemd-analyze is not installed (Debian: systemd)")
    (tmp_path / "kiosk.toml").write_text("")
    options = UnitOptions(user="root", config=tmp_path / "kiosk.toml", venv=Path(os.sys.prefix),
                          data_dir=tmp_path / "data", cage=Path(shutil.which("true")))
    paths = write_units(tmp_path / "units", options)
    for path, watchdog in zip(paths, ("WatchdogSec=60", "WatchdogSec=120"), strict=True):
        assert "Type=notify" in path.read_text() and watchdog in path.read_text()

    def verify(*units: Path) -> str:
        r = subprocess.run([tool, "verify", "--man=no", *map(str, units)], capture_output=True, text=True,
                           timeout=60, cwd=units[0].parent)
        return (r.stdout + r.stderr).strip() + ("" if r.returncode == 0 else f" (exit {r.returncode})")

    assert verify(*paths) == ""
    broken = tmp_path / "units" / "broken.service"
    broken.write_text((tmp_path / "units" / KIOSK_UNIT).read_text().replace("WatchdogSec=60", "WatchdogSec=soon"))
    assert "soon" in verify(broken)  # the check would notice a bad line
    assert AGENT_UNIT in [p.name for p in paths]
