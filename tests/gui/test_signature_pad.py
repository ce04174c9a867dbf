"""The signature pad in the real window: strokes drawn with touches, kept, cleared, bounded."""
from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
from kivy.tests.common import UnitTestTouch
from kivy.uix.screenmanager import Screen

from kiosk import ui_driver as ui
from kiosk.signature import check_signature, render_png
from kiosk.theme import TEXT_STEPS, theme
from kiosk.widgets.signature_pad import POINTS_PER_LINE, SignaturePad

pytestmark = pytest.mark.gui
TOLERANCE = 2.0  # px: a UnitTestTouch goes through the window's 0..1 coordinates and back


@pytest.fixture
def pad(app):
    """A SignaturePad on a throwaway screen of the running app, removed afterwards."""
    screen = Screen(name="signature_pad_test")
    widget = SignaturePad(size_hint=(0.8, 0.45), pos_hint={"center_x": 0.5, "center_y": 0.5},
                          hint="Sign above the line", action="signature")
    screen.add_widget(widget)
    app.manager.add_widget(screen)
    app.manager.current = screen.name
    ui.pump(3)
    changes = []
    widget.bind(on_signature_changed=lambda *_: changes.append(len(widget.signature().strokes)))
    widget.changes = changes
    yield widget
    app.manager.current = "welcome"
    app.manager.remove_widget(screen)
    ui.pump(2)


def _window(pad, point):
    """Pad coordinates (origin top left, y down) -> window coordinates."""
    return pad.to_window(pad.x + point[0], pad.top - point[1])


def _draw(pad, points, **profile) -> UnitTestTouch:
    touch = _press(pad, points[0], **profile)
    for point in points[1:]:
        touch.touch_move(*_window(pad, point))
    touch.touch_up()
    ui.pump(1)
    return touch


def _press(pad, point, button=None) -> UnitTestTouch:
    touch = UnitTestTouch(*_window(pad, point))
    if button:  # as Kivy's mouse provider marks its touches
        touch.profile = ["pos", "button"]
        touch.button = button
    touch.touch_down()
    return touch


def _name(pad, steps=120):
    """A handwritten-looking name across the middle of the pad: slanted loops, left to right."""
    w, h = pad.width, pad.height
    points = []
    for i in range(steps + 1):
        t = i / steps
        a = 2 * math.pi * 6 * t
        x = w * (0.1 + 0.7 * t) - 0.05 * w * math.sin(a)
        y = h * (0.62 - 0.22 * (1 - math.cos(a)) * (0.8 + 0.2 * math.sin(5 * t)))
        points.append((x, y))
    return points


def _close(a, b) -> bool:
    return abs(a[0] - b[0]) <= TOLERANCE and abs(a[1] - b[1]) <= TOLERANCE


def test_finger_strokes_become_the_signature_in_pad_coordinates(pad, shot):
    assert pad.is_empty and pad.signature().is_empty
    name = _name(pad)
    _draw(pad, name)
    assert not pad.is_empty
    underline = [(pad.width * 0.15, pad.height * 0.8), (pad.width * 0.5, pad.height * 0.78),
                 (pad.width * 0.85, pad.height * 0.82)]
    _draw(pad, underline)
    dot = (pad.width * 0.9, pad.height * 0.2)
    _draw(pad, [dot])  # a tap: the dot of an i
    signature = pad.signature()
    assert (signature.width, signature.height) == (pad.width, pad.height)
    assert len(signature.strokes) == 3 and pad.changes == [1, 2, 3]
    first, second, third = signature.strokes
    assert len(third) == 1 and _close(third[0], dot)
    assert len(first) > 0.9 * len(name), "points were lost"
    assert _close(first[0], name[0]) and _close(first[-1], name[-1])
    assert all(_close(a, b) for a, b in zip(second, underline))
    # y grows downwards: the underline is below the name, so the PNG is the right way up.
    assert min(y for _, y in second) > max(y for _, y in first) - TOLERANCE
    assert check_signature(signature) is None
    image = cv2.imdecode(np.frombuffer(render_png(signature), np.uint8), cv2.IMREAD_UNCHANGED)
    dark_rows = np.flatnonzero((image < 128).any(axis=1))
    assert dark_rows[-1] - dark_rows[0] > 100
    screen = cv2.imread(str(shot("signature-pad-signed")), cv2.IMREAD_GRAYSCALE)
    for x, y in (dot, name[0], underline[1]):  # ink on the screen where the finger went
        wx, wy = _window(pad, (x, y))
        assert screen[round(screen.shape[0] - wy), round(wx)] < 100, f"no ink at {x:.0f},{y:.0f}"
    wx, wy = _window(pad, (pad.width * 0.95, pad.height * 0.05))
    assert screen[round(screen.shape[0] - wy), round(wx)] > 240, "paper is white"

    pad.clear()
    ui.pump(1)
    assert pad.is_empty and pad.signature().is_empty and pad.changes[-1] == 0
    assert len(pad._ink.children) == 0, "the ink was not wiped from the screen"
    shot("signature-pad-cleared")


def test_a_long_stroke_appends_without_redrawing_what_is_drawn(pad):
    points = [(pad.width * (0.05 + 0.9 * i / 300), pad.height * (0.5 + 0.3 * math.sin(i / 7))) for i in range(301)]
    touch = _press(pad, points[0])
    for point in points[1:20]:
        touch.touch_move(*_window(pad, point))
    first_line = pad._lines[0]
    for point in points[20:]:
        touch.touch_move(*_window(pad, point))
    touch.touch_up()
    lines = [child for child in pad._ink.children if type(child).__name__ == "Line"]
    assert len(lines) >= 300 // POINTS_PER_LINE and lines[0] is first_line
    assert all(len(line.points) <= 2 * (POINTS_PER_LINE + 1) for line in lines)
    assert len(pad.signature().strokes) == 1 and len(pad.signature().strokes[0]) > 290


def test_strokes_stay_inside_and_stray_touches_are_ignored(pad):
    # A stroke that runs off the right and top edges is held at the border.
    _draw(pad, [(pad.width * 0.5, pad.height * 0.5), (pad.width + 80, -60)])
    (stroke,) = pad.signature().strokes
    assert all(0 <= x <= pad.width and 0 <= y <= pad.height for x, y in stroke)
    assert stroke[-1][0] > pad.width - 5 and stroke[-1][1] < 5

    _draw(pad, [(-40, pad.height * 0.5), (pad.width * 0.5, pad.height * 0.5)])  # starts outside
    _draw(pad, [(pad.width * 0.2, pad.height * 0.3), (pad.width * 0.6, pad.height * 0.4)], button="right")
    _draw(pad, [(pad.width * 0.2, pad.height * 0.3), (pad.width * 0.6, pad.height * 0.4)], button="scrolldown")
    assert len(pad.signature().strokes) == 1

    _draw(pad, [(pad.width * 0.2, pad.height * 0.3), (pad.width * 0.6, pad.height * 0.4)], button="left")
    assert len(pad.signature().strokes) == 2, "the left mouse button draws"

    # A second finger (a palm on the screen) while the first draws adds nothing.
    finger = _press(pad, (pad.width * 0.3, pad.height * 0.5))
    palm = _draw(pad, [(pad.width * 0.8, pad.height * 0.8), (pad.width * 0.9, pad.height * 0.9)])
    finger.touch_move(*_window(pad, (pad.width * 0.4, pad.height * 0.6)))
    finger.touch_up()
    assert palm.grab_current is None
    strokes = pad.signature().strokes
    assert len(strokes) == 3 and len(strokes[2]) == 2

    pad.disabled = True
    _draw(pad, [(pad.width * 0.2, pad.height * 0.3), (pad.width * 0.6, pad.height * 0.4)])
    assert len(pad.signature().strokes) == 3


def test_clearing_while_a_finger_draws_drops_that_stroke(pad):
    touch = _press(pad, (pad.width * 0.3, pad.height * 0.5))
    touch.touch_move(*_window(pad, (pad.width * 0.5, pad.height * 0.5)))
    pad.clear()  # the visit is wiped (inactivity) mid-stroke
    touch.touch_move(*_window(pad, (pad.width * 0.7, pad.height * 0.5)))
    touch.touch_up()
    assert pad.is_empty and pad.signature().is_empty
    _draw(pad, [(pad.width * 0.2, pad.height * 0.3), (pad.width * 0.6, pad.height * 0.4)])
    assert len(pad.signature().strokes) == 1, "the pad draws again after the wipe"


def test_strokes_follow_the_pad_when_it_resizes_at_the_largest_text(pad, shot):
    _draw(pad, _name(pad))
    before = pad.signature()
    pad.size_hint = (None, None)
    pad.size = (before.width * 0.75, before.height * 1.25)
    theme.set_text_step(len(TEXT_STEPS) - 1)
    pad.hint = "Firme sobre la línea con el dedo"
    ui.pump(3)
    after = pad.signature()
    assert (after.width, after.height) == (pytest.approx(before.width * 0.75), pytest.approx(before.height * 1.25))
    assert all(
        abs(a[0] - b[0] * 0.75) < 0.2 and abs(a[1] - b[1] * 1.25) < 0.2
        for a, b in zip(after.strokes[0], before.strokes[0])
    )
    hint = pad._hint
    assert hint.text == pad.hint and hint.y >= pad.y and hint.top <= pad.top
    assert hint.texture_size[0] <= pad.width, "the hint fits the pad"
    shot("signature-pad-resized-largest-text-es")
