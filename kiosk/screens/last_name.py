"""Identify, part 1: the last name."""
from kiosk.i18n_markers import N_
from kiosk.screens.name_entry import NameEntryScreen


class LastNameScreen(NameEntryScreen):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.prompt = N_("What is your last name?")
        self.hint = N_("Type it the way it is on your insurance card. Accents are not needed.")

    def refresh(self) -> None:
        session = self.journey.session
        self.ids.entry.value = session.last_name if session else ""

    def submit(self) -> None:
        self.journey.enter_last_name(self.ids.entry.value)
        self.notice = self.journey.notice
        self.app.sync()

    def back(self) -> None:
        self.app.end_visit("start_over")
