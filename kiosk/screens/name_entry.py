"""Shared behaviour of the screens where the patient types a name on the on-screen keyboard."""
from kivy.properties import StringProperty

from kiosk.screens import load_kv_once
from kiosk.screens.base import KioskScreen
from kiosk.widgets.keyboard import BACKSPACE


class NameEntryScreen(KioskScreen):
    prompt = StringProperty("")
    hint = StringProperty("")

    def on_key(self, key: str) -> None:
        entry = self.ids.entry
        if key == BACKSPACE:
            entry.backspace()
        elif key == " " and (not entry.value or entry.value.endswith(" ")):
            return
        else:
            entry.type(key)

    def clear(self) -> None:
        super().clear()
        self.ids.entry.clear()


load_kv_once(__file__)
