"""Reusable touch widgets. `load_rules()` registers their kv rules (once, after import)."""
from pathlib import Path

from kivy.lang import Builder

_loaded = False


def load_rules() -> None:
    global _loaded
    if not _loaded:
        from kiosk.widgets import buttons, date_entry, entry, idle_warning, keyboard, keypad, mirror, shaping, top_bar  # noqa: F401

        shaping.install()

        Builder.load_file(str(Path(__file__).with_name("widgets.kv")))
        _loaded = True
