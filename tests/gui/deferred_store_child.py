"""Run by test_start_up.py in its own process: the kiosk as `python -m kiosk` starts it.

argv[1]: "ok" (normal start) or "bad-key" (the key file is world-readable, so the store
refuses it). Prints one JSON line describing what a person would see, then exits.
"""
import json
import os
import sys
from pathlib import Path

from kiosk.__main__ import open_kiosk_store
from kiosk.config import load_config
from kiosk.kivy_setup import configure_kivy
from kiosk.logging_setup import configure_logging

config = load_config(None)
configure_logging(config.log_file, console=False)
configure_kivy(config.data_dir / "kivy", fullscreen=False)
if sys.argv[1] == "bad-key":
    config.key_file.parent.mkdir(parents=True, exist_ok=True)
    config.key_file.write_text("not a key\n")
    os.chmod(config.key_file, 0o644)

from kiosk import ui_driver as ui  # noqa: E402
from kiosk.app import KioskApp  # noqa: E402
from kiosk.i18n import init_translator  # noqa: E402

init_translator(config.languages, config.default_language)
app = KioskApp(config, store_opener=lambda: open_kiosk_store(config))
app._run_prepare()
first_screen = app.manager.current
store_open_at_first_frame = app.store is not None
ui.pump(5)
seen = {"first_screen": first_screen, "store_open_at_first_frame": store_open_at_first_frame,
        "store_open": app.store is not None, "screen_after": app.manager.current}
if app.store is not None:
    ui.tap(app, "check_in")
    seen["after_check_in"] = app.manager.current
    seen["outbox_pending"] = app.store.status().outbox_pending
seen["log"] = Path(config.log_file).read_text()
print(json.dumps(seen))
app.stop()
