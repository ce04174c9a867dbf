"""Birth-date entry as three boxes in the patient's locale order, filled from a keypad.

No tiny date pickers: the patient types digits, the box moves on by itself when full,
and the month is spelled out under its box so 03 is seen to be "March".
"""
from kivy.properties import DictProperty, ListProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from kiosk.i18n import get_translator
from kiosk.i18n_markers import N_

LENGTHS = {"month": 2, "day": 2, "year": 4}
TITLES = {"month": N_("Month"), "day": N_("Day"), "year": N_("Year")}


class DateEntry(BoxLayout):
    order = ListProperty(["month", "day", "year"])
    values = DictProperty({"month": "", "day": "", "year": ""})
    active = StringProperty("month")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._segments = {}
        self.translator = get_translator()
        self.translator.bind(self._refresh)
        self.fbind("order", self._build)
        self.fbind("values", self._refresh)
        self.fbind("active", self._refresh)
        self._build()

    def _build(self, *_):
        self.clear_widgets()
        self._segments = {}
        for part in self.order:
            segment = DateSegment(part=part, title_id=TITLES[part], size_hint_x=1.6 if part == "year" else 1)
            self._segments[part] = segment
            self.add_widget(segment)
        self._refresh()

    def _refresh(self, *_):
        for part, segment in self._segments.items():
            field = segment.ids.field
            field.value = self.values[part]
            field.active = part == self.active
            segment.hint = self._month_hint() if part == "month" else ""

    def _month_hint(self) -> str:
        month = self.values["month"]
        if month.isdigit() and 1 <= int(month) <= 12:
            return self.translator.month_name(int(month))
        return ""

    def type_digit(self, digit: str) -> None:
        part = self.active
        value = self.values[part] + digit
        if len(value) > LENGTHS[part]:
            return
        self.values[part] = value
        if len(value) == LENGTHS[part] or self._cannot_grow(part, value):
            self._move(+1)

    def backspace(self) -> None:
        part = self.active
        if not self.values[part]:
            self._move(-1)
            part = self.active
        self.values[part] = self.values[part][:-1]

    def select(self, part: str) -> None:
        self.active = part

    def clear(self) -> None:
        self.values = {"month": "", "day": "", "year": ""}
        self.active = self.order[0]

    def padded(self) -> tuple[str, str, str]:
        """(year, month, day) as typed, single digits padded: what parse_birth_date takes."""
        v = self.values
        return v["year"], v["month"].zfill(2) if v["month"] else "", v["day"].zfill(2) if v["day"] else ""

    @staticmethod
    def _cannot_grow(part: str, value: str) -> bool:
        # "4" can only be April and "5" only the 5th: move on without a leading zero.
        return (part == "month" and int(value) > 1) or (part == "day" and int(value) > 3)

    def _move(self, step: int) -> None:
        index = self.order.index(self.active) + step
        if 0 <= index < len(self.order):
            self.active = self.order[index]


class DateSegment(BoxLayout):
    part = StringProperty("")
    title_id = StringProperty("")
    hint = StringProperty("")
