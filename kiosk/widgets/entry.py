"""A display of what the patient typed on the on-screen keyboard (no system keyboard, no IME)."""
from kivy.properties import BooleanProperty, ColorProperty, NumericProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.label import Label


class EntryField(ButtonBehavior, Label):
    value = StringProperty("")
    placeholder = StringProperty("")
    max_length = NumericProperty(40)
    active = BooleanProperty(True)
    bg_color = ColorProperty((1, 1, 1, 1))
    action = StringProperty("")

    def type(self, text: str) -> None:
        room = int(self.max_length) - len(self.value)
        if room > 0:
            self.value += text[:room]

    def backspace(self) -> None:
        self.value = self.value[:-1]

    def clear(self) -> None:
        self.value = ""
