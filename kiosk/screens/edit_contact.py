"""Change one contact field with the on-screen keyboard; saved (and queued for sync) on Save."""
from kivy.properties import StringProperty

from kiosk.contact_fields import FIELD_BY_NAME, InvalidField
from kiosk.screens.base import KioskScreen
from kiosk.widgets.keyboard import BACKSPACE


class EditContactScreen(KioskScreen):
    field = StringProperty("phone")
    label_id = StringProperty("")
    layout = StringProperty("text")

    def start(self, field: str) -> None:
        spec = FIELD_BY_NAME[field]
        self.field, self.label_id, self.layout = field, spec.label, spec.keyboard
        self.ids.entry.max_length = spec.max_length
        self.ids.entry.value = getattr(self.journey.session.contact, field) or ""
        self.notice = ""

    def on_pre_enter(self, *_):
        pass  # keep what start() put in

    def on_key(self, key: str) -> None:
        if key == BACKSPACE:
            self.ids.entry.backspace()
        else:
            self.ids.entry.type(key)

    def save(self) -> None:
        step = self.journey.step("review_contact")
        try:
            step.save_field(self.journey, self.field, self.ids.entry.value)
        except InvalidField as problem:
            self.notice = problem.message
            return
        self.app.show("review_contact")

    def cancel(self) -> None:
        self.app.show("review_contact")

    def clear(self) -> None:
        super().clear()
        self.ids.entry.clear()
