"""The bar on every screen: language, text size, contrast, and "start over" during a visit.

The clinic name on the left doubles as the hidden staff entry: hold it for 3 seconds.
"""
from kivy.app import App
from kivy.clock import Clock
from kivy.properties import BooleanProperty, ColorProperty, NumericProperty
from kiosk.widgets.mirror import MirrorBoxLayout
from kivy.uix.label import Label

from kiosk.widgets.buttons import LanguageButton

STAFF_HOLD_SECONDS = 3.0


class TopBar(MirrorBoxLayout):
    in_visit = BooleanProperty(False)
    bg_color = ColorProperty((1, 1, 1, 1))

    def show_languages(self, names: dict[str, str], current: str) -> None:
        """One button per language, each in its own language, the current one highlighted."""
        box = self.ids.languages
        box.clear_widgets()
        for code, name in names.items():
            box.add_widget(LanguageButton(code=code, text=name, kind="primary" if code == current else "secondary"))


class StaffCorner(Label):
    """Long press opens the staff PIN screen; a short tap does nothing visible."""

    hold_seconds = NumericProperty(STAFF_HOLD_SECONDS)
    bg_color = ColorProperty((1, 1, 1, 1))

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._hold = None

    def on_touch_down(self, touch):
        if self.collide_point(*touch.pos):
            self._hold = Clock.schedule_once(self._held, self.hold_seconds)
        return super().on_touch_down(touch)

    def on_touch_up(self, touch):
        if self._hold is not None:
            self._hold.cancel()
            self._hold = None
        return super().on_touch_up(touch)

    def _held(self, _dt):
        self._hold = None
        App.get_running_app().open_staff()
