"""Identify, part 3 (only when two patients share last name and birth date): the first name."""
from kiosk.i18n_markers import N_
from kiosk.screens.name_entry import NameEntryScreen


class FirstNameScreen(NameEntryScreen):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.prompt = N_("What is your first name?")
        self.hint = N_("More than one patient has this last name and date of birth.")

    def refresh(self) -> None:
        self.ids.entry.clear()

    def submit(self) -> None:
        self.journey.enter_first_name(self.ids.entry.value)
        self.notice = self.journey.notice
        self.app.sync()

    def back(self) -> None:
        self.journey.back()
        self.app.sync()
