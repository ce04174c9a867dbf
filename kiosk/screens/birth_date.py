"""Identify, part 2: the birth date, typed on a large keypad into boxes in locale order."""
from kiosk.birth_date import parse_birth_date
from kiosk.contact_fields import InvalidField
from kiosk.screens.base import KioskScreen
from kiosk.widgets.keypad import BACKSPACE


class BirthDateScreen(KioskScreen):
    def refresh(self) -> None:
        self.ids.date.order = list(self.app.translator.date_field_order())
        session = self.journey.session
        if session and session.birth_date:
            born = session.birth_date
            self.ids.date.values = {"year": str(born.year), "month": f"{born.month:02d}", "day": f"{born.day:02d}"}
        else:
            self.ids.date.clear()

    def on_key(self, key: str) -> None:
        if key == BACKSPACE:
            self.ids.date.backspace()
        else:
            self.ids.date.type_digit(key)

    def submit(self) -> None:
        year, month, day = self.ids.date.padded()
        try:
            born = parse_birth_date(year, month, day, today=self.app.today())
        except InvalidField as problem:
            self.notice = problem.message
            return
        self.journey.enter_birth_date(born)
        self.app.sync()

    def back(self) -> None:
        self.journey.back()
        self.app.sync()

    def clear(self) -> None:
        super().clear()
        self.ids.date.clear()
