"""A large on-screen keyboard with layouts for names, email and street addresses.

It only emits keys; the screen decides which EntryField they go to. Accented letters are
not needed to find a patient (matching ignores accents), so the name layout stays simple.

Typed answers in Arabic get the Arabic letters first (the standard Arabic keyboard's rows)
and a key that switches to Latin letters and back, for a medicine's or a place's name.
Names stay Latin: they must match the schedule.
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
    # Arabic punctuation is drawn in the taller Arabic font: kept off the digits' row, which
    # would grow and squeeze the question above at the largest text.
    "text_ar": [DIGITS + ".", "ضصثقفغعهخحجإآ", "شسيبلاتنمكطأ", "ئءؤرىةوزظدذ،؟"],
    "phone": ["123", "456", "789", "0+"],
    "postal": ["123", "456", "789", "0-"],
}
SPACE = " "
BACKSPACE = "\b"
SWITCH = "\x0e"  # to the other letters (never typed)
# The switch key shows a sample of the letters it leads to.
SWITCH_CAPTIONS = {"text": "ABC", "text_ar": "أ ب ت"}
# For typed answers: the letters shown first, and those the switch key leads to ("": none).
_TEXT_LAYOUTS = {"ar": ("text_ar", "text")}


def text_layouts(language: str) -> tuple[str, str]:
    """(first layout, other layout or "") for typed answers in `language`."""
    return _TEXT_LAYOUTS.get(language, ("text", ""))


class OnScreenKeyboard(BoxLayout):
    layout = OptionProperty("name", options=list(LAYOUTS))
    __events__ = ("on_key",)

    def __init__(self, **kwargs):
        self.other_layout = ""  # reached by the switch key; "" = no switch key
        super().__init__(**kwargs)
        self.fbind("layout", self._build)
        self._build()

    def show_layouts(self, first: str, other: str = "") -> None:
        """Show `first`, with a switch key to `other` (if any); the keys are built once."""
        if (first, other) == (self.layout, self.other_layout):
            return
        self.other_layout = other
        if first != self.layout:
            self.layout = first  # rebuilds
        else:
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
        if self.other_layout:
            bottom.add_widget(KeyboardKey(key=SWITCH, role="switch", caption=SWITCH_CAPTIONS[self.other_layout],
                                          size_hint_x=1.5))
        if self.layout not in ("phone", "postal"):
            bottom.add_widget(KeyboardKey(key=SPACE, role="space", size_hint_x=3))
        bottom.add_widget(KeyboardKey(key=BACKSPACE, role="backspace", size_hint_x=1.5))
        self.add_widget(bottom)

    def press(self, key: str) -> None:
        if key == SWITCH:
            self.show_layouts(self.other_layout, self.layout)
            return
        self.dispatch("on_key", key)

    def on_key(self, key):
        pass

    def key_widgets(self) -> dict[str, KioskButton]:
        return {child.key: child for row in self.children for child in row.children}
