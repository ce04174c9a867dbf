"""A large numeric keypad (phone-style layout: 1-2-3 on top)."""
from kivy.uix.gridlayout import GridLayout

BACKSPACE = "\b"


class Keypad(GridLayout):
    __events__ = ("on_key",)

    def press(self, key: str) -> None:
        self.dispatch("on_key", key)

    def on_key(self, key):
        pass

    def key_widgets(self) -> dict:
        return {child.key: child for child in self.children if getattr(child, "key", "")}
