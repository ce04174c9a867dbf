"""Child process of bench_startup.py: start an app, report its first frame, exit.

    python bench/_startup_child.py hello    a bare Kivy app whose root is one Label
    python bench/_startup_child.py kiosk    the kiosk, started the way kiosk/__main__.py does

When the first frame with the root on screen (kiosk: the welcome screen current) has
been swapped to the window, prints one line ``FIRST_FRAME <CLOCK_MONOTONIC ns>`` to
stdout and exits at once. CLOCK_MONOTONIC is system-wide, so the parent can subtract
its own reading taken just before the spawn. No kiosk code is changed: the hook is a
Window.on_flip binding made here.

The kiosk reads KIOSK_DATA_DIR / KIOSK_KEY_FILE (set by the parent) and runs windowed
(1280x800, as with --windowed); the hello app uses the same window size and a private
KIVY_HOME (from the environment, set by the parent).
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

MARKER = "FIRST_FRAME"


def _report_when(window, ready, on_exit=None) -> None:
    """On the first on_flip where ready() holds: swap the buffers, print the time, run
    on_exit (which may print more marks), exit."""

    def on_flip(*_args):
        if not ready():
            return False  # let Kivy flip this (earlier) frame as usual
        window.flip()  # the swap the default handler would do; the frame is now on screen
        stamp = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
        sys.stdout.write(f"{MARKER} {stamp}\n")
        sys.stdout.flush()
        if on_exit is not None:
            on_exit()
        os._exit(0)

    window.bind(on_flip=on_flip)


def run_hello() -> None:
    os.environ["KIVY_NO_ARGS"] = "1"
    from kivy.config import Config

    Config.set("graphics", "fullscreen", "0")
    Config.set("graphics", "multisamples", "0")  # the kiosk's setting: same GL work for both
    Config.set("graphics", "width", "1280")
    Config.set("graphics", "height", "800")

    from kivy.app import App
    from kivy.core.window import Window
    from kivy.uix.label import Label

    class HelloApp(App):
        def build(self):
            return Label(text="Hello")

    app = HelloApp()
    _report_when(Window, lambda: app.root is not None and app.root.parent is Window)
    app.run()


def run_kiosk() -> int:
    # What kiosk/__main__.py main() does (demo config, --windowed), plus the frame hook.
    from kiosk.config import load_config
    from kiosk.logging_setup import configure_logging

    config = load_config(None)
    configure_logging(config.log_file, config.log_level)

    from kiosk.kivy_setup import configure_kivy

    configure_kivy(config.data_dir / "kivy", fullscreen=False)

    from kiosk.i18n import init_translator

    init_translator(config.languages, config.default_language)
    from kiosk.app import KioskApp
    from kivy.core.window import Window

    from kiosk.__main__ import open_kiosk_store

    app = KioskApp(config, store_opener=lambda: open_kiosk_store(config))

    def ready() -> bool:
        root = app.root
        manager = getattr(app, "manager", None)
        return root is not None and root.parent is Window and manager is not None and manager.current == "welcome"

    def open_then_close_store():
        # What the app does right after its first frame: open the database (timed as READY),
        # then close it so the next start finds no WAL to recover.
        app.ensure_store()
        sys.stdout.write(f"READY {time.clock_gettime_ns(time.CLOCK_MONOTONIC)}\n")
        sys.stdout.flush()
        app.store.close()

    _report_when(Window, ready, on_exit=open_then_close_store)
    app.run()
    return 0


if __name__ == "__main__":
    mode = sys.argv[1] if len(sys.argv) > 1 else ""
    if mode == "hello":
        run_hello()
    elif mode == "kiosk":
        run_kiosk()
    else:
        sys.exit("usage: _startup_child.py hello|kiosk")
    sys.exit("startup child: the app stopped before its first frame")
