"""Auto-capture of the insurance card on synthetic frames: when it fires, when it must not."""
from __future__ import annotations

import itertools

import cv2
import numpy as np
import pytest
from camera_frames import FPS, as_frames

from hardware.camera import Frame
from hardware.card_capture import (
    CARD_ASPECT,
    DEFAULT_GUIDE,
    ENCODE_MARGIN,
    HOLD_STILL_S,
    MAX_GAP_S,
    CaptureState,
    CardCapture,
    GuideFrame,
    Hint,
    encode_card_image,
)


def feed_all(capture: CardCapture, frames: list[Frame]):
    analyses = [capture.feed(frame) for frame in frames]
    return [a for a in analyses if a is not None]


def repeated(images, seconds: float) -> list[np.ndarray]:
    """The images cycled for `seconds` at 30 fps (a hand or a camera that keeps doing that)."""
    return list(itertools.islice(itertools.cycle(images), int(seconds * FPS)))


@pytest.mark.parametrize("scene", ["front_scene", "back_scene"])
def test_captures_on_the_steady_sharp_frames(scene, request):
    frames = request.getfixturevalue(scene)
    capture = CardCapture()
    camera_frames = as_frames([f.image for f in frames])
    phase_of = {frame.seq: f.phase for frame, f in zip(camera_frames, frames)}
    states = [a.state for a in feed_all(capture, camera_frames)]
    assert capture.state is CaptureState.CAPTURED and capture.hint is Hint.CAPTURED
    assert states.index(CaptureState.HOLD_STILL) < states.index(CaptureState.CAPTURED)
    captured = capture.captured
    assert not captured.manual
    assert phase_of[captured.frame.seq] == "steady"
    first_steady = next(frame for frame, f in zip(camera_frames, frames) if f.phase == "steady")
    captured_at = next(frame for frame, s in zip(camera_frames, states) if s is CaptureState.CAPTURED)
    assert captured_at.timestamp - first_steady.timestamp >= HOLD_STILL_S - 1 / FPS, "held still long enough"
    assert captured.sharpness > 1000


@pytest.mark.parametrize("phase", ["empty", "hand", "moving", "blurred"])
def test_no_capture_on_empty_hand_moving_or_blurred_frames(front_scene, back_scene, phase):
    for scene in (front_scene, back_scene):
        images = [f.image for f in scene if f.phase == phase]
        capture = CardCapture()
        analyses = feed_all(capture, as_frames(repeated(images, 4.0)))
        assert capture.state is not CaptureState.CAPTURED, phase
        assert capture.captured is None
        assert len(analyses) == int(4.0 * FPS)


def test_no_capture_on_one_blurred_frame_held_perfectly_still(front_scene):
    # In place, steady, lit: only the sharpness test stands between it and a capture.
    sharpest_blurred = [f.image for f in front_scene if f.phase == "blurred"][-1]
    capture = CardCapture()
    analyses = feed_all(capture, as_frames([sharpest_blurred] * 90))
    assert analyses[-1].placed and analyses[-1].steady and not analyses[-1].sharp
    assert capture.state is CaptureState.HOLD_STILL and capture.hint is Hint.HOLD_STILL


def test_empty_table_and_hand_are_not_a_card(front_scene):
    capture = CardCapture()
    for f in front_scene:
        if f.phase in ("empty", "hand"):
            analysis = capture.feed(as_frames([f.image], start_seq=capture._last_seq + 1)[0])
            assert not analysis.present, f.file
    assert capture.state is CaptureState.WAITING_FOR_CARD and capture.hint is Hint.PLACE_CARD


def test_steady_card_is_found_where_it_is(front_scene):
    steady = next(f.image for f in front_scene if f.phase == "steady")
    analysis = CardCapture().feed(Frame(steady, 1, 0.0))
    assert analysis.present and analysis.placed and analysis.edges == 4
    left, top, right, bottom = analysis.box
    # The synthetic card rests centred at ~90 % of the guide's height (scripts/make_replay_frames.py).
    assert left == pytest.approx(0.05, abs=0.04) and right == pytest.approx(0.95, abs=0.04)
    assert top == pytest.approx(0.05, abs=0.04) and bottom == pytest.approx(0.95, abs=0.04)
    assert analysis.coverage == pytest.approx(0.8, abs=0.08)


def hold(capture: CardCapture, image: np.ndarray, count: int = 3):
    return feed_all(capture, as_frames([image] * count))[-1]


def test_hints(synth):
    rng = np.random.default_rng(7)
    table, card = synth.table(rng), synth.card_front()

    def card_at(centre=synth.REST, height=synth.REST_HEIGHT, angle=1.0):
        return synth.sensor(synth.place_card(table, card, synth.card_corners(centre, height, angle, 0.02)), rng)

    good = card_at()
    assert hold(CardCapture(), good).hint is Hint.HOLD_STILL
    small = hold(CardCapture(), card_at(height=250))
    assert small.present and small.hint is Hint.MOVE_CLOSER and small.coverage < 0.5
    assert hold(CardCapture(), card_at(centre=(840, 360))).hint is Hint.CENTER_CARD
    assert hold(CardCapture(), (good * 0.25).astype(np.uint8)).hint is Hint.TOO_DARK
    glare = good.copy()
    cv2.ellipse(glare, (700, 330), (150, 60), 20, 0, 360, (255, 255, 255), -1)
    glared = hold(CardCapture(), glare, 30)
    assert glared.present and glared.hint is Hint.TOO_MUCH_GLARE and glared.state is CaptureState.WAITING_FOR_CARD
    assert hold(CardCapture(), table).hint is Hint.PLACE_CARD


def test_a_short_steady_moment_is_not_enough_and_a_stall_starts_over(front_scene):
    steady = [f.image for f in front_scene if f.phase == "steady"]
    short = int(HOLD_STILL_S * FPS) - 2
    capture = CardCapture()
    feed_all(capture, as_frames(steady[:short]))
    assert capture.state is CaptureState.HOLD_STILL
    # The camera stalls: the next frame comes much later; what happened between is unknown.
    later = as_frames(steady[:short], start_seq=1000, start_time=100.0 + MAX_GAP_S + 1.0)
    feed_all(capture, later)
    assert capture.state is CaptureState.HOLD_STILL, "the hold started again after the stall"
    feed_all(capture, as_frames(steady[:4], start_seq=2000, start_time=later[-1].timestamp + 1 / FPS))
    assert capture.state is CaptureState.CAPTURED


def test_losing_the_card_briefly_keeps_hold_still_then_goes_back(front_scene):
    steady = next(f.image for f in front_scene if f.phase == "steady")
    empty = next(f.image for f in front_scene if f.phase == "empty")
    capture = CardCapture()
    frames = as_frames([steady] * 5 + [empty] + [empty] * 5)
    analyses = feed_all(capture, frames)
    assert analyses[5].state is CaptureState.HOLD_STILL and analyses[5].hint is Hint.HOLD_STILL
    assert analyses[-1].state is CaptureState.WAITING_FOR_CARD and analyses[-1].hint is Hint.PLACE_CARD


def test_frames_already_seen_are_skipped(front_scene):
    steady = next(f.image for f in front_scene if f.phase == "steady")
    capture = CardCapture()
    assert capture.feed(Frame(steady, 5, 1.0)) is not None
    assert capture.feed(Frame(steady, 5, 1.0)) is None
    assert capture.feed(Frame(steady, 4, 1.1)) is None
    assert capture.feed(Frame(steady, 9, 1.2)).seq == 9, "frames may be skipped"


def test_manual_capture_then_retake(front_scene):
    empty = next(f.image for f in front_scene if f.phase == "empty")
    capture = CardCapture()
    capture.feed(Frame(empty, 1, 0.0))
    taken = capture.capture_now(Frame(empty, 2, 0.03))
    assert taken.manual and taken.frame.seq == 2 and taken.sharpness >= 0
    assert capture.state is CaptureState.CAPTURED and capture.captured is taken
    assert capture.feed(Frame(empty, 3, 0.06)) is None, "no analysis after the capture"
    capture.reset()
    assert capture.state is CaptureState.WAITING_FOR_CARD and capture.captured is None
    assert capture.feed(Frame(empty, 4, 0.1)) is not None
    # After the retake, auto-capture works again.
    steady = [f.image for f in front_scene if f.phase == "steady"]
    feed_all(capture, as_frames(steady, start_seq=10, start_time=1.0))
    assert capture.state is CaptureState.CAPTURED and not capture.captured.manual


def test_encode_crops_to_the_guide(front_scene):
    steady = next(f.image for f in front_scene if f.phase == "steady")
    jpeg, width, height = encode_card_image(Frame(steady, 1, 0.0))
    assert jpeg[:2] == b"\xff\xd8" and len(jpeg) < 150_000
    decoded = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert decoded.shape[:2] == (height, width)
    x, y, w, h = DEFAULT_GUIDE.box(1280, 720, ENCODE_MARGIN)
    assert (width, height) == (w, h) and width <= 1000
    assert width / height == pytest.approx(CARD_ASPECT, rel=0.02)
    # It is the guide's region: compare with the same crop of the original.
    difference = cv2.absdiff(decoded, steady[y:y + h, x:x + w]).mean()
    assert difference < 4


def test_encode_downscales_a_big_frame(front_scene):
    steady = next(f.image for f in front_scene if f.phase == "steady")
    big = cv2.resize(steady, (1920, 1080), interpolation=cv2.INTER_CUBIC)
    image = encode_card_image(big)
    assert image.width == 1000 and image.height == pytest.approx(1000 / CARD_ASPECT, rel=0.02)
    assert len(image.jpeg) < 150_000
    assert encode_card_image(big, quality=40).jpeg.__len__() < len(image.jpeg)


def test_guide_frame_geometry():
    left, top, width, height = DEFAULT_GUIDE.fractions(1280, 720)
    assert height == pytest.approx(0.70)
    assert width * 1280 / (height * 720) == pytest.approx(CARD_ASPECT)
    assert left + width / 2 == pytest.approx(0.5) and top + height / 2 == pytest.approx(0.5)
    # A portrait screen or camera: the width limits the guide, still card-shaped.
    left, top, width, height = DEFAULT_GUIDE.fractions(720, 1280)
    assert width == pytest.approx(0.90) and width * 720 / (height * 1280) == pytest.approx(CARD_ASPECT)
    x, y, w, h = GuideFrame(height_fraction=0.5).box(1280, 720)
    assert (h, y) == (360, 180)


def test_a_4_3_camera_works_the_same(front_scene):
    steady = [f.image for f in front_scene if f.phase == "steady"]
    cropped = [np.ascontiguousarray(image[:, 160:1120]) for image in steady]  # 960x720, the card still centred
    capture = CardCapture()
    analyses = feed_all(capture, as_frames(cropped))
    assert analyses[0].placed and analyses[0].box[0] == pytest.approx(0.05, abs=0.04)
    assert capture.state is CaptureState.CAPTURED
    assert encode_card_image(capture.captured.frame).width <= 1000
