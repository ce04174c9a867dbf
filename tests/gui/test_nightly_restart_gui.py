"""The nightly restart never cuts a visit: the app exits (for systemd to start it again)
only at the welcome screen with nobody using it, inside the window, after a day's uptime."""
from __future__ import annotations

from datetime import timedelta

import pytest

from kiosk import ui_driver as ui
from kiosk.watchdog import parse_window

pytestmark = pytest.mark.gui


def test_the_app_restarts_at_night_only_when_nobody_is_there(app, monkeypatch):
    stopped = []
    monkeypatch.setattr(app, "stop", lambda *_a: stopped.append(True))
    now = app.clock().astimezone()
    app._restart_window = parse_window(f"{now - timedelta(minutes=5):%H:%M}-{now + timedelta(minutes=30):%H:%M}")
    app._check_idle(0)
    assert not stopped  # started minutes ago
    monkeypatch.setattr(app, "_started", app._started - 21 * 3600)
    app.begin_visit()
    ui.pump(3)
    app._check_idle(0)
    assert not stopped and app.manager.current == "last_name"  # a patient is there
    app.end_visit("test")
    ui.pump(2)  # the app's own 0.5 s check may already stop it here (stop is stubbed out)
    app._check_idle(0)
    assert stopped and app.allow_exit
    app.allow_exit = False
