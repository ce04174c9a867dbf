"""Scan to check in: the camera's picture; a reminder QR code or a licence's PDF417 is read
on a worker thread and handed to the journey on the UI thread."""
from __future__ import annotations

import logging
from functools import partial

from kivy.clock import Clock

from kiosk.i18n_markers import N_
from kiosk.scanned_codes import checkin_keys, read_scanned, site_of, use_scanned
from kiosk.screens import load_kv_once
from kiosk.screens.base import KioskScreen
from kiosk.widgets.camera_preview import CameraPreview

log = logging.getLogger(__name__)
SCENE = "qr_code"  # what the replay camera shows here (a real camera ignores it)
CAMERA_DOWN = N_("The camera is not working right now. Please touch \"Type my name instead\".")


class ScanScreen(KioskScreen):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._preview: CameraPreview | None = None
        self._scanner = None

    def on_enter(self, *_):
        self._start()

    def on_leave(self, *args):
        super().on_leave(*args)
        self._stop()

    def _start(self) -> None:
        from hardware.scanner import Scanner

        if self._preview is None:
            self._preview = CameraPreview()
            self._preview.bind(camera_status=self._camera_status)
            self.ids.preview_box.add_widget(self._preview)
        camera = self.app.card_camera()
        camera.cue(SCENE)
        self._preview.start(camera, analyse=False)  # the picture only; the scanner reads it
        self._scanner = Scanner(camera, lambda decoded: Clock.schedule_once(partial(self._decoded, decoded.text)))
        self._scanner.start()

    def _stop(self) -> None:
        if self._scanner is not None:
            self._scanner.stop()
            self._scanner = None
        if self._preview is not None and self._preview.capture_state != "idle":
            self._preview.stop(release_camera=True)
        else:
            self.app.release_card_camera()

    def _camera_status(self, _preview, status: str) -> None:
        if status in ("no_camera", "failed") and self.journey is not None and self.journey.state == "scan":
            # IT reads why in the log; the patient types their name instead.
            log.warning("camera.unavailable", extra={"fields": {"status": status, "reason": self._preview.camera_reason}})
            self.notice = CAMERA_DOWN

    def _decoded(self, text: str, _dt) -> None:
        journey = self.journey
        if journey is None or journey.session is None or journey.state != "scan":
            return  # a late read after the patient moved on
        app = self.app
        scanned = read_scanned(text, keys=checkin_keys(app.kiosk_config, app.store), site_id=site_of(app.kiosk_config),
                               now=app.clock())
        use_scanned(journey, scanned, app.today())
        if journey.state == "scan":
            self.notice = journey.notice
        else:
            app.sync()

    def type_instead(self) -> None:
        self.journey.back()
        self.app.sync()

    def clear(self) -> None:
        super().clear()
        self._stop()


load_kv_once(__file__)
