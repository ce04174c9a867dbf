"""Automatic capture of an insurance card held in the on-screen guide frame (no Kivy).

    capture = CardCapture()
    for each new camera frame (on a worker thread, any rate up to the camera's):
        analysis = capture.feed(frame)       # None when skipped (already seen / captured)
        capture.state, capture.hint          # what to draw and tell the patient
        if capture.captured: image = encode_card_image(capture.captured.frame)
    capture.capture_now(frame)               # the patient tapped "Take photo"
    capture.reset()                          # "Retake"

Only the inside of the guide frame (plus a margin) is looked at, downscaled to
ANALYSIS_WIDTH grey pixels, so one analysis costs a few milliseconds:

  * card present: a card is a rectangle with four long, straight edges. The mean signed
    gradient along each row (column) is large only where one straight edge crosses most
    of the region; table grain, a hand or fingers give short or curved edges that
    cancel out. All four sides must be found, in card proportions.
  * placed: covers enough of the guide (else "move closer") and does not stick out of it.
  * sharp: variance of the Laplacian inside the card (focus, motion blur).
  * steady: mean absolute difference to the previously analysed frame, on a coarser copy
    so that the sub-pixel tremor of a hand does not count as movement.
  * too dark / too much glare: the region's mean brightness; blown-out pixels on the card.

States: waiting_for_card -> hold_still -> captured. The capture happens once the card has
been placed, steady and sharp for HOLD_STILL_S, and keeps the sharpest frame of that time.
Frames are patient images: nothing here logs them or their content.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import NamedTuple

import cv2
import numpy as np

from hardware.camera import Frame

CARD_ASPECT = 85.6 / 54.0  # ID-1 (ISO/IEC 7810): insurance, bank and ID cards
# The guide is 70 % of the frame's height: at 1280x720 the card is then ~800 px wide, about
# 9 px/mm, enough for a member id in 6-point print after the 1000 px cap, and a patient
# holding the card at arm's length still fits it without cutting an edge.
GUIDE_HEIGHT_FRACTION = 0.70
GUIDE_MAX_WIDTH_FRACTION = 0.90  # a 4:3 or portrait camera: the width limits the guide instead

ANALYSIS_WIDTH = 320  # px across the analysed region: ~2 ms per frame, text still resolved
ANALYSIS_MARGIN = 0.12  # the region is the guide plus 12 % each side: a card slightly off is seen
MOTION_WIDTH = 80  # px across the copy used for steadiness: 1 px hand tremor at 1280 is ~0.1 px here

# Edge strength is about contrast x the share of the line the edge covers (see _edge_profile).
# A card against a table scores 40-130 (a dark header on brown wood, in its shadow, ~40);
# wood grain scores under 10 and a hand's or finger's outline under 15. 25 leaves room for
# a finger over part of an edge and still ignores the hand.
EDGE_MIN = 25.0  # edge strength (grey levels) that counts as a card edge
EDGE_SEARCH = 0.42  # each side's edge is looked for in the outer 42 % of the region
ASPECT_TOLERANCE = 0.25  # found box may differ this much from ID-1 (tilt, keystone)
MIN_COVERAGE = 0.50  # card area / guide area: below it the print is too small -> "move closer"
PLACEMENT_TOLERANCE = 0.05  # an edge may stick out of the guide by 5 % of its size

# Variance of the Laplacian at ANALYSIS_WIDTH: the synthetic card in focus gives ~2500-3100,
# slightly out of focus (Gaussian sigma 2.5 px at 1280) ~300-400, a blank table ~2. Real webcams
# are softer than the synthetic frames; 800 still rejects visible defocus and motion blur.
SHARPNESS_MIN = 800.0
# Mean absolute grey difference (on the MOTION_WIDTH copy) to the previous analysed frame:
# a hand holding still with sensor noise gives ~1-2, a card being moved or put down 8+.
MOTION_MAX = 4.0
HOLD_STILL_S = 0.5  # steady and sharp for this long: long enough that the patient sees "hold
#                     still", short enough not to tire an arm; auto-exposure settles too
MAX_GAP_S = 0.5  # analyses further apart (camera stall) start the hold again
LOST_AFTER = 3  # consecutive analyses without the card before "hold still" goes back to waiting

DARK_MEAN = 45.0  # mean grey of the whole region below this: the picture is too dark to read
GLARE_LEVEL = 250  # blown-out pixels (a lamp's reflection on a laminated card)
GLARE_FRACTION = 0.04  # of the card's inside: more hides print (member id, group number)

ENCODE_MARGIN = 0.06  # kept around the guide in the stored image: a card at the guide's edge is whole
ENCODE_MAX_WIDTH = 1000  # px: readable print, ~100-150 KB as JPEG
ENCODE_QUALITY = 80

# The camera cue names the card screens use (a replay camera switches scene on them).
SCENE_CARD_FRONT = "card_front"
SCENE_CARD_BACK = "card_back"


class CaptureState(str, Enum):
    WAITING_FOR_CARD = "waiting_for_card"
    HOLD_STILL = "hold_still"
    CAPTURED = "captured"


class Hint(str, Enum):
    """What to tell the patient; the screen turns it into words in their language."""

    PLACE_CARD = "place_card"  # nothing card-like in the frame
    MOVE_CLOSER = "move_closer"  # card found but small
    CENTER_CARD = "center_card"  # card (or three of its edges) found, sticking out of the frame
    TOO_DARK = "too_dark"
    TOO_MUCH_GLARE = "too_much_glare"  # tilt the card a little
    HOLD_STILL = "hold_still"  # card in place: moving or not sharp yet, or counting down
    CAPTURED = "captured"


@dataclass(frozen=True)
class GuideFrame:
    """The card-shaped guide rectangle, centred in the frame, as the widget draws it."""

    height_fraction: float = GUIDE_HEIGHT_FRACTION
    aspect: float = CARD_ASPECT
    max_width_fraction: float = GUIDE_MAX_WIDTH_FRACTION

    def fractions(self, width: int, height: int) -> tuple[float, float, float, float]:
        """(left, top, width, height) as fractions of the frame, top-left origin (image rows)."""
        h = self.height_fraction * height
        w = h * self.aspect
        if w > self.max_width_fraction * width:
            w = self.max_width_fraction * width
            h = w / self.aspect
        return ((width - w) / 2 / width, (height - h) / 2 / height, w / width, h / height)

    def box(self, width: int, height: int, margin: float = 0.0) -> tuple[int, int, int, int]:
        """(x, y, w, h) in pixels, grown by `margin` x its size on each side, kept in the frame."""
        fx, fy, fw, fh = self.fractions(width, height)
        x0 = max(0, int(round((fx - fw * margin) * width)))
        y0 = max(0, int(round((fy - fh * margin) * height)))
        x1 = min(width, int(round((fx + fw * (1 + margin)) * width)))
        y1 = min(height, int(round((fy + fh * (1 + margin)) * height)))
        return x0, y0, x1 - x0, y1 - y0


DEFAULT_GUIDE = GuideFrame()


@dataclass(frozen=True)
class CardAnalysis:
    """What one analysed frame showed (numbers for tuning; no image content)."""

    seq: int
    timestamp: float
    present: bool  # four straight edges in card proportions
    edges: int  # straight card-like edges seen (0-4): 3 is a card partly outside the guide
    placed: bool  # present, big enough and inside the guide
    box: tuple[float, float, float, float] | None  # card edges (left, top, right, bottom) as guide fractions
    coverage: float  # card area / guide area (0 when not present)
    sharpness: float  # variance of the Laplacian inside the card (or the guide)
    motion: float  # mean abs difference to the previous analysed frame (inf for the first)
    brightness: float  # mean grey of the region
    glare: float  # fraction of blown-out pixels inside the card
    state: CaptureState
    hint: Hint
    elapsed_ms: float  # time the analysis took

    @property
    def steady(self) -> bool:
        return self.motion <= MOTION_MAX

    @property
    def sharp(self) -> bool:
        return self.sharpness >= SHARPNESS_MIN


@dataclass(frozen=True)
class CapturedCard:
    frame: Frame
    sharpness: float
    manual: bool  # the patient tapped "Take photo"


class CardImage(NamedTuple):
    jpeg: bytes
    width: int
    height: int


def _as_image(frame: Frame | np.ndarray) -> np.ndarray:
    return frame.image if isinstance(frame, Frame) else frame


def _analysis_grey(image: np.ndarray, guide: GuideFrame) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """The guide region (with margin) as a grey image ANALYSIS_WIDTH wide, and where it was."""
    x, y, w, h = guide.box(image.shape[1], image.shape[0], ANALYSIS_MARGIN)
    # INTER_AREA is fast only for whole-number factors: shrink by one on a crop trimmed to
    # a multiple of it, then a tiny linear resize to the exact width.
    factor = max(1, w // ANALYSIS_WIDTH)
    w_trim, h_trim = w - w % factor, h - h % factor
    grey = cv2.cvtColor(image[y:y + h_trim, x:x + w_trim], cv2.COLOR_BGR2GRAY)
    if factor > 1:
        grey = cv2.resize(grey, (w_trim // factor, h_trim // factor), interpolation=cv2.INTER_AREA)
    out_h = max(8, round(h_trim * ANALYSIS_WIDTH / w_trim))
    if grey.shape[1] != ANALYSIS_WIDTH:
        grey = cv2.resize(grey, (ANALYSIS_WIDTH, out_h), interpolation=cv2.INTER_LINEAR)
    return grey, (x, y, w_trim, h_trim)


def _edge_profile(grey32: np.ndarray, axis: int) -> np.ndarray:
    """Straight-edge strength per row (axis 0: horizontal edges) or per column (axis 1).

    The mean signed gradient along the line, summed over 5 neighbouring lines: a step of
    contrast C crossing a fraction f of the region scores about C x f, even tilted by a
    few degrees (it then spreads over several lines); texture and curves cancel out.
    """
    if axis == 0:
        gradient = cv2.Sobel(grey32, cv2.CV_32F, 0, 1, ksize=3)
        profile = cv2.reduce(gradient, 1, cv2.REDUCE_AVG).ravel()
    else:
        gradient = cv2.Sobel(grey32, cv2.CV_32F, 1, 0, ksize=3)
        profile = cv2.reduce(gradient, 0, cv2.REDUCE_AVG).ravel()
    # Sobel's gain is 4 and a step shows on 2 lines: /8 makes a sharp step score C.
    profile = np.convolve(profile / 8.0, np.ones(5, np.float32), mode="same")
    return np.abs(profile)


def _outer_edge(profile: np.ndarray, from_start: bool) -> int | None:
    """Index of the outermost edge in the outer EDGE_SEARCH part of a profile, or None."""
    n = len(profile)
    span = int(n * EDGE_SEARCH)
    indices = range(1, span) if from_start else range(n - 2, n - 1 - span, -1)
    for i in indices:
        if profile[i] >= EDGE_MIN:
            # Climb to the local peak: the first index over the threshold is the edge's flank.
            step = 1 if from_start else -1
            while 0 <= i + step < n and profile[i + step] > profile[i]:
                i += step
            return i
    return None


def _find_card(grey: np.ndarray) -> tuple[tuple[int, int, int, int] | None, int]:
    """(left, top, right, bottom) of a card in the analysis image or None, and how many edges were seen."""
    grey32 = grey.astype(np.float32)
    rows, cols = _edge_profile(grey32, 0), _edge_profile(grey32, 1)
    top, bottom = _outer_edge(rows, True), _outer_edge(rows, False)
    left, right = _outer_edge(cols, True), _outer_edge(cols, False)
    edges = sum(e is not None for e in (top, bottom, left, right))
    if edges < 4:
        return None, edges
    width, height = right - left, bottom - top
    if width <= 0 or height <= 0:
        return None, edges
    if abs(width / height - CARD_ASPECT) > ASPECT_TOLERANCE * CARD_ASPECT:
        return None, edges
    return (left, top, right, bottom), edges


def _inside(grey: np.ndarray, box: tuple[int, int, int, int], shrink: float = 0.08) -> np.ndarray:
    left, top, right, bottom = box
    dx, dy = int((right - left) * shrink), int((bottom - top) * shrink)
    return grey[top + dy:bottom - dy, left + dx:right - dx]


class CardCapture:
    """Feed it frames; it says when a card is in the guide, steady and sharp, and keeps it."""

    def __init__(self, guide: GuideFrame = DEFAULT_GUIDE):
        self.guide = guide
        self.reset()

    def reset(self) -> None:
        """Start again (retake): forget the captured frame and the hold."""
        self.state = CaptureState.WAITING_FOR_CARD
        self.hint = Hint.PLACE_CARD
        self.captured: CapturedCard | None = None
        self.last: CardAnalysis | None = None
        self._last_seq = 0
        self._previous_small: np.ndarray | None = None
        self._previous_time: float | None = None
        self._hold_started: float | None = None
        self._best: tuple[float, Frame] | None = None
        self._misses = 0

    def feed(self, frame: Frame) -> CardAnalysis | None:
        """Analyse a frame and move the state on. None when skipped (seen before, or captured)."""
        if self.state is CaptureState.CAPTURED or frame.seq <= self._last_seq:
            return None
        self._last_seq = frame.seq
        started = cv2.getTickCount()
        measures = self._measure(frame.image)
        gap = None if self._previous_time is None else frame.timestamp - self._previous_time
        self._previous_time = frame.timestamp
        if gap is not None and gap > MAX_GAP_S:
            measures["motion"] = float("inf")  # a stall: nothing known about what happened in between
        self._advance(frame, measures)
        elapsed = (cv2.getTickCount() - started) * 1000.0 / cv2.getTickFrequency()
        self.last = CardAnalysis(seq=frame.seq, timestamp=frame.timestamp, state=self.state, hint=self.hint,
                                 elapsed_ms=elapsed, **measures)
        return self.last

    def capture_now(self, frame: Frame) -> CapturedCard:
        """Manual capture ("Take photo"): this frame, whatever the checks say."""
        grey, _ = _analysis_grey(frame.image, self.guide)
        box, _ = _find_card(grey)
        sharpness = self._sharpness(grey, box)
        self.captured = CapturedCard(frame, sharpness, manual=True)
        self.state, self.hint = CaptureState.CAPTURED, Hint.CAPTURED
        self._best = None
        self._previous_small = None
        return self.captured

    # ------------------------------------------------------------------ measuring
    @staticmethod
    def _sharpness(grey: np.ndarray, box) -> float:
        region = _inside(grey, box) if box is not None else grey
        if region.size < 64:
            return 0.0
        _, std = cv2.meanStdDev(cv2.Laplacian(region, cv2.CV_32F))
        return float(std[0, 0] ** 2)

    def _measure(self, image: np.ndarray) -> dict:
        grey, region = _analysis_grey(image, self.guide)
        small = cv2.resize(grey, (MOTION_WIDTH, max(4, grey.shape[0] * MOTION_WIDTH // grey.shape[1])),
                           interpolation=cv2.INTER_AREA)
        if self._previous_small is not None and self._previous_small.shape == small.shape:
            motion = float(cv2.absdiff(small, self._previous_small).mean())
        else:
            motion = float("inf")
        self._previous_small = small
        brightness = float(grey.mean())
        box, edges = _find_card(grey) if brightness >= DARK_MEAN else (None, 0)
        sharpness = self._sharpness(grey, box)
        glare, coverage, placed, fractions = 0.0, 0.0, False, None
        if box is not None:
            inside = _inside(grey, box)
            glare = float(np.count_nonzero(inside >= GLARE_LEVEL)) / max(inside.size, 1)
            fractions = self._guide_fractions(image.shape, grey.shape, region, box)
            left, top, right, bottom = fractions
            coverage = max(0.0, (right - left) * (bottom - top))
            tol = PLACEMENT_TOLERANCE
            within = left >= -tol and top >= -tol and right <= 1 + tol and bottom <= 1 + tol
            placed = within and coverage >= MIN_COVERAGE
        return {"present": box is not None, "edges": edges, "placed": placed, "box": fractions, "coverage": coverage,
                "sharpness": sharpness, "motion": motion, "brightness": brightness, "glare": glare}

    def _guide_fractions(self, image_shape, grey_shape, region, box) -> tuple[float, float, float, float]:
        """Card edges in the analysis image -> fractions of the guide (0..1 is on its outline)."""
        frame_h, frame_w = image_shape[:2]
        gx, gy, gw, gh = self.guide.box(frame_w, frame_h)
        rx, ry, rw, rh = region
        sx, sy = rw / grey_shape[1], rh / grey_shape[0]
        left, top, right, bottom = box
        return ((rx + left * sx - gx) / gw, (ry + top * sy - gy) / gh,
                (rx + right * sx - gx) / gw, (ry + bottom * sy - gy) / gh)

    # ------------------------------------------------------------------ deciding
    def _advance(self, frame: Frame, m: dict) -> None:
        ready = m["placed"] and m["glare"] <= GLARE_FRACTION
        good = ready and m["motion"] <= MOTION_MAX and m["sharpness"] >= SHARPNESS_MIN
        if ready:
            self._misses = 0
            self.state, self.hint = CaptureState.HOLD_STILL, Hint.HOLD_STILL
        else:
            self._misses += 1
            if self.state is CaptureState.HOLD_STILL and self._misses >= LOST_AFTER:
                self.state = CaptureState.WAITING_FOR_CARD
            self.hint = self._hint_for(m)
            if self.state is CaptureState.HOLD_STILL and self.hint is Hint.PLACE_CARD:
                self.hint = Hint.HOLD_STILL  # a flicker: the card was there a moment ago
        if not good:
            self._hold_started, self._best = None, None
            return
        if self._hold_started is None:
            self._hold_started = frame.timestamp
        if self._best is None or m["sharpness"] > self._best[0]:
            self._best = (m["sharpness"], frame)
        if frame.timestamp - self._hold_started >= HOLD_STILL_S:
            sharpness, best = self._best
            self.captured = CapturedCard(best, sharpness, manual=False)
            self.state, self.hint = CaptureState.CAPTURED, Hint.CAPTURED
            self._best = None
            self._previous_small = None

    @staticmethod
    def _hint_for(m: dict) -> Hint:
        if m["brightness"] < DARK_MEAN:
            return Hint.TOO_DARK
        if not m["present"]:
            return Hint.CENTER_CARD if m["edges"] == 3 else Hint.PLACE_CARD
        if m["glare"] > GLARE_FRACTION:
            return Hint.TOO_MUCH_GLARE
        if m["coverage"] < MIN_COVERAGE:
            return Hint.MOVE_CLOSER
        if not m["placed"]:
            return Hint.CENTER_CARD
        return Hint.HOLD_STILL


def encode_card_image(frame: Frame | np.ndarray, guide: GuideFrame = DEFAULT_GUIDE, *,
                      margin: float = ENCODE_MARGIN, max_width: int = ENCODE_MAX_WIDTH,
                      quality: int = ENCODE_QUALITY) -> CardImage:
    """The guide region (plus a margin) as a JPEG at most `max_width` wide, for the encrypted store."""
    image = _as_image(frame)
    x, y, w, h = guide.box(image.shape[1], image.shape[0], margin)
    crop = image[y:y + h, x:x + w]
    if w > max_width:
        crop = cv2.resize(crop, (max_width, max(1, round(h * max_width / w))), interpolation=cv2.INTER_AREA)
    ok, data = cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise ValueError("the card image could not be encoded as JPEG")
    return CardImage(data.tobytes(), crop.shape[1], crop.shape[0])
