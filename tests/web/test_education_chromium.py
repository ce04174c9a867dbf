"""The public education page in headless Chromium at a phone's size, against a real server
process: the English and the Arabic article read well on a phone (Arabic right to left),
nothing loads from anywhere but the server, no cookie is set, and everything fits the phone
and is big enough to touch. Screenshots: screenshots/tests/education_*.png."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("selenium", reason="selenium is not installed (pip install selenium)")
from selenium.webdriver.common.by import By  # noqa: E402

from practice_server.content_bundle import default_content_bundle  # noqa: E402
from tests.web.navigation import follow  # noqa: E402
from tests.web.test_portal_chromium import assert_everything_local, assert_fits_the_phone, shot  # noqa: E402

pytestmark = pytest.mark.slow

SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots" / "tests"

# Where the first line of the title starts and ends, and the writing direction, as laid out.
TITLE_BOX = """
    const h1 = document.querySelector('h1');
    const range = document.createRange();
    range.selectNodeContents(h1);
    const line = range.getClientRects()[0];
    return {left: line.left, right: line.right, width: window.innerWidth,
            direction: getComputedStyle(h1).direction};"""


def test_an_article_in_english_and_arabic_on_a_phone(practice, phone):
    item = next(i for i in default_content_bundle() if {"en", "ar"} <= set(i["languages"]))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    driver = phone()
    seen: list[str] = []
    for lang in ("en", "ar"):
        driver.get(f"{practice.url}/education/{item['id']}?lang={lang}")
        text = item["languages"][lang]
        assert driver.find_element(By.TAG_NAME, "h1").text == " ".join(text["title"].split())
        paragraphs = driver.find_elements(By.CSS_SELECTOR, "article p")
        assert len(paragraphs) == len(text["paragraphs"]) and all(p.is_displayed() for p in paragraphs)
        html = driver.find_element(By.TAG_NAME, "html")
        assert html.get_attribute("lang") == lang
        assert driver.get_cookies() == []
        assert_everything_local(driver, practice, seen)
        assert_fits_the_phone(driver)
        box = driver.execute_script(TITLE_BOX)
        if lang == "ar":  # right to left: the title starts at the right edge
            assert box["direction"] == "rtl" and html.get_attribute("dir") == "rtl"
            assert box["right"] > box["width"] - 40, box
        else:
            assert box["direction"] == "ltr" and box["left"] < 40, box
        current = driver.find_element(By.CSS_SELECTOR, ".languages [aria-current=page]")
        assert current.get_attribute("lang") == lang
        shot(driver, SCREENSHOTS, f"education_{item['id']}_{lang}_phone")
    assert any(u.endswith("/education/static/education.css") for u in seen)

    # The switcher leads to the other language.
    follow(driver, driver.find_element(By.CSS_SELECTOR, ".languages a[hreflang=en]"))
    assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"

    # A language the article lacks (Somali): English, and a sentence that says so, first.
    driver.get(f"{practice.url}/education/{item['id']}?lang=so")
    notice = driver.find_element(By.CSS_SELECTOR, "main > .notice")
    assert notice.text == "This article is not available in Somali yet, so it is shown in English."
    assert notice.location["y"] < driver.find_element(By.TAG_NAME, "h1").location["y"]
    assert_fits_the_phone(driver)
    shot(driver, SCREENSHOTS, f"education_{item['id']}_fallback_phone")

    driver.get(f"{practice.url}/education/?lang=ar")  # every article, Arabic first
    assert driver.find_element(By.CSS_SELECTOR, "section.list h2").text == "العربية"
    assert_everything_local(driver, practice, seen)
    assert_fits_the_phone(driver)
    shot(driver, SCREENSHOTS, "education_list_ar_phone")
