"""Big, labelled touch buttons and the label/card building blocks every screen uses."""
from kivy.metrics import dp
from kivy.properties import (AliasProperty, BooleanProperty, ColorProperty, NumericProperty, OptionProperty,
                             StringProperty)
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label

from kiosk.widgets.mirror import MirrorBoxLayout


class KLabel(Label):
    """Wrapping text in the theme font; grows to fit its text so nothing is cut off."""

    role = OptionProperty("body", options=["title", "body", "small", "muted"])
    # Where lines sit: "start" is the left in English and the right in Arabic. Set this, not
    # halign: the class rule's halign follows the language and would undo an instance's.
    align = OptionProperty("start", options=["start", "center", "end"])


class Card(MirrorBoxLayout):
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
    # Size and font come from one kv expression keyed by this role: a kv rule of a subclass
    # that set font_size or height again would race the base rule on every theme change.
    size_role = OptionProperty("action", options=["action", "chrome", "key", "big"])
    # A font for text that is not in the screen's language (a language's own name); ""
    # means the theme's. The class rule reads this so a language switch cannot undo it.
    own_font = StringProperty("")
    font_factor = NumericProperty(1.0)
    min_height = NumericProperty(0)  # set by the kv rule from size_role
    row_height = NumericProperty(0)  # the tallest button of its ActionRow; 0 elsewhere

    def _natural_height(self) -> float:
        # Wrapping buttons grow with their text; one-line buttons keep their set height
        # (and still grow if their font's lines are taller, as Arabic's are).
        return max(self.min_height, self.texture_size[1] + (dp(28) if self.wrap else dp(8)))

    natural_height = AliasProperty(_natural_height, bind=("min_height", "texture_size", "wrap"), cache=True)


class EqualHeights:
    """For a row of buttons: each as tall as the tallest, so one whose text wraps, or is
    drawn in a taller script, does not stand higher than its neighbours."""

    def add_widget(self, widget, *args, **kwargs):
        super().add_widget(widget, *args, **kwargs)
        if isinstance(widget, KioskButton):
            widget.bind(natural_height=self._match_heights)
            self._match_heights()

    def remove_widget(self, widget, *args, **kwargs):
        super().remove_widget(widget, *args, **kwargs)
        if isinstance(widget, KioskButton):
            widget.unbind(natural_height=self._match_heights)
            widget.row_height = 0
            self._match_heights()

    def _match_heights(self, *_args) -> None:
        buttons = [c for c in self.children if isinstance(c, KioskButton)]
        tallest = max((b.natural_height for b in buttons), default=0)
        for button in buttons:
            button.row_height = tallest


class ActionRow(EqualHeights, MirrorBoxLayout):
    """A screen's row of action buttons (mirrored in Arabic)."""

    def on_touch_down(self, touch):
        # A row hidden by opacity (the forms' Back/Next over a keyboard) keeps its buttons,
        # disabled; Kivy lets a disabled button swallow touches, and these lay over the
        # keyboard's bottom row (the left of the space bar did nothing).
        if self.opacity == 0:
            return False
        return super().on_touch_down(touch)


class KeyRow(EqualHeights, BoxLayout):
    """A row of keyboard keys: left to right in every language, like a real keyboard."""


class ChromeButton(KioskButton):
    """A compact button of the top bar (still at least 48 dp high)."""


class LanguageButton(ChromeButton):
    code = StringProperty("")
    big = BooleanProperty(False)  # on the welcome screen: full button size


class KeyboardKey(KioskButton):
    key = StringProperty("")
    role = StringProperty("char")  # "char", "space", "backspace" or "switch"
    caption = StringProperty("")  # shown instead of the key (the switch key's letters)


class KeypadKey(KioskButton):
    key = StringProperty("")
