"""Live camera preview with the card guide frame and automatic capture (issue #5).

    preview = CameraPreview()
    preview.bind(on_captured=lambda w, jpeg, width, height, sharpness: ...)
    preview.start(camera)        # camera.start() too; polls the newest frame every screen frame
    preview.take_photo()         # the patient taps "Take photo"
    preview.retake()             # "Retake": back to waiting for the card
    preview.stop()               # the screen is left: worker joined, camera stopped, texture dropped

The picture goes into one reused Texture (made again only when the frame size changes),
uploaded from the UI thread when a new frame is there. The card analysis (CardCapture)
and the JPEG encoding run on a worker thread that takes the newest frame it can, at most
`analysis_fps` a second; results come back through the Kivy Clock. Nothing is logged
about the pictures.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from functools import partial

from kivy.clock import Clock
from kivy.graphics import Color, Line, Rectangle
from kivy.graphics.texture import Texture
from kivy.metrics import dp
from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.widget import Widget

from hardware.camera import Camera, Frame
from hardware.card_capture import DEFAULT_GUIDE, CardAnalysis, CardCapture, CaptureState, Hint, encode_card_image

log = logging.getLogger(__name__)

IDLE = "idle"  # capture_state before start() and after stop()
DEFAULT_FRAME_SIZE = (1280, 720)  # layout of the guide before the first frame arrives
ANALYSIS_FPS = 15.0  # twice what steadiness needs; leaves the second core to the UI and camera
DIM_OUTSIDE = 0.45  # darkening outside the guide: the eye goes to the frame
# Guide colours over any picture: a bright line on a dark outline, and a different colour
# (and thickness) per stage, so it reads without relying on colour alone.
GUIDE_WAITING = (1.0, 1.0, 1.0, 1.0)  # white: put the card here
GUIDE_DETECTED = (1.0, 0.83, 0.0, 1.0)  # yellow: card seen, hold it still
GUIDE_STEADY = (0.55, 1.0, 0.45, 1.0)  # light green: steady and sharp, about to take it
GUIDE_CAPTURED = (0.1, 0.85, 0.35, 1.0)  # green: done
GUIDE_OUTLINE = (0.0, 0.0, 0.0, 0.85)


class _Analyser(threading.Thread):
    """Feeds the newest frames to CardCapture off the UI thread; reports through callbacks."""

    def __init__(self, camera: Camera, capture: CardCapture, *, analyse: bool, fps: float, generation: int,
                 on_analysis, on_captured):
        super().__init__(name="card analysis", daemon=True)
        self.camera, self.capture = camera, capture
        self.analyse = analyse
        self.interval = 1.0 / fps if fps > 0 else 0.0
        # Every result carries the generation it was made in; the UI drops older ones. A retake
        # comes with a new generation, so nothing from before it gets through.
        self.generation = generation
        self.on_analysis, self.on_captured = on_analysis, on_captured
        self.frames_analysed = 0
        self._halt = threading.Event()
        self._requests: queue.SimpleQueue = queue.SimpleQueue()  # taps, handled in the order made

    def request_manual(self) -> None:
        self._requests.put(("take_photo", None))

    def request_reset(self, generation: int) -> None:
        self._requests.put(("retake", generation))

    def stop(self) -> None:
        self._halt.set()

    def run(self) -> None:
        last_seq, last_at = 0, 0.0
        while not self._halt.is_set():
            self._handle_requests()
            if not self.analyse or self.capture.state is CaptureState.CAPTURED:
                self._halt.wait(0.03)  # idle, but quick to answer a "Take photo" or a retake
                continue
            frame = self.camera.wait_for_frame(last_seq, timeout=0.1)
            if frame is None:
                if not self.camera.running:  # stopped elsewhere: wait_for_frame returns at once
                    self._halt.wait(0.1)
                continue
            last_seq = frame.seq
            wait = last_at + self.interval - time.monotonic()
            if wait > 0:  # throttled: skip to a newer frame after the pause
                self._halt.wait(wait)
                continue
            last_at = time.monotonic()
            analysis = self.capture.feed(frame)
            if analysis is None:
                continue
            self.frames_analysed += 1
            self.on_analysis(self.generation, analysis)
            if self.capture.captured is not None:
                self._deliver(self.capture.captured)

    def _handle_requests(self) -> None:
        while True:
            try:
                request, generation = self._requests.get_nowait()
            except queue.Empty:
                return
            if request == "retake":
                self.generation = generation
                self.capture.reset()
            elif self.capture.state is not CaptureState.CAPTURED:  # take_photo
                frame = self.camera.latest()
                if frame is not None:
                    self._deliver(self.capture.capture_now(frame))

    def _deliver(self, captured) -> None:
        image = encode_card_image(captured.frame, self.capture.guide)
        self.on_captured(self.generation, captured.frame, image.jpeg, image.width, image.height, captured.sharpness,
                         captured.manual)


class CameraPreview(Widget):
    """The camera picture, letterboxed, with the guide frame; auto-captures a card."""

    capture_state = StringProperty(IDLE)  # "idle" or a CaptureState value
    hint = StringProperty("")  # a Hint value ("" when idle)
    card_detected = BooleanProperty(False)  # the last analysis saw a card in the guide
    card_steady = BooleanProperty(False)  # ... steady and sharp (the capture is counting down)
    camera_status = StringProperty("stopped")  # a CameraStatus value
    camera_reason = StringProperty("")  # for IT / staff, never shown to the patient as is
    camera_fps = NumericProperty(0.0)  # frames per second arriving from the camera
    guide = ObjectProperty(DEFAULT_GUIDE)  # the same GuideFrame the analysis uses
    freeze_on_capture = BooleanProperty(True)  # show the picture taken (until retake), not the live one

    __events__ = ("on_captured",)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.camera: Camera | None = None
        self.frames_shown = 0  # textures uploaded since start() (the preview's frame rate)
        self._texture: Texture | None = None
        self._frame_size = DEFAULT_FRAME_SIZE
        self._shown_seq = 0
        self._frozen = False  # showing the captured picture
        self._poll_event = None
        self._analyser: _Analyser | None = None
        self._generation = 0  # results from before a retake/stop are dropped
        self._pending: tuple[int, CardAnalysis] | None = None
        self._pending_lock = threading.Lock()
        self._apply_trigger = Clock.create_trigger(self._apply_analysis, -1)
        with self.canvas:
            Color(0, 0, 0, 1)
            self._background = Rectangle()
            self._picture_color = Color(1, 1, 1, 0)  # hidden until a frame arrives (else Kivy draws white)
            self._picture = Rectangle()
            Color(0, 0, 0, DIM_OUTSIDE)
            self._dims = [Rectangle() for _ in range(4)]
            Color(*GUIDE_OUTLINE)
            self._guide_outline = Line(width=dp(6))
            self._guide_color = Color(*GUIDE_WAITING)
            self._guide_line = Line(width=dp(3))
        self.bind(pos=self._layout, size=self._layout, guide=self._layout,
                  capture_state=self._restyle, card_detected=self._restyle, card_steady=self._restyle)
        self._layout()

    # ------------------------------------------------------------------ public
    @property
    def texture(self) -> Texture | None:
        """The one texture the frames are uploaded into (None when stopped / no picture)."""
        return self._texture

    @property
    def frames_analysed(self) -> int:
        return self._analyser.frames_analysed if self._analyser else 0

    def start(self, camera: Camera, *, analyse: bool = True, analysis_fps: float = ANALYSIS_FPS) -> None:
        """Show `camera` (started here) and, with `analyse`, capture a card automatically."""
        self.stop(release_camera=camera is not self.camera)
        self.camera = camera
        camera.start()
        self.frames_shown = 0
        self._shown_seq = 0
        self._generation += 1
        self.capture_state, self.hint = CaptureState.WAITING_FOR_CARD.value, Hint.PLACE_CARD.value
        self._analyser = _Analyser(camera, CardCapture(self.guide), analyse=analyse, fps=analysis_fps,
                                   generation=self._generation, on_analysis=self._from_worker_analysis,
                                   on_captured=self._from_worker_captured)
        self._analyser.start()
        self._poll_event = Clock.schedule_interval(self._poll, 0)
        log.info("camera_preview.start", extra={"fields": {"camera": camera.description, "auto_capture": analyse}})

    def stop(self, release_camera: bool = True) -> None:
        """Stop polling and analysing, drop the picture; stop the camera unless told not to."""
        self._generation += 1
        if self._poll_event is not None:
            self._poll_event.cancel()
            self._poll_event = None
        analyser, self._analyser = self._analyser, None
        if analyser is not None:
            analyser.stop()
            analyser.join(2.0)
        if release_camera and self.camera is not None:
            self.camera.stop()
        if release_camera:
            self.camera = None
        self._clear_picture()  # the last picture of a card goes with it
        with self._pending_lock:
            self._pending = None
        self.capture_state, self.hint = IDLE, ""
        self.card_detected = self.card_steady = False
        self.camera_status, self.camera_reason, self.camera_fps = "stopped", "", 0.0

    def take_photo(self) -> None:
        """Capture the current picture now, whatever the checks say (on_captured follows)."""
        if self._analyser is not None and self.capture_state != CaptureState.CAPTURED.value:
            self._analyser.request_manual()

    def retake(self) -> None:
        """Forget the captured picture and wait for the card again."""
        if self._analyser is None:
            return
        self._generation += 1
        self._analyser.request_reset(self._generation)
        self._frozen = False
        with self._pending_lock:
            self._pending = None
        self.capture_state, self.hint = CaptureState.WAITING_FOR_CARD.value, Hint.PLACE_CARD.value
        self.card_detected = self.card_steady = False

    def on_captured(self, jpeg: bytes, width: int, height: int, sharpness: float) -> None:
        """Event: the card picture as JPEG (cropped to the guide, at most 1000 px wide)."""

    # ------------------------------------------------------------------ UI thread
    def _poll(self, _dt) -> None:
        camera = self.camera
        if camera is None:
            return
        status, reason = camera.status.value, camera.reason
        if (status, reason) != (self.camera_status, self.camera_reason):
            self.camera_status, self.camera_reason = status, reason
        frame = camera.latest()
        if frame is None:
            if self._texture is not None and status != "running":
                self._clear_picture()  # no frozen picture of a camera that is gone
            return
        if frame.seq == self._shown_seq or self._frozen:
            return
        self._show(frame)
        if self.frames_shown % 15 == 0:
            self.camera_fps = round(camera.fps, 1)

    def _show(self, frame: Frame) -> None:
        self._shown_seq = frame.seq
        size = (frame.width, frame.height)
        if self._texture is None or self._texture.size != size:
            self._texture = Texture.create(size=size, colorfmt="bgr", bufferfmt="ubyte")
            self._texture.flip_vertical()  # OpenCV rows run top-down, GL's bottom-up
            self._frame_size = size
            self._layout()
        self._texture.blit_buffer(frame.image.reshape(-1), colorfmt="bgr", bufferfmt="ubyte")
        if self._picture.texture is not self._texture:
            self._picture.texture = self._texture
            self._picture_color.a = 1
        self.canvas.ask_update()
        self.frames_shown += 1

    def _clear_picture(self) -> None:
        self._frozen = False
        self._texture = None
        self._picture.texture = None
        self._picture_color.a = 0
        self._shown_seq = 0

    def _apply_analysis(self, _dt) -> None:
        with self._pending_lock:
            pending, self._pending = self._pending, None
        if pending is None or pending[0] != self._generation:
            return
        pending = pending[1]
        if self.capture_state == CaptureState.CAPTURED.value:
            return  # a late analysis must not undo the capture shown on screen
        self.capture_state, self.hint = pending.state.value, pending.hint.value
        self.card_detected = pending.present
        self.card_steady = pending.placed and pending.steady and pending.sharp

    def _captured_on_ui(self, generation: int, frame: Frame, jpeg: bytes, width: int, height: int,
                        sharpness: float, manual: bool, _dt) -> None:
        if generation != self._generation:
            return  # retaken or stopped meanwhile
        if self.freeze_on_capture:
            self._frozen = True
            self._show(frame)  # the very picture that was taken
        self.capture_state, self.hint = CaptureState.CAPTURED.value, Hint.CAPTURED.value
        self.card_detected, self.card_steady = True, True
        log.info("camera_preview.captured",
                 extra={"fields": {"manual": manual, "width": width, "height": height, "bytes": len(jpeg),
                                   "sharpness": round(sharpness)}})
        self.dispatch("on_captured", jpeg, width, height, sharpness)

    # ------------------------------------------------------------------ worker thread
    def _from_worker_analysis(self, generation: int, analysis: CardAnalysis) -> None:
        if generation != self._generation:
            return
        with self._pending_lock:
            self._pending = (generation, analysis)  # only the newest matters: one UI update per frame
        self._apply_trigger()

    def _from_worker_captured(self, generation: int, frame: Frame, jpeg: bytes, width: int, height: int,
                              sharpness: float, manual: bool) -> None:
        Clock.schedule_once(partial(self._captured_on_ui, generation, frame, jpeg, width, height, sharpness,
                                    manual), -1)

    # ------------------------------------------------------------------ drawing
    def _picture_box(self) -> tuple[float, float, float, float]:
        fw, fh = self._frame_size
        scale = min(self.width / fw, self.height / fh) if fw and fh else 0
        w, h = fw * scale, fh * scale
        return self.x + (self.width - w) / 2, self.y + (self.height - h) / 2, w, h

    def guide_rect(self) -> tuple[float, float, float, float]:
        """The guide frame in window coordinates (x, y, w, h; Kivy's bottom-left origin)."""
        px, py, pw, ph = self._picture_box()
        fx, fy, fw, fh = self.guide.fractions(*self._frame_size)
        return px + fx * pw, py + ph - (fy + fh) * ph, fw * pw, fh * ph

    def _layout(self, *_) -> None:
        px, py, pw, ph = self._picture_box()
        self._background.pos, self._background.size = self.pos, self.size
        self._picture.pos, self._picture.size = (px, py), (pw, ph)
        gx, gy, gw, gh = self.guide_rect()
        below, above = (px, py, pw, gy - py), (px, gy + gh, pw, py + ph - gy - gh)
        left, right = (px, gy, gx - px, gh), (gx + gw, gy, px + pw - gx - gw, gh)
        for rect, (x, y, w, h) in zip(self._dims, (below, above, left, right)):
            rect.pos, rect.size = (x, y), (max(w, 0), max(h, 0))
        radius = min(gw, gh) * 0.06  # ID-1 corners are rounded; so is the guide
        shape = (gx, gy, gw, gh, radius)
        self._guide_outline.rounded_rectangle = shape
        self._guide_line.rounded_rectangle = shape

    def _restyle(self, *_) -> None:
        if self.capture_state == CaptureState.CAPTURED.value:
            colour, width = GUIDE_CAPTURED, dp(5)
        elif self.card_steady:
            colour, width = GUIDE_STEADY, dp(4)
        elif self.card_detected:
            colour, width = GUIDE_DETECTED, dp(4)
        else:
            colour, width = GUIDE_WAITING, dp(3)
        self._guide_color.rgba = colour
        self._guide_line.width = width
        self._guide_outline.width = width + dp(3)
