"""Consent: read the document in large text, then sign it on its own page (or choose the
front desk instead)."""
from kivy.factory import Factory
from kivy.properties import BooleanProperty, NumericProperty, StringProperty

from kiosk.screens import load_kv_once
from kiosk.screens.base import KioskScreen
from kiosk.widgets.signature_pad import SignaturePad  # noqa: F401 - registers the kv class


class ConsentScreen(KioskScreen):
    title = StringProperty("")
    body = StringProperty("")
    fell_back = BooleanProperty(False)
    number = NumericProperty(0)
    total = NumericProperty(0)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._read = None
        self._sign = None
        self._shown = None

    @property
    def step(self):
        return self.journey.step("consent")

    @property
    def pad(self):
        return self._sign_page().ids.pad

    def _read_page(self):
        if self._read is None:
            self._read = Factory.ConsentReadPage(screen=self)
        return self._read

    def _sign_page(self):
        if self._sign is None:
            self._sign = Factory.ConsentSignPage(screen=self)
        return self._sign

    def _show(self, page) -> None:
        holder = self.ids.holder
        if page.parent is not holder:
            holder.clear_widgets()
            holder.add_widget(page)

    def refresh(self) -> None:
        journey = self.journey
        if journey is None or journey.session is None or journey.state != "consent":
            return
        shown = self.step.current(journey)
        self.title, self.body, self.fell_back = shown.title, shown.body, shown.fell_back
        self.number, self.total = self.step.progress(journey)
        if shown.document_id != self._shown:  # a new document starts on its text, from the top
            self._shown = shown.document_id
            self.pad.clear()
            self._show(self._read_page())
            self._read_page().ids.scroll.scroll_y = 1

    def to_signing(self) -> None:
        self.notice = ""
        self._show(self._sign_page())

    def to_reading(self) -> None:
        self.notice = ""
        self._show(self._read_page())

    def sign(self) -> None:
        problem = self.step.sign(self.journey, self.pad.signature())
        if problem is not None:
            self.notice = problem.message
            return
        self._next()

    def defer(self) -> None:
        self.step.defer(self.journey)
        self._next()

    def _next(self) -> None:
        self.pad.clear()
        self.notice = ""
        if self.journey.state == "consent":
            self.refresh()
        else:
            self.app.sync()

    def clear(self) -> None:
        super().clear()
        self._shown = None
        self.title = self.body = ""
        self.pad.clear()
        self._show(self._read_page())


load_kv_once(__file__)
