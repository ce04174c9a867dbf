"""Health education: a list of articles (for this visit first, or by topic) and a reader.

The reader shows an article page by page in large text that reflows with the text size
(never a long scroll), can read it aloud with the sentence being read highlighted, and
shows a QR code of the same article for the patient's phone. Nothing about the patient
is on these screens: the visit has ended before they open (see KioskApp.open_education).
"""
from __future__ import annotations

import io
import logging
from functools import lru_cache

from kivy.core.image import Image as CoreImage
from kivy.factory import Factory
from kivy.metrics import dp
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.modalview import ModalView
from kivy.uix.widget import Widget
from kivy.utils import escape_markup, get_hex_from_color

from kiosk.education import Library, library_from_store, paginate, sentences
from kiosk.education.topics import topic_by_id
from kiosk.i18n_markers import N_
from kiosk.screens import load_kv_once
from kiosk.screens.base import PagedScreen, ScreenPart
from kiosk.screens.portal import qr_png
from kiosk.theme import theme
from kiosk.widgets.shaping import ShapingCoreLabel
from kiosk.widgets.tr import tr

log = logging.getLogger(__name__)

DEMO_SITE_URL = "https://clinic.demo.invalid"  # demo mode: a link nobody can open
RATE_STEP = 25  # words per minute per "Slower"/"Faster"
FOR_YOUR_VISIT = "for-your-visit"


@lru_cache(maxsize=1024)
def _text_height(text: str, width: float, font_size: float, font_name: str) -> float:
    """Height of `text` wrapped at `width` (laid out, not drawn). Cached: paging measures
    the same paragraphs again for every page it tries."""
    label = ShapingCoreLabel(text=text, font_size=font_size, font_name=font_name, text_size=(width, None))
    label.resolve_font_name()
    return label.render()[1]


class ArticleList(ScreenPart):
    title = StringProperty("")
    back_action = StringProperty("")  # "" on the first list (Done instead)


class Reader(ScreenPart):
    title = StringProperty("")
    page_label = StringProperty("")
    reading = StringProperty("idle")  # idle / speaking / paused
    first_page = BooleanProperty(True)
    last_page = BooleanProperty(True)
    can_send = BooleanProperty(False)


class PhoneLink(ModalView):
    """The article's QR code: the phone opens the practice's page of the same article."""


class EducationScreen(PagedScreen):
    visit_type = StringProperty("")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.library: Library | None = None
        self.article = None
        self.pages: list[list[str]] = []
        self.page = 0
        self._topic: str | None = None
        self._spans: list[tuple[int, int, int]] = []  # the page's sentences: (piece, start, end)
        self._labels: list = []  # paragraph labels, reused from page to page
        self._spacer = Widget()
        self._layout_key = None

    # -- lists --------------------------------------------------------------------------
    def on_pre_enter(self, *args):
        self.article, self._topic = None, None
        super().on_pre_enter(*args)

    def refresh(self) -> None:
        """On entry, and after a language switch: the same place, in the new language."""
        base = self.app.kiosk_config.server_url or DEMO_SITE_URL
        self.library = library_from_store(self.app.store, base_url=base)
        if self.article is not None:
            self.open_article(self.article.id)
        else:
            self.show_list(self._topic)

    def show_list(self, topic: str | None) -> None:
        """The first list (for this visit, and the topics) or one topic's articles."""
        self.stop_reading()
        self._topic, self.article = topic, None
        language = tr.language
        part = self.part("ArticleList")
        buttons = part.ids.buttons
        buttons.clear_widgets()
        if topic is None:
            part.title = tr._("Health information")
            part.back_action = ""
            for article in self.library.for_visit(self.visit_type or None, language)[:4]:
                buttons.add_widget(self._article_button(article))
            for found in self.library.topics(language):
                button = Factory.KioskButton(kind="secondary", text=tr._(found.label), action=f"topic:{found.id}")
                button.bind(on_release=lambda _b, t=found.id: self.show_list(t))
                buttons.add_widget(button)
        else:
            found = topic_by_id(topic)
            part.title = tr._(found.label) if found else ""
            part.back_action = "education_topics"
            for article in self.library.by_topic(topic, language):
                buttons.add_widget(self._article_button(article))
        self.show_part(part)

    def _article_button(self, article):
        button = Factory.KioskButton(text=article.title, action=f"article:{article.id}")
        button.bind(on_release=lambda _b, a=article.id: self.open_article(a))
        return button

    def list_back(self) -> None:
        self.show_list(None)

    # -- reader ---------------------------------------------------------------------------
    def open_article(self, article_id: str) -> None:
        self.stop_reading()
        self.article = self.library.get(article_id, tr.language, fallback=True)
        if self.article is None:
            log.warning("education.article_missing", extra={"fields": {"article": article_id}})
            return
        reader = self._reader()
        reader.title = self.article.title
        reader.can_send = bool(self.article.url)
        self.page, self.pages, self._layout_key = 0, [], None
        self.show_part(reader)
        self._layout_pages()

    def _reader(self) -> Reader:
        if self.made_part("Reader") is None:
            reader = self.part("Reader")
            # A new size (text size buttons, language, window) cuts the pages again.
            reader.ids.text.bind(size=self._layout_pages)
        return self.part("Reader")

    def _layout_pages(self, *_args) -> None:
        """Cut the article into pages that fit the text area at the current text size."""
        if self.article is None:
            return
        area = self.part("Reader").ids.text
        key = (int(area.width), int(area.height), theme.font_body, theme.font_regular)
        if key == self._layout_key or area.width < dp(100) or area.height < dp(50):
            return
        first_piece = self.pages[self.page][0] if self.pages else None
        self._layout_key = key
        self.pages = paginate(self.article.paragraphs, self._fits, self.article.language)
        # Keep the reader where they were: the page that now holds what was on top.
        self.page = next((i for i, page in enumerate(self.pages) if first_piece in page), 0)
        self.show_page()

    def _fits(self, pieces: list[str]) -> bool:
        area = self.part("Reader").ids.text
        size, font = theme.font_body, theme.font_regular
        height = sum(_text_height(piece, area.width, size, font) for piece in pieces) + theme.gap * (len(pieces) - 1)
        return height <= area.height

    def show_page(self) -> None:
        reader = self.part("Reader")
        pieces = self.pages[self.page] if self.pages else []
        holder = reader.ids.text
        while len(self._labels) < len(pieces):
            self._labels.append(Factory.ReaderParagraph())
        holder.clear_widgets()
        for label, piece in zip(self._labels, pieces):
            label.plain = piece
            label.text = escape_markup(piece)
            holder.add_widget(label)
        holder.add_widget(self._spacer)  # the page's text starts at the top, under the title
        self._spans = [(i, start, end) for i, piece in enumerate(pieces)
                       for start, end in (sentences(piece, self.article.language) or [(0, len(piece))])]
        reader.page_label = tr._("Page {page} of {pages}").format(page=self.page + 1, pages=len(self.pages))
        reader.first_page = self.page == 0
        reader.last_page = self.page >= len(self.pages) - 1

    def turn(self, step: int) -> None:
        target = self.page + step
        if 0 <= target < len(self.pages):
            self.stop_reading()
            self.page = target
            self.show_page()

    # -- reading aloud ----------------------------------------------------------------------
    def read_button(self) -> None:
        """One button: Read aloud / Pause / Resume."""
        speaker = self.app.speaker()
        state = self.part("Reader").reading
        if state == "speaking":
            speaker.pause()
            self.part("Reader").reading = "paused"
        elif state == "paused":
            speaker.resume()
            self.part("Reader").reading = "speaking"
        else:
            self._read_page(speaker)

    def _read_page(self, speaker) -> None:
        pieces = self.pages[self.page]
        texts = [pieces[i][start:end] for i, start, end in self._spans]
        speaker.on_sentence = self._highlight
        speaker.on_finished = self._page_read
        speaker.on_error = self._speech_failed
        self.part("Reader").reading = "speaking"
        speaker.read(texts, self.article.language)

    def _highlight(self, index: int) -> None:
        if self.article is None or not 0 <= index < len(self._spans):
            return
        colour = get_hex_from_color(theme.primary)
        piece_index, start, end = self._spans[index]
        for i, label in enumerate(self._labels[: len(self.pages[self.page])]):
            text = label.plain
            if i == piece_index:
                label.text = (escape_markup(text[:start]) + f"[color={colour}][u]" + escape_markup(text[start:end])
                              + "[/u][/color]" + escape_markup(text[end:]))
            else:
                label.text = escape_markup(text)

    def _page_read(self) -> None:
        reader = self.part("Reader")
        if reader.reading != "speaking":
            return  # stopped or paused by the patient
        if self.page < len(self.pages) - 1:  # like a book read aloud: on to the next page
            self.page += 1
            self.show_page()
            self._read_page(self.app.speaker())
        else:
            reader.reading = "idle"
            self.show_page()

    def _speech_failed(self, _message: str) -> None:
        # The speaker logged what IT should fix; the patient can still read.
        self.part("Reader").reading = "idle"
        self.notice = N_("Reading aloud is not working right now. The text is still here to read.")

    def change_rate(self, step: int) -> None:
        speaker = self.app.speaker()
        speaker.rate = speaker.rate + step * RATE_STEP

    def stop_reading(self) -> None:
        made = self.made_part("Reader")
        if made is not None and made.reading != "idle":
            made.reading = "idle"
            speaker = self.app.speaker()
            speaker.on_finished = speaker.on_sentence = None
            speaker.stop()

    # -- phone --------------------------------------------------------------------------
    def send_to_phone(self) -> None:
        if self.article is None or not self.article.url:
            return
        popup = PhoneLink()
        texture = CoreImage(io.BytesIO(qr_png(self.article.url)), ext="png").texture
        texture.mag_filter = "nearest"
        popup.ids.qr.texture = texture
        popup.open(animation=False)

    # -- leaving ----------------------------------------------------------------------------
    def on_leave(self, *args):
        super().on_leave(*args)
        self.stop_reading()

    def clear(self) -> None:
        super().clear()
        self.stop_reading()
        self.article, self.pages, self._spans = None, [], []
        for label in self._labels:
            label.text = label.plain = ""


load_kv_once(__file__)
