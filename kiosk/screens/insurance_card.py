"""Insurance card: ask, photograph front and back with automatic capture, review, keep.

The camera runs only while this screen shows a preview; leaving the screen (or the wipe)
stops it and drops the picture.
"""
from __future__ import annotations

import io
import logging

from kivy.core.image import Image as CoreImage
from kivy.properties import StringProperty

from kiosk.i18n_markers import N_
from kiosk.screens import load_kv_once
from kiosk.screens.base import PagedScreen
from kiosk.steps.insurance_card import ASK, CAPTURE, REVIEW, CardPhoto
from kiosk.widgets.camera_preview import CameraPreview

log = logging.getLogger(__name__)

# What the patient reads for each hint of the card analysis (hardware.card_capture.Hint).
HINTS = {
    "place_card": N_("Hold your card inside the frame."),
    "move_closer": N_("Move the card closer to the camera."),
    "center_card": N_("Move the card to the middle of the frame."),
    "too_dark": N_("The picture is too dark. Hold the card toward the light."),
    "too_much_glare": N_("There is a glare on the card. Tilt it a little."),
    "hold_still": N_("Hold still..."),
    "captured": N_("Got it."),
}
CAMERA_DOWN = ("no_camera", "failed")


class InsuranceCardScreen(PagedScreen):
    side = StringProperty("front")
    hint_text = StringProperty("")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._preview: CameraPreview | None = None
        self._manual = False

    @property
    def step(self):
        return self.journey.step("insurance_card")

    # -- showing ---------------------------------------------------------------------
    def refresh(self) -> None:
        journey = self.journey
        if journey is None or journey.session is None or journey.state != "insurance_card":
            return
        state = self.step.state(journey)
        self.side = state.side
        if state.phase == ASK:
            self._stop_camera()
            self.show_part(self.part("CardAskPage"))
        elif state.phase == CAPTURE:
            self.show_part(self.part("CardCapturePage"))
            self._start_camera()
        elif state.phase == REVIEW:
            self._stop_camera(release=False)  # the next side follows: keep the camera warm
            page = self.part("CardReviewPage")
            image = CoreImage(io.BytesIO(state.photo.jpeg), ext="jpg")
            page.ids.photo.texture = image.texture
            self.show_part(page)

    def _start_camera(self) -> None:
        if self._preview is None:
            self._preview = CameraPreview()
            self._preview.bind(on_captured=self._captured, hint=self._hint, camera_status=self._camera_status)
            self.part("CardCapturePage").ids.preview_box.add_widget(self._preview)
        self._manual = False
        self.hint_text = HINTS["place_card"]
        camera = self.app.card_camera()
        camera.cue(f"card_{self.side}")  # the replay camera "turns the card over"; a real one ignores it
        if self._preview_running():
            self._preview.retake()
        else:
            self._preview.start(camera)

    def _preview_running(self) -> bool:
        return self._preview is not None and self._preview.capture_state != "idle"

    def _stop_camera(self, release: bool = True) -> None:
        if self._preview is not None and self._preview_running():
            self._preview.stop(release_camera=release)
        elif release:
            # Kept warm between the sides (preview idle, camera on): off now. The camera
            # must never run once the patient has left this screen.
            self.app.release_card_camera()

    def _hint(self, _preview, hint: str) -> None:
        self.hint_text = HINTS.get(hint, "")

    def _camera_status(self, _preview, status: str) -> None:
        if status in CAMERA_DOWN and self.journey.state == "insurance_card":
            # IT reads why in the log; the patient is sent to the desk in plain words.
            log.warning("camera.unavailable", extra={"fields": {"status": status, "reason": self._preview.camera_reason}})
            self._stop_camera()
            self.show_part(self.part("CardNoCameraPage"))

    # -- the patient's touches -----------------------------------------------------------
    def start_photos(self) -> None:
        self.step.start_photos(self.journey)
        self.refresh()

    def take_photo(self) -> None:
        if self._preview is not None:
            self._manual = True
            self._preview.take_photo()

    def _captured(self, _preview, jpeg: bytes, width: int, height: int, sharpness: float) -> None:
        if self.journey is None or self.journey.session is None or self.journey.state != "insurance_card":
            return
        photo = CardPhoto(jpeg, width, height, sharpness, "manual" if self._manual else "auto")
        self.step.captured(self.journey, photo)
        self.refresh()

    def retake(self) -> None:
        self.step.retake(self.journey)
        self.refresh()

    def keep(self) -> None:
        self.step.keep(self.journey)
        self._after_move()

    def skip(self, reason: str = "no_card") -> None:
        self.step.skip(self.journey, reason)
        self._after_move()

    def _after_move(self) -> None:
        if self.journey.state == "insurance_card":
            self.refresh()
        else:
            self._stop_camera()
            self.app.sync()

    def on_leave(self, *args):
        super().on_leave(*args)
        self._stop_camera()

    def clear(self) -> None:
        super().clear()
        self._stop_camera()
        review = self.made_part("CardReviewPage")
        if review is not None:
            review.ids.photo.texture = None
        self.hint_text = ""


load_kv_once(__file__)
