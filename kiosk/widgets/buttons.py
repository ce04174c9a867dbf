"""Big, labelled touch buttons and the label/card building blocks every screen uses."""
from kivy.properties import BooleanProperty, ColorProperty, OptionProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label


class KLabel(Label):
    """Wrapping text in the theme font; grows to fit its text so nothing is cut off."""

    role = OptionProperty("body", options=["title", "body", "small", "muted"])


class Card(BoxLayout):
    """A raised panel; `bg_color` is what the tests measure text contrast against."""

    bg_color = ColorProperty((1, 1, 1, 1))


class KioskButton(ButtonBehavior, Label):
    kind = OptionProperty("primary", options=["primary", "secondary", "danger", "key"])
    bg_color = ColorProperty((0, 0, 0, 1))
    # A stable name for tests and the tour; never shown, never translated.
    action = StringProperty("")
    # Wrap text to the button's width. A button sized by its text must not wrap, or its
    # width and its text would chase each other forever.
    wrap = BooleanProperty(True)


class ChromeButton(KioskButton):
    """A compact button of the top bar (still at least 48 dp high)."""


class LanguageButton(ChromeButton):
    code = StringProperty("")
    big = BooleanProperty(False)  # on the welcome screen: full button size


class KeyboardKey(KioskButton):
    key = StringProperty("")
    role = StringProperty("char")  # "char", "space" or "backspace"


class KeypadKey(KioskButton):
    key = StringProperty("")
