"""The scripted demo tour: real window, real touches, one screenshot per step.

`python -m kiosk --tour DIR` runs it on a throw-away copy of the demo clinic, so it gives
the same pictures every time. File names say the step, never anything about a patient.
"""
from __future__ import annotations

import dataclasses
import logging
import tempfile
from pathlib import Path

from kiosk.config import KioskConfig
from kiosk.store import open_store
from kiosk.store.demo_clinic import DEMO_PATIENTS

log = logging.getLogger(__name__)


class Tour:
    def __init__(self, app, out_dir: Path):
        from kiosk import ui_driver, ui_intake  # Kivy is set up by now

        self.app = app
        self.ui = ui_driver
        self.intake = ui_intake
        self.out_dir = out_dir
        self.count = 0
        self.shots: list[Path] = []

    def shot(self, label: str) -> None:
        self.count += 1
        self.shots.append(self.ui.screenshot(self.out_dir / f"{self.count:02d}-{label}.png"))

    def tap(self, action: str) -> None:
        self.ui.tap(self.app, action)

    def keys(self, text: str) -> None:
        self.ui.type_keys(self.app, text)

    def wait_until(self, condition, timeout: float) -> None:
        self.ui.wait_until(condition, timeout)

    def show_reminder_code(self, patient) -> None:
        """The demo camera now sees this patient's appointment-reminder QR code on a sheet."""
        from hardware.camera import DEMO_REPLAY_DIR, ReplayCamera
        from sync_protocol.checkin_token import demo_checkin_token

        today = self.app.today()
        matches = self.app.store.find_appointments(patient.last_name, patient.birth_date, today)
        match = next(m for m in matches if m.first_name == patient.first_name)
        folder = self.out_dir.parent / f".{self.out_dir.name}-camera"
        write_code_frames(folder, demo_checkin_token(match.appointment_id, day=today))
        self.app.release_card_camera()
        self.app._card_camera = ReplayCamera({"card_front": DEMO_REPLAY_DIR / "card_front",
                                              "card_back": DEMO_REPLAY_DIR / "card_back", "qr_code": folder})

    def identify(self, name_keys: str, date_keys: str, label: str | None = None) -> None:
        """Type a demo patient's last name and birth date; date_keys in the screen's box order."""
        self.tap("check_in")
        self.keys(name_keys)
        if label:
            self.shot(f"{label}-last-name")
        self.tap("next")
        self.keys(date_keys)
        if label:
            self.shot(f"{label}-birth-date")
        self.tap("next")

    def run(self) -> None:
        maria, walter = DEMO_PATIENTS["maria"], DEMO_PATIENTS["walter"]
        mdy = lambda d: f"{d.month:02d}{d.day:02d}{d.year}"  # noqa: E731
        dmy = lambda d: f"{d.day:02d}{d.month:02d}{d.year}"  # noqa: E731

        # 1. A check-in in English, correcting the phone number on the way.
        self.shot("welcome")
        self.identify("GARCIA-LOPEZ", mdy(maria.birth_date), label="en")
        self.shot("en-confirm")
        self.tap("yes_me")
        self.shot("en-review-contact")
        self.tap("change:phone")
        self.keys("\b" * 14 + "5552019876")
        self.shot("en-edit-phone")
        self.tap("save")
        self.tap("contact_ok")
        self.shot("en-card-ask")
        self.intake.photograph_card(self.app, shot=lambda label: self.shot(f"en-{label}"))
        self.intake.sign_consents(self.app, shot=lambda label: self.shot(f"en-{label}"))
        self.intake.pay_copay(self.app, shot=lambda label: self.shot(f"en-{label}"))
        self.intake.fill_forms(self.app, shot=lambda label: self.shot(f"en-{label}"), shots_every=6)
        self.intake.skip_portal(self.app, shot=lambda label: self.shot(f"en-{label}"))
        self.shot("en-done")
        self.tap("finish")

        # 2. The same in Spanish: every text changes, the date boxes go day-month-year.
        self.tap("language:es")
        self.shot("es-welcome")
        self.identify("O'BRIEN", dmy(walter.birth_date), label="es")
        self.shot("es-confirm")
        self.tap("yes_me")
        self.shot("es-review-contact")
        self.tap("contact_ok")
        self.tap("card_none")
        self.intake.sign_consents(self.app, shot=lambda label: self.shot(f"es-{label}"), sign=1)
        self.intake.pay_copay(self.app, shot=lambda label: self.shot(f"es-{label}"), by_card=False)
        # An answer that needs a person (PHQ-9 item 9): staff are alerted, the patient sees calm words.
        self.intake.fill_forms(self.app, choose=lambda page: 1 if page.link_id == "44260-8" else None,
                          shot=lambda label: self.shot(f"es-{label}"), shots_every=10)
        self.intake.skip_portal(self.app)
        self.shot("es-done")
        self.tap("finish")

        # 3. Two patients share last name and birth date: the kiosk asks for the first name.
        jane = DEMO_PATIENTS["jane_smith"]
        self.identify("SMITH", mdy(jane.birth_date))
        self.shot("same-name-first-name")
        self.keys("JANE")
        self.tap("next")
        self.shot("same-name-confirm")
        self.tap("start_over")

        # 4. No match: kind words, the same whatever the reason.
        self.identify("NOBODY", "01011970")
        self.shot("no-match")
        self.tap("finish")

        # 4b. The reminder's QR code held up to the camera: then only the birth date.
        self.show_reminder_code(jane)
        self.tap("scan_code")
        self.shot("qr-scan")
        self.wait_until(lambda: self.app.manager.current == "birth_date", timeout=30)
        self.shot("qr-birth-date")
        self.keys(mdy(jane.birth_date))
        self.tap("next")
        self.shot("qr-confirm")
        self.tap("start_over")

        # 5. Largest text, on every screen of a check-in.
        john = DEMO_PATIENTS["john_smith"]
        self.tap("text_size:2")
        self.shot("large-welcome")
        self.identify("SMITH", mdy(john.birth_date), label="large")
        self.shot("large-first-name")
        self.keys("JOHN")
        self.tap("next")
        self.shot("large-confirm")
        self.tap("yes_me")
        self.shot("large-review-contact")
        self.tap("change:email")
        self.shot("large-edit-email")
        self.tap("cancel")
        self.tap("contact_ok")
        self.shot("large-card-ask")
        self.tap("card_none")
        self.shot("large-consent")
        self.tap("start_over")

        # 6. High contrast (a returning patient who is already checked in).
        self.tap("contrast")
        self.shot("contrast-welcome")
        self.identify("GARCIA LOPEZ", mdy(maria.birth_date), label="contrast")
        self.shot("contrast-confirm")
        self.tap("yes_me")
        self.shot("contrast-already-checked-in")
        self.tap("finish")

        # 7. Walking away: the warning with its countdown, then the wipe.
        self.tap("check_in")
        self.keys("GARCIA")
        self.wait_until(lambda: self.app.warning is not None, timeout=30)
        self.ui.pump(5)
        self.shot("idle-warning")
        self.wait_until(lambda: self.app.journey.session is None, timeout=30)
        self.ui.pump(5)
        self.shot("after-wipe")

        # 8. Other languages and scripts: health education in Arabic (right to left),
        # Chinese and Vietnamese, read aloud with the sentence highlighted.
        for language, article in (("ar", "high-blood-pressure"), ("zh", "flu-shot"), ("vi", "preparing-for-your-visit")):
            self.tap(f"language:{language}")
            self.shot(f"{language}-welcome")
            self.tap("education")
            self.shot(f"{language}-education-list")
            self.tap(f"article:{article}")
            self.tap("read_aloud")
            self.wait_until(lambda: "[u]" in self.app.screen("education").made_part("Reader").ids.text.children[-1].text, 10)
            self.shot(f"{language}-education-read-aloud")
            self.tap("read_aloud")  # pause
            self.tap("education_list")
            self.tap("education_done")

        # 9. The audio-and-keypad mode: a key on the welcome screen turns it on; the focus
        # ring shows what the arrow keys reached (speech goes to the headphone jack).
        from kiosk import audio_keys

        self.ui.press_key(audio_keys.ENTER, frames=4)
        self.shot("audio-mode-welcome")
        self.ui.press_key(audio_keys.DOWN)
        self.ui.press_key(audio_keys.ENTER, frames=4)
        self.shot("audio-mode-scan")
        self.tap("start_over")


def write_code_frames(folder: Path, text: str) -> None:
    """A few 1280x720 camera frames of a printed reminder: the QR code of `text` on a white
    sheet on a table, slightly turned from frame to frame."""
    import cv2
    import numpy as np
    import qrcode

    folder.mkdir(parents=True, exist_ok=True)
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=8, border=4)
    code.add_data(text)
    code.make(fit=True)
    symbol = cv2.cvtColor(np.array(code.make_image().convert("L")), cv2.COLOR_GRAY2BGR)
    for n, angle in enumerate((0.0, 3.0, -2.0)):
        frame = np.full((720, 1280, 3), (60, 90, 120), np.uint8)  # a wooden table
        sheet = np.full((560, 560, 3), 245, np.uint8)
        size = min(460, symbol.shape[0])
        sheet[50:50 + size, 50:50 + size] = cv2.resize(symbol, (size, size), interpolation=cv2.INTER_NEAREST)
        turn = cv2.getRotationMatrix2D((280, 280), angle, 1.0)
        sheet = cv2.warpAffine(sheet, turn, (560, 560), borderValue=(60, 90, 120))
        frame[80:640, 360:920] = sheet
        cv2.imwrite(str(folder / f"{n:02d}.jpg"), frame)


def run_tour(config: KioskConfig, out_dir: Path) -> int:
    """Run the tour on a fresh copy of the demo clinic; exit code 0 when every step worked."""
    with tempfile.TemporaryDirectory(prefix="kiosk-tour-") as scratch:
        scratch_dir = Path(scratch)
        config = dataclasses.replace(
            config,
            data_dir=scratch_dir / "data",
            key_file=scratch_dir / "keys" / "data.key",
            idle_warning_seconds=4,
            idle_countdown_seconds=4,
            speech="espeak:null",  # read-aloud is timed as if heard: a demo box may have no sound card
        )
        store = open_store(config.data_dir, config.key_file)
        from kiosk.app import KioskApp, utc_now

        store.load_demo_clinic(utc_now().astimezone().date())
        app = KioskApp(config, store)
        app._run_prepare()  # build and show the window; we pump the event loop ourselves
        tour = Tour(app, out_dir)
        try:
            tour.run()
        except Exception:
            log.exception("tour.failed", extra={"fields": {"step": tour.count}})
            tour.shot("failed")
            return 1
        finally:
            app.stop()
        print(f"tour: {len(tour.shots)} screenshots in {out_dir}")
        return 0
