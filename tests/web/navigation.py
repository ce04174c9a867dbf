"""Helpers (not tests) for pressing things in Chromium that lead to another page.

A click returns before the next page has loaded (ChromeDriver does not wait for a form's
navigation), so a test that looks at once may still see the old page: it must wait for
the old page to go and the new one to be there."""

from __future__ import annotations

from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait


def press(driver, element) -> None:
    """Tap `element`; with the page's scripts off, use the keyboard (a tap hangs the driver
    then): Enter on a button or link, Space on a check box."""
    if not getattr(driver, "scripts_disabled", False):
        element.click()
    else:
        element.send_keys(Keys.SPACE if element.get_dom_attribute("type") == "checkbox" else Keys.ENTER)


def follow(driver, element) -> None:
    """Press `element` (a button or link that leads to another page) and wait for that page."""
    page = driver.find_element(By.TAG_NAME, "html")
    press(driver, element)

    def left(_driver) -> bool:
        try:
            page.is_enabled()
        except (StaleElementReferenceException, WebDriverException):
            return True  # replaced (mid-navigation the driver may say so in other words)
        return False

    WebDriverWait(driver, 15).until(left)
    WebDriverWait(driver, 15).until(lambda d: d.find_elements(By.TAG_NAME, "h1"))


def submit(driver, css: str = "button.primary") -> None:
    """Press the button (or link) `css` finds, and wait for the page it leads to."""
    follow(driver, driver.find_element(By.CSS_SELECTOR, css))
