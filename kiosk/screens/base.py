"""What every screen shares: the app it talks to, refresh on show, and clearing PHI."""
from kivy.app import App
from kivy.properties import ColorProperty, StringProperty
from kivy.uix.screenmanager import Screen
from kivy.uix.scrollview import ScrollView


class KioskScreen(Screen):
    bg_color = ColorProperty((1, 1, 1, 1))
    notice = StringProperty("")  # message id shown in the warning banner ("" hides it)

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

    def refresh(self) -> None:
        """Show the journey's current data. Screens that show data override this."""

    def clear(self) -> None:
        """Forget every piece of patient data this screen shows or holds."""
        self.notice = ""
