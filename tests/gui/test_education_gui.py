"""Health education in the real window: lists, pages, reading aloud, the phone link."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
from pyzbar import pyzbar

from kiosk import ui_driver as ui
from kiosk.store.demo_clinic import DEMO_PATIENTS
from tests.gui.patient_steps import check_in_to_review, confirm_contact

pytestmark = pytest.mark.gui


def screen(app):
    return app.screen("education")


def reader(app):
    return screen(app).made_part("Reader")


def open_article(app, article_id="high-blood-pressure"):
    ui.tap(app, "education", frames=4)
    assert app.manager.current == "education"
    if not ui.exists(app, f"article:{article_id}"):
        ui.tap(app, "topic:heart")
    ui.tap(app, f"article:{article_id}", frames=5)
    assert screen(app).article.id == article_id


def paragraphs(app) -> list:
    """The page's paragraph labels, top to bottom."""
    return [w for w in reader(app).ids.text.children[::-1] if hasattr(w, "plain")]


def shown_text(app) -> str:
    return " ".join(label.plain for label in paragraphs(app))


def test_article_pages_through_and_reflows_with_text_size(app, shot):
    open_article(app)
    shot("education-en-page1")
    article = screen(app).article
    pages = len(screen(app).pages)
    assert pages >= 1
    seen = [shown_text(app)]
    while ui.exists(app, "page_next") and not reader(app).last_page:
        ui.tap(app, "page_next", frames=3)
        seen.append(shown_text(app))
    # Every paragraph is shown, once, in order, and no page is empty.
    assert all(seen)
    assert " ".join(seen).replace(" ", "") == "".join(article.paragraphs).replace(" ", "")
    assert "Page {0} of {0}".format(pages) in ui.texts(app)

    ui.tap(app, "text_size:2", frames=6)  # A++: the same article needs more pages
    assert len(screen(app).pages) > pages
    shot("education-en-largest-text")
    for label in paragraphs(app):  # nothing runs off the text area
        assert label.y >= reader(app).ids.text.y - 1


def test_read_aloud_highlights_the_sentence_and_pauses(app, heard):
    open_article(app)
    ui.tap(app, "read_aloud")
    assert reader(app).reading == "speaking"
    ui.wait_until(lambda: any("[u]" in label.text for label in paragraphs(app)), 5)
    highlighted = next(label for label in paragraphs(app) if "[u]" in label.text)
    assert heard.utterances[0].text in highlighted.plain  # the sentence heard is the one marked
    ui.tap(app, "read_aloud")  # Pause
    assert reader(app).reading == "paused"
    count = len(heard.utterances)
    ui.pump(10)
    assert len(heard.utterances) == count
    ui.tap(app, "read_aloud")  # Resume
    rate = app.speaker().rate
    ui.tap(app, "read_faster")
    assert app.speaker().rate > rate
    ui.wait_until(lambda: reader(app).reading == "idle", 30)  # read to the end, page after page
    assert reader(app).last_page
    spoken = " ".join(heard.texts)
    assert screen(app).article.paragraphs[-1].split(".")[0] in spoken


def test_send_to_phone_shows_a_code_of_the_article_link(app, shot):
    open_article(app)
    ui.tap(app, "send_to_phone", frames=4)
    path = shot("education-phone-link")
    image = cv2.imread(str(path))
    codes = pyzbar.decode(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY))
    url = screen(app).article.url
    assert [c.data.decode() for c in codes] == [url]
    assert url.endswith("/education/high-blood-pressure?lang=en")
    ui.tap(app, "phone_close")


def test_arabic_article_reads_right_to_left(app, shot):
    app.switch_language("ar")
    open_article(app)
    assert screen(app).article.language == "ar"
    shot("education-ar-page1")
    label = paragraphs(app)[0]
    assert label.halign == "right"
    # The page's ink sits at the right edge of the text area, as Arabic is read.
    image = np.frombuffer(label.texture.pixels, np.uint8).reshape(label.texture.height, label.texture.width, 4)
    ink = np.nonzero(image[:, :, 3].max(axis=0) > 0)[0]
    assert ink.max() > label.texture.width * 0.9


def test_after_check_in_the_visit_ends_and_the_language_stays(app):
    check_in_to_review(app, "GARCIA LOPEZ", DEMO_PATIENTS["maria"])
    confirm_contact(app)
    assert app.manager.current == "done"
    app.switch_language("es")
    ui.tap(app, "education", frames=4)
    assert app.journey.session is None  # nothing about the patient is kept on screen
    assert app.manager.current == "education" and app.translator.language == "es"
    assert not ui.exists(app, "start_over")
    ui.tap(app, "education_done", frames=3)
    assert app.manager.current == "welcome" and app.translator.language == "en"
