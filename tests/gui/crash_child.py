"""Run by test_crash_recovery_gui.py in its own process, as `python -m kiosk` would run.

argv[1] "visit": a patient confirms who they are, then the process waits to be killed
(it prints CONFIRMED first). argv[1] "after": the kiosk starts again; prints one JSON
line with what is on screen and what the outbox holds, then exits.
"""
import json
import sys
import time

from kiosk.__main__ import open_kiosk_store
from kiosk.config import load_config
from kiosk.kivy_setup import configure_kivy
from kiosk.logging_setup import configure_logging

config = load_config(None)
configure_logging(config.log_file, console=False)
configure_kivy(config.data_dir / "kivy", fullscreen=False)

from kiosk import ui_driver as ui  # noqa: E402
from kiosk.app import KioskApp  # noqa: E402
from kiosk.i18n import init_translator  # noqa: E402
from kiosk.store.demo_clinic import DEMO_PATIENTS  # noqa: E402
from tests.gui.patient_steps import identify, mdy  # noqa: E402

init_translator(config.languages, config.default_language)
app = KioskApp(config, store_opener=lambda: open_kiosk_store(config))
app._run_prepare()
ui.pump(5)
if sys.argv[1] == "visit":
    maria = DEMO_PATIENTS["maria"]
    identify(app, "GARCIA LOPEZ", mdy(maria.birth_date))
    ui.tap(app, "yes_me")
    print(f"CONFIRMED {app.manager.current}", flush=True)
    while True:  # mid-visit, her contact details on screen, until the power goes
        ui.pump(1)
        time.sleep(0.05)
events = app.store.outbox_pending(1000)
print(json.dumps({"screen": app.manager.current, "texts": ui.texts(app),
                  "arrivals": sum(e.event_type == "appointment.arrived" for e in events),
                  "in_visit": app.journey.session is not None}))
app.stop()
