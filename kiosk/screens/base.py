"""What every screen shares: the app it talks to, refresh on show, and clearing PHI."""
from kivy.app import App
from kivy.clock import Clock
from kivy.properties import ColorProperty, ObjectProperty, StringProperty
from kiosk.widgets.mirror import MirrorBoxLayout
from kivy.uix.screenmanager import Screen
from kivy.uix.scrollview import ScrollView


class KioskScreen(Screen):
    bg_color = ColorProperty((1, 1, 1, 1))
    notice = StringProperty("")  # message id shown in the warning banner ("" hides it)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._timers = []

    @property
    def app(self):
        return App.get_running_app()

    @property
    def journey(self):
        return self.app.journey

    def on_pre_enter(self, *_):
        self.notice = ""
        self.refresh()
        for widget in self.walk(restrict=True):
            if isinstance(widget, ScrollView):
                widget.scroll_y = 1  # every screen opens at its top

    def on_leave(self, *_):
        for timer in self._timers:
            timer.cancel()
        self._timers = []

    def after_while_shown(self, seconds: float, action) -> None:
        """Run `action` in `seconds` if this screen is still the one shown then.

        A screen can be left before its on_enter fires (fast taps), so the check happens
        when the timer fires, not only in on_leave.
        """

        def fire(_dt):
            if self.manager is not None and self.manager.current == self.name:
                action()

        self._timers.append(Clock.schedule_once(fire, seconds))

    def refresh(self) -> None:
        """Show the journey's current data. Screens that show data override this."""

    def clear(self) -> None:
        """Forget every piece of patient data this screen shows or holds."""
        self.notice = ""


class ScreenPart(MirrorBoxLayout):
    """A page a screen swaps in and out of itself (a question, a message, a camera view).
    Laid out like Page; `screen` is the owner its buttons call."""

    screen = ObjectProperty(None, allownone=True)


class PagedScreen(KioskScreen):
    """A screen that shows one of several ScreenParts at a time in its `holder` (a question
    or a message; the text or the signature pad; the camera or the photo). Each part is
    made once, from its kv class name, and kept."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._parts: dict[str, ScreenPart] = {}

    def part(self, kv_class: str) -> ScreenPart:
        if kv_class not in self._parts:
            from kivy.factory import Factory

            self._parts[kv_class] = getattr(Factory, kv_class)(screen=self)
        return self._parts[kv_class]

    def made_part(self, kv_class: str) -> ScreenPart | None:
        """The part if it was ever shown (for clearing), without making it."""
        return self._parts.get(kv_class)

    def show_part(self, part: ScreenPart) -> None:
        holder = self.ids.holder
        if part.parent is not holder:
            holder.clear_widgets()
            holder.add_widget(part)
