"""The portal enrolment pages in headless Chromium at a phone's size, against a real server
process: the whole walk with and without JavaScript, in English and Spanish, the clear
pages for problems; nothing is loaded from anywhere but the server; everything fits the
phone and is big enough to touch. Screenshots: screenshots/web/."""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, date, datetime, timedelta

import pyotp
import pytest

pytest.importorskip("selenium", reason="selenium is not installed (pip install selenium)")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select  # noqa: E402

from tests.web.navigation import press, submit  # noqa: E402
from tests.web.portal_steps import GOOD_PASSWORD  # noqa: E402

pytestmark = pytest.mark.slow

MIN_TOUCH_PX = 44  # CSS pixels: WCAG 2.5.5 / Apple HIG minimum; Android asks 48 dp


def shot(driver, screenshots, name: str) -> None:
    """The whole page (beyond the viewport) as a PNG."""
    data = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
    (screenshots / f"{name}.png").write_bytes(base64.b64decode(data["data"]))


def requested_urls(driver) -> list[str]:
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def assert_everything_local(driver, practice, seen: list[str]) -> None:
    urls = requested_urls(driver)
    seen.extend(u for u in urls if u.startswith(practice.url))
    # Only what goes over a network counts (the browser's own chrome:// pages do not).
    network = [u for u in urls if re.match(r"(?i)(https?|wss?|ftp):", u)]
    strangers = [u for u in network if not u.startswith(practice.url + "/")]
    assert strangers == [], f"requests that left the server: {strangers}"
    html = driver.page_source
    elsewhere = [u for u in re.findall(r"https?://[^\s\"'<>]+", html) if not u.startswith(practice.url)]
    assert elsewhere == [], f"links to elsewhere in the page: {elsewhere}"


def assert_fits_the_phone(driver) -> None:
    width = driver.execute_script("return document.documentElement.scrollWidth")
    viewport = driver.execute_script("return window.innerWidth")
    assert width <= viewport, f"the page is {width}px wide on a {viewport}px phone"
    small = driver.execute_script("""
        return Array.from(document.querySelectorAll('button, input:not([type=hidden]), select, a'))
            .filter(e => e.offsetParent !== null)
            // A check box is touched through its whole row, label included.
            .map(e => [e, (e.type === 'checkbox' && e.closest('.check')) || e])
            .map(([e, box]) => [e.id || e.name || e.textContent.trim(), box.getBoundingClientRect().height])
            .filter(([name, h]) => h < arguments[0]);""", MIN_TOUCH_PX)
    assert small == [], f"touch targets under {MIN_TOUCH_PX}px: {small}"
    body_px = driver.execute_script("return parseFloat(getComputedStyle(document.body).fontSize)")
    assert body_px >= 18, f"body text is {body_px}px"


def fill_birth_date(driver, born: date) -> None:
    Select(driver.find_element(By.ID, "month")).select_by_value(str(born.month))
    for field, value in (("day", born.day), ("year", born.year)):
        element = driver.find_element(By.ID, field)
        element.clear()
        element.send_keys(str(value))
    submit(driver)


def fill_password(driver, password: str, again: str | None = None) -> None:
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.ID, "password2").send_keys(password if again is None else again)
    submit(driver)


def heading(driver) -> str:
    return driver.find_element(By.TAG_NAME, "h1").text


def decode_qr(png: bytes) -> str:
    """What a phone camera would read (zbar, the kiosk's own QR reader; OpenCV's detector
    missed a clean code now and then)."""
    import cv2
    import numpy as np
    from pyzbar.pyzbar import ZBarSymbol, decode

    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_GRAYSCALE)
    found = decode(image, symbols=[ZBarSymbol.QRCODE])
    return found[0].data.decode("utf-8") if found else ""


def test_enrol_with_the_authenticator_app_on_a_phone(practice, phone, screenshots):
    driver = phone()
    seen: list[str] = []
    born = practice.appointments[0][1]
    driver.get(practice.link(0))
    assert heading(driver) == "Confirm your birth date"
    assert_everything_local(driver, practice, seen)
    assert_fits_the_phone(driver)
    shot(driver, screenshots, "01_birth_date")

    fill_birth_date(driver, born + timedelta(days=1))
    assert "does not match our records" in driver.find_element(By.ID, "errors").text
    assert driver.switch_to.active_element.get_attribute("id") == "errors"  # read out first
    assert_fits_the_phone(driver)
    shot(driver, screenshots, "02_birth_date_wrong")

    fill_birth_date(driver, born)
    assert heading(driver) == "Choose a password"
    show = driver.find_element(By.ID, "show-password")
    assert show.is_displayed()  # JavaScript shows the box
    assert_fits_the_phone(driver)
    shot(driver, screenshots, "03_password")

    fill_password(driver, "Password1234!")
    assert "too easy to guess" in driver.find_element(By.ID, "errors").text
    shot(driver, screenshots, "04_password_too_common")

    press(driver, driver.find_element(By.ID, "show-password"))
    assert driver.find_element(By.ID, "password").get_attribute("type") == "text"
    fill_password(driver, GOOD_PASSWORD)
    assert heading(driver) == "Extra protection (optional)"
    assert_everything_local(driver, practice, seen)
    assert_fits_the_phone(driver)
    shot(driver, screenshots, "05_two_factor")
    secret = driver.find_element(By.CSS_SELECTOR, ".secret code").text.replace(" ", "")
    qr_png = driver.find_element(By.CSS_SELECTOR, ".qr-box").screenshot_as_png
    (screenshots / "05_two_factor_qr.png").write_bytes(qr_png)
    scanned = decode_qr(qr_png)
    assert scanned.startswith("otpauth://totp/") and f"secret={secret}" in scanned
    assert "Northside" in scanned

    driver.find_element(By.ID, "code").send_keys("000000" if pyotp.TOTP(secret).now() != "000000" else "111111")
    submit(driver, "button[value=enable]")
    assert "That code did not work" in driver.find_element(By.ID, "errors").text
    shot(driver, screenshots, "06_two_factor_wrong_code")
    driver.find_element(By.ID, "code").send_keys(pyotp.TOTP(secret).now())
    submit(driver, "button[value=enable]")

    assert heading(driver) == "Terms of use"
    assert_fits_the_phone(driver)
    shot(driver, screenshots, "07_terms")
    submit(driver)  # without ticking the box
    assert "tick the box" in driver.find_element(By.ID, "errors").text
    press(driver, driver.find_element(By.ID, "accept"))
    submit(driver)

    assert heading(driver) == "Your portal account is ready"
    assert "authenticator app" in driver.find_element(By.TAG_NAME, "main").text
    assert_everything_local(driver, practice, seen)
    shot(driver, screenshots, "08_done")
    assert any(u.endswith("/portal/static/portal.css") for u in seen)
    assert any(u.endswith("/portal/static/portal.js") for u in seen)

    driver.back()  # the browser's Back after the account was made: no second account
    driver.refresh()
    assert heading(driver) == "Your portal account is ready"


def test_enrol_without_javascript_in_spanish(practice, phone, screenshots):
    driver = phone(javascript=False, language="es-MX")
    seen: list[str] = []
    driver.get(practice.link(1))
    assert heading(driver) == "Confirme su fecha de nacimiento"
    labels = [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".date label")]
    assert labels == ["Día", "Mes", "Año"]
    shot(driver, screenshots, "es_01_birth_date")
    fill_birth_date(driver, practice.appointments[1][1])
    assert heading(driver) == "Elija una contraseña"
    assert not driver.find_element(By.ID, "show-password").is_displayed()  # nothing a dead script needs
    shot(driver, screenshots, "es_02_password")
    fill_password(driver, GOOD_PASSWORD, GOOD_PASSWORD + "x")
    assert "no son iguales" in driver.find_element(By.ID, "errors").text
    shot(driver, screenshots, "es_03_password_mismatch")
    fill_password(driver, GOOD_PASSWORD)
    assert heading(driver) == "Protección adicional (opcional)"
    shot(driver, screenshots, "es_04_two_factor")
    submit(driver, "button[value=skip]")
    assert heading(driver) == "Condiciones de uso"
    shot(driver, screenshots, "es_05_terms")
    press(driver, driver.find_element(By.ID, "accept"))
    submit(driver)
    assert heading(driver) == "Su cuenta del portal está lista"
    assert "autenticación" not in driver.find_element(By.TAG_NAME, "main").text
    assert_everything_local(driver, practice, seen)
    shot(driver, screenshots, "es_06_done")


def test_the_language_switch_on_every_step(practice, phone):
    driver = phone()
    driver.get(practice.link(2))
    submit(driver, "a.lang")
    assert heading(driver) == "Confirme su fecha de nacimiento"
    fill_birth_date(driver, practice.appointments[2][1])
    assert heading(driver) == "Elija una contraseña"  # the choice is kept
    submit(driver, "a.lang")
    assert heading(driver) == "Choose a password"


def test_clear_pages_for_problems(practice, phone, screenshots):
    driver = phone()
    seen: list[str] = []
    driver.get(practice.link(3, expires_at=datetime.now(UTC) - timedelta(minutes=5)))
    assert heading(driver) == "This invitation has expired"
    assert_fits_the_phone(driver)
    shot(driver, screenshots, "problem_expired")

    forged = practice.invitation(3)
    prefix, payload, signature = forged.split(".")
    driver.get(f"{practice.url}/portal/enrol?i={prefix}.{payload}.{signature[::-1]}")
    assert heading(driver) == "We cannot read this invitation"
    shot(driver, screenshots, "problem_forged")

    driver.get(practice.link(3))
    born = practice.appointments[3][1]
    for _ in range(5):
        fill_birth_date(driver, born.replace(year=born.year - 1))
    assert heading(driver) == "This invitation is locked"
    assert_everything_local(driver, practice, seen)
    assert_fits_the_phone(driver)
    shot(driver, screenshots, "problem_locked")

    driver.get(f"{practice.url}/portal/enrol/password")  # no enrolment in this browser now
    assert heading(driver) in ("This invitation is locked", "This page has expired")
    driver.delete_all_cookies()
    driver.get(f"{practice.url}/portal/enrol/password")
    assert heading(driver) == "This page has expired"
    shot(driver, screenshots, "problem_session_expired")
