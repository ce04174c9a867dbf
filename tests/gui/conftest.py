"""GUI tests: one real Kivy window under Xvfb for the whole session, driven by real touches.

Kivy can open one window per process, so the app is built once; every test gets a fresh
demo clinic database swapped in, default language, default text size and no visit.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

SCREENSHOTS = Path(os.environ.get("KIOSK_TEST_SCREENSHOTS", Path(__file__).resolve().parents[2] / "screenshots" / "tests"))
_SCRATCH = Path(tempfile.mkdtemp(prefix="kiosk-gui-"))


def _start_xvfb() -> subprocess.Popen | None:
    """Give the tests a screen when there is none (CI, ssh): Xvfb on a free display."""
    if os.environ.get("DISPLAY"):
        return None
    if not shutil.which("Xvfb"):
        pytest.exit("GUI tests need Xvfb: run scripts/setup.sh (apt package xvfb)", returncode=3)
    for number in range(90, 140):
        if not Path(f"/tmp/.X11-unix/X{number}").exists() and not Path(f"/tmp/.X{number}-lock").exists():
            break
    proc = subprocess.Popen(
        ["Xvfb", f":{number}", "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        if Path(f"/tmp/.X11-unix/X{number}").exists():
            break
        time.sleep(0.05)
    os.environ["DISPLAY"] = f":{number}"
    return proc


_XVFB = _start_xvfb()

# Kivy reads its settings at import: configure it before anything imports it.
from kiosk.kivy_setup import configure_kivy  # noqa: E402

configure_kivy(_SCRATCH / "kivy", fullscreen=False)
os.environ["KIVY_NO_CONSOLELOG"] = "1"

from kiosk.config import load_config  # noqa: E402
from kiosk.i18n import init_translator  # noqa: E402
from kiosk.store import open_store  # noqa: E402


def pytest_sessionfinish(session, exitstatus):
    if _XVFB is not None:
        _XVFB.terminate()
    shutil.rmtree(_SCRATCH, ignore_errors=True)


class Clock:
    """The app's clock, movable by tests (cool-downs) and real otherwise."""

    def __init__(self):
        self.offset = 0.0

    def __call__(self) -> datetime:
        return datetime.fromtimestamp(time.time() + self.offset, timezone.utc)


@pytest.fixture(scope="session")
def clock():
    return Clock()


@pytest.fixture(scope="session")
def config():
    env = {"KIOSK_DATA_DIR": str(_SCRATCH / "data"), "KIOSK_KEY_FILE": str(_SCRATCH / "keys" / "data.key"), "HOME": str(_SCRATCH)}
    return load_config(None, env)


@pytest.fixture(scope="session")
def app_session(config, clock):
    init_translator(config.languages, config.default_language)
    from kiosk.app import KioskApp

    store = open_store(_SCRATCH / "first", _SCRATCH / "first-key" / "data.key")
    app = KioskApp(config, store, clock=clock)
    app._run_prepare()
    from kiosk import ui_driver

    ui_driver.pump(5)
    yield app


@pytest.fixture
def app(app_session, clock, tmp_path, request):
    """The running app with a fresh demo clinic and everything back to defaults.

    Unless the test is marked full_intake, the practice has published no forms and no
    consents, so a visit is check-in, contact details, card and done."""
    from kiosk import ui_driver
    from kiosk.theme import theme

    clock.offset = 0.0
    old = app_session.store
    store = open_store(tmp_path / "data", tmp_path / "keys" / "data.key")
    store.load_demo_clinic(clock().astimezone().date())
    if request.node.get_closest_marker("full_intake") is None:
        store.save_bundle("forms", {"kind": "forms", "items": {"questionnaires": [], "rules": [], "policy": []}}, "none")
        store.save_bundle("consents", {"kind": "consents", "items": []}, "none")
    app_session.journey.session = None
    app_session.staff_mode = False
    app_session._hide_warning()
    app_session.attach_store(store)
    app_session.wipe_screens()
    theme.reset()
    if app_session.translator.language != "en":
        app_session.switch_language("en")
    app_session.sync()
    old.close()
    ui_driver.pump(3)
    yield app_session


@pytest.fixture
def shot():
    """Save a screenshot under screenshots/tests/ with a name that says the test step."""
    from kiosk import ui_driver

    def take(name: str) -> Path:
        return ui_driver.screenshot(SCREENSHOTS / f"{name}.png")

    return take


@pytest.fixture
def heard(app):
    """What a patient with headphones hears: a real Speaker whose backend records the
    utterances (50 times faster than speech) instead of playing them."""
    from kiosk.app import _post_to_ui
    from kiosk.speech import RecordingBackend, Speaker

    backend = RecordingBackend(speed=50.0)
    speaker = Speaker(backend, post=_post_to_ui)
    old = app._speaker
    app._speaker = speaker
    yield backend
    app.audio.stop()
    speaker.close()
    app._speaker = old
