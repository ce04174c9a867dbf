"""Consent: read the document in large text, then sign it on its own page (or choose the
front desk instead)."""
from kivy.properties import BooleanProperty, NumericProperty, StringProperty

from kiosk.screens import load_kv_once
from kiosk.screens.base import PagedScreen
from kiosk.widgets.signature_pad import SignaturePad  # noqa: F401 - registers the kv class


class ConsentScreen(PagedScreen):
    title = StringProperty("")
    body = StringProperty("")
    fell_back = BooleanProperty(False)
    number = NumericProperty(0)
    total = NumericProperty(0)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._shown = None

    @property
    def step(self):
        return self.journey.step("consent")

    @property
    def pad(self):
        return self.part("ConsentSignPage").ids.pad

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
            self.show_part(self.part("ConsentReadPage"))
            self.part("ConsentReadPage").ids.scroll.scroll_y = 1

    def to_signing(self) -> None:
        self.notice = ""
        self.show_part(self.part("ConsentSignPage"))

    def to_reading(self) -> None:
        self.notice = ""
        self.show_part(self.part("ConsentReadPage"))

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
        self.show_part(self.part("ConsentReadPage"))


load_kv_once(__file__)
