"""Review contact details: phone, email and address, each with a "Change" button."""
from kivy.properties import StringProperty
from kiosk.widgets.mirror import MirrorBoxLayout

from kiosk.contact_fields import FIELDS
from kiosk.screens.base import KioskScreen


class ContactRow(MirrorBoxLayout):
    field = StringProperty("")
    label_id = StringProperty("")
    value = StringProperty("")


class ReviewContactScreen(KioskScreen):
    licence_text = StringProperty("")  # the licence's differing address, offered ("" hides it)

    def refresh(self) -> None:
        offer = self.journey.step("review_contact").licence_address(self.journey)
        self.licence_text = ", ".join(offer[f] for f in ("street", "city", "state", "postal_code") if f in offer)
        contact = self.journey.session.contact
        rows = self.ids.rows
        rows.clear_widgets()
        for field in FIELDS:
            rows.add_widget(ContactRow(field=field.name, label_id=field.label, value=getattr(contact, field.name) or ""))

    def change(self, field: str) -> None:
        self.app.edit_contact(field)

    def confirm(self) -> None:
        self.journey.complete_step("review_contact")
        self.app.sync()

    def use_licence_address(self) -> None:
        self.journey.step("review_contact").use_licence_address(self.journey)
        self.refresh()

    def keep_address(self) -> None:
        self.journey.step("review_contact").keep_address(self.journey)
        self.refresh()

    def clear(self) -> None:
        super().clear()
        self.licence_text = ""
        self.ids.rows.clear_widgets()
