"""Fixtures for the web pages in headless Chromium (Debian's `chromium` and `chromium-driver`,
driven by Selenium): a real practice server process on 127.0.0.1 (tests/e2e/harness.py)
with a site, a kiosk whose key signs invitations, and patients; and phone-sized browsers.

Everything is skipped, with the reason, when Chromium, its driver or Selenium is missing.
Screenshots go to screenshots/web/ (or $KIOSK_WEB_SCREENSHOTS).
"""

from __future__ import annotations

import base64
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

SCREENSHOTS = Path(os.environ.get("KIOSK_WEB_SCREENSHOTS",
                                  Path(__file__).resolve().parents[2] / "screenshots" / "web"))
PHONE = {"width": 390, "height": 844, "pixelRatio": 2}  # an iPhone 12-14 sized viewport
PATIENTS = [  # synthetic
    ("Rosa", "Delgado-Marín", date(1956, 3, 14)),
    ("Tom", "Okafor", date(1980, 1, 1)),
    ("Lena", "Vogt", date(1948, 11, 2)),
    ("Ivan", "Petrov", date(1990, 7, 21)),
    ("Mei", "Chen", date(1975, 5, 5)),
]


def _chromium() -> tuple[str, str]:
    try:
        import selenium  # noqa: F401
    except ImportError:
        pytest.skip("selenium is not installed (pip install selenium)")
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not browser or not driver:
        pytest.skip("Chromium or its driver is missing (apt-get install chromium chromium-driver)")
    return browser, driver


@dataclass
class Practice:
    """The running server and what a test needs to invite its patients."""

    url: str
    database_url: str
    device_id: str
    key: Ed25519PrivateKey
    appointments: list[tuple[str, date]]  # (appointment id, the patient's birth date)
    site_name: str

    def invitation(self, index: int, *, expires_at: datetime | None = None) -> str:
        from tests.web.portal_steps import mint

        return mint(self.key, self.device_id, self.appointments[index][0], expires_at=expires_at)

    def link(self, index: int, **kw) -> str:
        return f"{self.url}/portal/enrol?i={self.invitation(index, **kw)}"


def _load_practice(database_url: str, key: Ed25519PrivateKey) -> tuple[str, list[tuple[str, date]]]:
    from practice_server import admin, schedule
    from practice_server.db import open_database
    from practice_server.models import Appointment, Clinician, Device, Patient

    engine, sessions = open_database(database_url)
    now = datetime.now(UTC)
    with sessions.begin() as db:
        site = admin.create_site(db, "Northside Clinic", "America/Chicago")
        device_id = str(uuid.uuid4())
        raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        db.add(Device(id=device_id, site_id=site.id, public_key=base64.b64encode(raw).decode(),
                      hostname="kiosk-web-test", version="test", enrolled_at=now))
        clinician = Clinician(id=str(uuid.uuid4()), display_name="Dr. Ana Ruiz")
        db.add(clinician)
        db.flush()
        today = schedule.local_today(site.timezone, now)
        appointments = []
        for i, (first, last, born) in enumerate(PATIENTS):
            patient = Patient(id=str(uuid.uuid4()), first_name=first, last_name=last, birth_date=born,
                              updated_at=now)
            db.add(patient)
            db.flush()
            start = datetime.combine(today, time(9, 0)) + timedelta(minutes=20 * i)
            appointment_id = str(uuid.uuid4())
            db.add(Appointment(id=appointment_id, site_id=site.id, patient_id=patient.id,
                               clinician_id=clinician.id, start=start, day=today, visit_type="follow_up",
                               status="booked", **schedule.stamp_new(db)))
            appointments.append((appointment_id, born))
    engine.dispose()
    return device_id, appointments


@pytest.fixture(scope="module")
def practice(tmp_path_factory) -> Iterator[Practice]:
    _chromium()
    from tests.e2e.harness import start_server

    tmp = tmp_path_factory.mktemp("portal-web")
    database_url = f"sqlite:///{tmp / 'practice.db'}"
    key = Ed25519PrivateKey.generate()
    device_id, appointments = _load_practice(database_url, key)
    server = start_server(tmp, database_url, tls=False)
    try:
        yield Practice(server.url, database_url, device_id, key, appointments, "Northside Clinic")
    finally:
        server.stop()


@pytest.fixture
def phone(tmp_path) -> Iterator[Callable[..., object]]:
    """phone(javascript=True, language="en") -> a Selenium Chrome driver at 390x844 that
    keeps its network log (driver.get_log("performance"))."""
    browser, driver_path = _chromium()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    drivers = []

    def make(*, javascript: bool = True, language: str = "en-US"):
        options = webdriver.ChromeOptions()
        options.binary_location = browser
        for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--no-first-run", "--no-default-browser-check", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--disable-default-apps",
                     "--disable-extensions", "--hide-scrollbars", f"--lang={language}",
                     f"--user-data-dir={tmp_path / f'chrome-{len(drivers)}'}"):
            options.add_argument(flag)
        options.add_experimental_option("mobileEmulation", {
            "deviceMetrics": PHONE,
            "userAgent": "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 "
                         "(KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36",
        })
        options.add_experimental_option("prefs", {"intl.accept_languages": language})
        options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
        driver = webdriver.Chrome(service=Service(driver_path), options=options)
        driver.set_page_load_timeout(30)
        drivers.append(driver)
        driver.scripts_disabled = not javascript
        if not javascript:
            # The page's scripts never run (Chrome's content setting would also stop the
            # driver's own, and hang it). Taps then hang the driver too: such tests press
            # keys instead (test_portal_chromium.press).
            driver.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
        return driver

    yield make
    for driver in drivers:
        driver.quit()


@pytest.fixture
def desktop(tmp_path) -> Iterator[object]:
    """A Selenium Chrome driver at a front-desk monitor's size (1366x900)."""
    browser, driver_path = _chromium()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--no-first-run",
                 "--no-default-browser-check", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-extensions", "--hide-scrollbars", "--window-size=1366,900",
                 f"--user-data-dir={tmp_path / 'chrome-desktop'}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
