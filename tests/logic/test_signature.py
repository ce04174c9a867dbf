"""Signatures: which are refused and why, the PNG they render to, and their stored form."""
from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from kiosk import signature as sig_mod
from kiosk.signature import (
    Signature,
    SignatureFormatError,
    check_signature,
    render_png,
    summary,
)

W, H = 600, 200  # pad size in these tests; the checks are relative, so any size works


def loops(x0, y0, length, count, radius, steps=160, slant=0.3):
    """Cursive-like handwriting: a run of loops ("llll", "eeee") drifting right, slanted."""
    points = []
    for i in range(steps + 1):
        t = i / steps
        a = 2 * math.pi * count * t
        r = radius * (1 + 0.3 * math.sin(3.1 * a / count + 1))
        x = x0 + length * t - 0.6 * r * math.sin(a)
        y = y0 - r * (1 - math.cos(a))
        points.append((x + slant * (y0 - y), y))
    return points


def cursive_name(scale=1.0, pad=(W, H)):
    """First name, last name, the cross of a t and the dot of an i."""
    strokes = [
        loops(60, 140, 180, 5, 35),
        loops(280, 140, 240, 7, 28),
        [(300 + i * 8, 95 - i * 0.5) for i in range(10)],
        [(350, 70)],
    ]
    return Signature(tuple(tuple((x * scale, y * scale) for x, y in s) for s in strokes), pad[0], pad[1])


def quick_scrawl():
    """A hurried, flat signature: one stroke, waves and a hook."""
    points = []
    for i in range(200):
        t = i / 199
        points.append((80 + 420 * t + 15 * math.sin(t * 40), 110 + 45 * math.sin(t * 23) * math.cos(t * 5)))
    return Signature((tuple(points),), W, H)


def tall_initials():
    """Two tall capitals ("J K"), narrow on the pad but clearly written."""
    j = [(140, 30), (140, 150), (130, 170), (110, 172), (95, 160)]
    k1 = [(190, 30), (190, 175)]
    k2 = [(240, 35), (192, 100), (245, 172)]
    return Signature((tuple(j), tuple(k1), tuple(k2)), W, H)


def mark_x():
    """A person who cannot write signs with a mark: that must be accepted."""
    return Signature((((200, 40), (340, 160)), ((340, 40), (200, 160))), W, H)


@pytest.mark.parametrize("make", [cursive_name, quick_scrawl, tall_initials, mark_x])
def test_plausible_signatures_pass(make):
    assert check_signature(make()) is None


def test_the_same_signature_passes_on_a_bigger_pad():
    assert check_signature(cursive_name(scale=1.7, pad=(W * 1.7, H * 1.7))) is None


@pytest.mark.parametrize(
    "strokes, code",
    [
        ((), "empty"),
        (((),), "empty"),
        ((((300, 100),),), "dot"),  # a tap
        ((((300, 100), (302, 101), (303, 99)),), "dot"),  # a tap that jittered
        ((((100, 100), (500, 102)),), "too_simple"),  # one straight line
        ((tuple((100 + 4 * i, 150 - 1.5 * i + (i % 3)) for i in range(100)),), "too_simple"),  # wobbly diagonal
        ((tuple((100 + (i % 20) * 20, 100 + (i % 2)) for i in range(200)),), "too_simple"),  # retraced line
        ((((150, 100), (190, 150), (300, 40)),), "too_simple"),  # a check mark
        ((((100, 40), (100, 160), (400, 160)),), "too_simple"),  # an "L"
    ],
)
def test_trivial_signatures_are_refused(strokes, code):
    problem = check_signature(Signature(strokes, W, H))
    assert problem is not None and problem.code == code


def test_a_tiny_scribble_is_too_small():
    tiny = cursive_name(scale=0.15)  # a real signature's shape, written in a corner
    problem = check_signature(tiny)
    assert problem is not None and problem.code == "too_small"
    assert problem.message == "Your signature is too small. Please sign larger."


def test_problems_carry_patient_messages():
    assert check_signature(Signature((), W, H)).message == "Please sign your name with your finger in the box."
    assert check_signature(Signature((((300, 100),),), W, H)).message == sig_mod.MESSAGE_EMPTY
    line = check_signature(Signature((((100, 100), (500, 100)),), W, H))
    assert line.message == sig_mod.MESSAGE_TOO_SIMPLE


# -- PNG ---------------------------------------------------------------------------------------

def _decode(png: bytes) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_UNCHANGED)
    assert image is not None, "not a PNG OpenCV can read"
    return image


def test_png_has_the_asked_size_white_paper_and_black_ink():
    png = render_png(cursive_name())
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    image = _decode(png)
    assert image.shape == (200, 600) and image.dtype == np.uint8
    assert image.max() == 255 and image.min() < 30  # white paper, black ink
    assert 1_000 < len(png) < 30_000  # a few KB
    assert _decode(render_png(cursive_name(), width=300, height=120)).shape == (120, 300)


def test_png_draws_the_strokes_where_they_are_scaled_to_fit_with_a_margin():
    image = _decode(render_png(mark_x()))
    dark = image < 128
    assert dark[100, 300], "the crossing of the X is in the middle of the image"
    margin = round(sig_mod.RENDER_MARGIN_FRACTION * 200)
    assert not dark[: margin - 3].any() and not dark[-(margin - 3) :].any(), "ink inside the margin"
    rows = np.flatnonzero(dark.any(axis=1))
    assert rows[0] <= margin + 3 and rows[-1] >= 200 - margin - 3, "the ink fills the height"
    assert dark.mean() < 0.1  # strokes, not blobs


def test_png_is_the_right_way_up():
    # An "L": the vertical on the left, the foot at the bottom (large y in pad coordinates).
    image = _decode(render_png(Signature((((100, 20), (100, 180), (400, 180)),), W, H)))
    dark = image < 128
    top_cols = np.flatnonzero(dark[:60].any(axis=0))
    bottom_cols = np.flatnonzero(dark[-60:].any(axis=0))
    assert top_cols.max() - top_cols.min() < 20, "only the vertical at the top"
    assert bottom_cols.max() - bottom_cols.min() > 300, "the foot at the bottom"
    assert top_cols.min() <= bottom_cols.min() + 5, "the vertical on the left"


def test_png_draws_dots_and_is_deterministic():
    dot = _decode(render_png(Signature((((300, 100),),), W, H)))
    assert (dot < 128).sum() > 5
    assert render_png(cursive_name()) == render_png(cursive_name())
    assert render_png(cursive_name()) != render_png(quick_scrawl())
    assert _decode(render_png(Signature((), W, H))).min() == 255  # empty: blank paper


# -- stored form ---------------------------------------------------------------------------------

def test_json_round_trip_keeps_every_stroke():
    original = cursive_name()
    again = Signature.from_json(original.to_json())
    assert again == original
    assert len(again.strokes) == 4 and again.strokes[3] == ((350.0, 70.0),)
    assert Signature.from_json(original.to_json().encode()) == original


def test_points_are_kept_to_a_tenth_of_a_pixel():
    s = Signature((((1.234, 5.678), (2, 3)),), 600.04, 200)
    assert s.strokes == (((1.2, 5.7), (2.0, 3.0)),)
    assert Signature.from_json(s.to_json()) == s


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[]",
        '{"format": 99, "width": 600, "height": 200, "strokes": []}',
        '{"format": 1, "width": 0, "height": 200, "strokes": []}',
        '{"format": 1, "width": 600, "strokes": []}',
        '{"format": 1, "width": 600, "height": 200, "strokes": [[[123.4]]]}',
        '{"format": 1, "width": 600, "height": 200, "strokes": [[[123.4, "y"]]]}',
        '{"format": 1, "width": 600, "height": 200, "strokes": [[[123.4, NaN]]]}',
        '{"format": 1, "width": 600, "height": 200, "strokes": [[123.4, 5]]}',
        '{"format": 1, "width": 600, "height": 200, "strokes": {"a": 1}}',
    ],
)
def test_bad_stored_data_is_refused_without_quoting_points(text):
    with pytest.raises(SignatureFormatError) as caught:
        Signature.from_json(text)
    assert "123.4" not in str(caught.value)


def test_repr_and_summary_never_show_points():
    s = Signature((((123.4, 56.7), (223.4, 156.7)), ((300, 100),)), 600, 200)
    assert "123.4" not in repr(s) and "56.7" not in repr(s)
    assert summary(s) == {"strokes": 2, "points": 3, "width": 600, "height": 200}
    assert not s.is_empty and Signature((), W, H).is_empty
