"""A large on-screen keyboard with layouts for names, email and street addresses.

It only emits keys; the screen decides which EntryField they go to. Accented letters are
not needed to find a patient (matching ignores accents), so the name layout stays simple.
"""
from kivy.properties import OptionProperty
from kivy.uix.boxlayout import BoxLayout

from kiosk.widgets.buttons import KeyboardKey, KioskButton

LETTERS = ["QWERTYUIOP", "ASDFGHJKL", "ZXCVBNM"]
DIGITS = "1234567890"
LAYOUTS = {
    "name": [*LETTERS[:2], LETTERS[2] + "-'"],
    "text": [DIGITS, *LETTERS[:2], LETTERS[2] + "-'.,#"],
    "email": [DIGITS, *LETTERS[:2], LETTERS[2] + "@._-"],
    "phone": ["123", "456", "789", "0+"],
    "postal": ["123", "456", "789", "0-"],
}
SPACE = " "
BACKSPACE = "\b"


class OnScreenKeyboard(BoxLayout):
    layout = OptionProperty("name", options=list(LAYOUTS))
    __events__ = ("on_key",)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.fbind("layout", self._build)
        self._build()

    def _build(self, *_):
        from kivy.factory import Factory

        self.clear_widgets()
        rows = LAYOUTS[self.layout]
        for row in rows:
            line = Factory.KeyRow()
            for char in row:
                char = char.lower() if self.layout == "email" else char
                line.add_widget(KeyboardKey(key=char))
            self.add_widget(line)
        bottom = Factory.KeyRow()
        if self.layout not in ("phone", "postal"):
            bottom.add_widget(KeyboardKey(key=SPACE, role="space", size_hint_x=3))
        bottom.add_widget(KeyboardKey(key=BACKSPACE, role="backspace", size_hint_x=1.5))
        self.add_widget(bottom)

    def press(self, key: str) -> None:
        self.dispatch("on_key", key)

    def on_key(self, key):
        pass

    def key_widgets(self) -> dict[str, KioskButton]:
        return {child.key: child for row in self.children for child in row.children}
