"""The camera preview widget in the real window: live picture, guide frame, auto and manual capture."""
from __future__ import annotations

import threading
import time

import cv2
import numpy as np
import pytest

pytestmark = pytest.mark.gui


def pump_until(predicate, timeout: float = 20.0, each=None) -> bool:
    from kiosk import ui_driver

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ui_driver.pump(1)
        if each is not None:
            each()
        if predicate():
            return True
    return predicate()


def worker_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name == "card analysis" or t.name.startswith("camera ")]


def test_preview_guides_captures_retakes_and_releases(app, shot):
    from kivy.core.window import Window

    from hardware.camera import DEMO_REPLAY_DIR, CameraStatus, ReplayCamera
    from hardware.card_capture import DEFAULT_GUIDE, SCENE_CARD_FRONT, SHARPNESS_MIN
    from kiosk.widgets.camera_preview import GUIDE_CAPTURED, GUIDE_WAITING, CameraPreview

    preview = CameraPreview(size_hint=(None, None), size=Window.size, pos=(0, 0))
    camera = ReplayCamera(DEMO_REPLAY_DIR, fps=30, scene=SCENE_CARD_FRONT, startup_delay=0.1)
    captured = []
    preview.bind(on_captured=lambda _w, *args: captured.append(args))
    Window.add_widget(preview)
    try:
        assert tuple(preview._guide_color.rgba) == pytest.approx(GUIDE_WAITING)
        preview.start(camera)
        states, textures, shots = [], set(), []

        def watch():
            states.append(preview.capture_state)
            if preview.texture is not None:
                textures.add(preview.texture)
            if preview.capture_state == "hold_still" and not shots:
                shots.append(shot("camera_preview_hold_still"))

        assert pump_until(lambda: captured, each=watch), f"no capture; states seen: {set(states)}"
        assert "waiting_for_card" in states and "hold_still" in states
        assert preview.capture_state == "captured" and preview.hint == "captured"
        assert preview.camera_status == "running" and preview.frames_shown > 5
        assert len(textures) == 1, "one texture, reused for every frame"
        assert tuple(preview._guide_color.rgba) == pytest.approx(GUIDE_CAPTURED)
        shot("camera_preview_captured")

        jpeg, width, height, sharpness = captured[0]
        image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
        assert image.shape[:2] == (height, width) and width <= 1000 and len(jpeg) < 150_000
        assert sharpness >= SHARPNESS_MIN

        # The guide on screen is the analysis' guide: the picture is letterboxed in the window.
        scale = min(Window.width / 1280, Window.height / 720)
        gx, gy, gw, gh = preview.guide_rect()
        assert gh == pytest.approx(DEFAULT_GUIDE.height_fraction * 720 * scale, rel=0.01)
        assert gx + gw / 2 == pytest.approx(Window.width / 2, abs=1)
        assert gy + gh / 2 == pytest.approx(Window.height / 2, abs=1)

        # The picture taken stays on screen (frozen) until a retake; then it is live again.
        from kiosk import ui_driver

        shown = preview.frames_shown
        ui_driver.pump(10)
        assert preview.frames_shown == shown
        preview.retake()
        assert preview.capture_state == "waiting_for_card"
        assert tuple(preview._guide_color.rgba) == pytest.approx(GUIDE_WAITING)
        assert pump_until(lambda: preview.frames_shown > shown + 2, timeout=5)
        preview.take_photo()
        assert pump_until(lambda: len(captured) == 2, timeout=5), "manual capture"
        assert preview.capture_state == "captured"

        preview.stop()
        assert preview.texture is None and preview.capture_state == "idle"
        assert camera.status is CameraStatus.STOPPED and preview.camera_status == "stopped"
        assert worker_threads() == []
    finally:
        preview.stop()
        Window.remove_widget(preview)


def test_preview_shows_a_missing_camera(app):
    from kivy.core.window import Window

    from hardware.camera import OpenCVCamera
    from kiosk.widgets.camera_preview import CameraPreview

    preview = CameraPreview(size_hint=(None, None), size=Window.size, pos=(0, 0))
    Window.add_widget(preview)
    try:
        preview.start(OpenCVCamera(99))
        assert pump_until(lambda: preview.camera_status == "no_camera", timeout=5)
        assert "/dev/video99" in preview.camera_reason
        assert preview.texture is None and preview.frames_shown == 0
        preview.take_photo()  # nothing to take: no error, no capture
        from kiosk import ui_driver

        ui_driver.pump(5)
        assert preview.capture_state == "waiting_for_card"
    finally:
        preview.stop()
        Window.remove_widget(preview)
    assert worker_threads() == []
