"""A patient's handwritten signature: its strokes, whether it is acceptable, and its PNG.

No Kivy: the signature pad widget hands over a `Signature` in pad coordinates (origin top
left, y down, like an image), and everything else is plain Python and OpenCV. A signature
is PHI: its points are never logged, and `repr()` shows only counts.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from kiosk.i18n_markers import N_

Point = tuple[float, float]
Stroke = tuple[Point, ...]

JSON_FORMAT = 1  # bump when the stored shape changes; from_json refuses others
POINT_DECIMALS = 1  # touch positions are not more precise than 0.1 px; keeps the JSON small

# -- What the check refuses, and why ---------------------------------------------------------
# Every threshold is relative to the pad, so the same rules hold on any screen size or density.

# A tap (or a dot) jitters a few pixels; a fingertip is ~10 mm, a tenth of a typical pad's
# height. Ink that fits in a square this fraction of the pad's shorter side is a tap, not a name.
DOT_FRACTION = 0.08
# Handwriting goes up and down and back: a signature's ink is several times as long as the
# diagonal of the box it fills (cursive names measure 3-6). A straight line measures 1.0, an
# "L" or a check mark at most 1.41. An "X" measures 2.0 and passes on purpose: people who
# cannot write sign with a mark.
MIN_INK_PER_DIAGONAL = 1.5
# A line retraced back and forth has long ink but no height: when the points' spread across
# their main direction is under this fraction of the spread along it, it is a line. A real
# name, even written flat, has letters at least ~1/10 as tall as it is wide.
LINE_THINNESS = 0.05
# Initials squeezed into a corner cannot be compared with anything later: ink narrower than
# this part of the pad's width AND lower than this part of its height is too small.
MIN_WIDTH_FRACTION = 0.2
MIN_HEIGHT_FRACTION = 0.3

# -- Rendering ---------------------------------------------------------------------------------
RENDER_MARGIN_FRACTION = 0.08  # white border around the ink, of the image's shorter side
RENDER_THICKNESS_FRACTION = 0.015  # stroke width, of the image height (3 px at 200 px)
# Ink is scaled to fill the image, but a box smaller than this part of the pad is scaled as if
# it were this big: a dot does not become a black blob.
RENDER_MIN_BOX_FRACTION = 0.25
_SUBPIXEL_BITS = 4  # OpenCV draws at 1/16 px, so anti-aliased curves stay smooth
PNG_COMPRESSION = 9


class SignatureFormatError(ValueError):
    """Stored signature data is not a signature (never quotes the points)."""


@dataclass(frozen=True)
class SignatureProblem:
    code: str  # "empty", "dot", "too_simple", "too_small": for the event and the tests
    message: str  # message id (N_); the screen translates it for the patient


# TRANSLATORS: shown when the signature box is empty or was only tapped.
MESSAGE_EMPTY = N_("Please sign your name with your finger in the box.")
# TRANSLATORS: shown when the signature is only a straight line or a tick.
MESSAGE_TOO_SIMPLE = N_("Please sign your name the way you usually do, not just a line.")
# TRANSLATORS: shown when the signature is very small in the box.
MESSAGE_TOO_SMALL = N_("Your signature is too small. Please sign larger.")

EMPTY = SignatureProblem("empty", MESSAGE_EMPTY)
DOT = SignatureProblem("dot", MESSAGE_EMPTY)
TOO_SIMPLE = SignatureProblem("too_simple", MESSAGE_TOO_SIMPLE)
TOO_SMALL = SignatureProblem("too_small", MESSAGE_TOO_SMALL)


@dataclass(frozen=True, repr=False)
class Signature:
    """Strokes (each a sequence of (x, y) points) on a pad of `width` x `height`.

    Coordinates are pad pixels, origin top left, y down. Points are rounded to 0.1 px on
    construction, so a signature read back from JSON equals the one written.
    """

    strokes: tuple[Stroke, ...]
    width: float
    height: float

    def __post_init__(self) -> None:
        width, height = _positive(self.width, "width"), _positive(self.height, "height")
        strokes = []
        for stroke in self.strokes:
            points = tuple(_point(p) for p in stroke)
            if points:  # a stroke without points carries nothing
                strokes.append(points)
        object.__setattr__(self, "strokes", tuple(strokes))
        object.__setattr__(self, "width", width)
        object.__setattr__(self, "height", height)

    def __repr__(self) -> str:  # never the points: a signature is PHI
        s = summary(self)
        return f"Signature(strokes={s['strokes']}, points={s['points']}, pad={s['width']}x{s['height']})"

    @property
    def is_empty(self) -> bool:
        return not self.strokes

    def to_json(self) -> str:
        return json.dumps(
            {"format": JSON_FORMAT, "width": self.width, "height": self.height,
             "strokes": [[list(p) for p in stroke] for stroke in self.strokes]},
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> Signature:
        try:
            data = json.loads(text)
        except (ValueError, TypeError) as error:
            raise SignatureFormatError(f"signature data is not JSON ({type(error).__name__})") from None
        if not isinstance(data, dict) or data.get("format") != JSON_FORMAT:
            raise SignatureFormatError(f"signature data is not in format {JSON_FORMAT}")
        strokes = data.get("strokes")
        if not isinstance(strokes, list) or not all(isinstance(s, list) for s in strokes):
            raise SignatureFormatError("signature data: 'strokes' must be a list of lists of points")
        try:
            return cls(strokes=tuple(strokes), width=data.get("width"), height=data.get("height"))
        except (ValueError, TypeError) as error:
            raise SignatureFormatError(f"signature data: {error}") from None


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{what} must be a finite number")
    return float(value)


def _positive(value: Any, what: str) -> float:
    number = _number(value, f"pad {what}")
    if number <= 0:
        raise ValueError(f"pad {what} must be more than 0")
    return number


def _point(value: Any) -> Point:
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise ValueError("a point must be a pair (x, y)")
    return (round(_number(value[0], "x"), POINT_DECIMALS), round(_number(value[1], "y"), POINT_DECIMALS))


def _all_points(sig: Signature) -> np.ndarray:
    return np.array([p for stroke in sig.strokes for p in stroke], dtype=np.float64).reshape(-1, 2)


def ink_length(sig: Signature) -> float:
    """Total length of all strokes, in pad pixels (the jumps between strokes do not count)."""
    total = 0.0
    for stroke in sig.strokes:
        if len(stroke) > 1:
            steps = np.diff(np.asarray(stroke, dtype=np.float64), axis=0)
            total += float(np.hypot(steps[:, 0], steps[:, 1]).sum())
    return total


def _is_line(points: np.ndarray) -> bool:
    """All points close to one straight line (principal axes of their spread)."""
    if len(points) < 3:
        return True
    spread = np.linalg.eigvalsh(np.cov(points, rowvar=False))  # ascending: minor, major
    minor, major = (math.sqrt(max(v, 0.0)) for v in spread)
    return major == 0 or minor < LINE_THINNESS * major


def check_signature(sig: Signature) -> SignatureProblem | None:
    """None when the signature looks like a signature; otherwise the first problem found."""
    points = _all_points(sig)
    if len(points) == 0:
        return EMPTY
    box_w, box_h = np.ptp(points, axis=0)
    if max(box_w, box_h) < DOT_FRACTION * min(sig.width, sig.height):
        return DOT
    if ink_length(sig) < MIN_INK_PER_DIAGONAL * math.hypot(box_w, box_h) or _is_line(points):
        return TOO_SIMPLE
    if box_w < MIN_WIDTH_FRACTION * sig.width and box_h < MIN_HEIGHT_FRACTION * sig.height:
        return TOO_SMALL
    return None


def render_png(sig: Signature, width: int = 600, height: int = 200) -> bytes:
    """Black anti-aliased strokes on white, the ink scaled to fit with a margin; grey PNG bytes.

    Deterministic: the same signature gives the same bytes.
    """
    import cv2  # here, not at import: OpenCV adds to start-up and only the consent step draws

    if width < 16 or height < 16:
        raise ValueError("a signature image must be at least 16 x 16 px")
    image = np.full((height, width), 255, dtype=np.uint8)
    points = _all_points(sig)
    if len(points):
        low = points.min(axis=0)
        box = np.maximum(np.ptp(points, axis=0), RENDER_MIN_BOX_FRACTION * np.array([sig.width, sig.height]))
        centre = low + np.ptp(points, axis=0) / 2
        margin = RENDER_MARGIN_FRACTION * min(width, height)
        scale = min((width - 2 * margin) / box[0], (height - 2 * margin) / box[1])
        offset = np.array([width / 2, height / 2]) - centre * scale
        thickness = max(1, round(RENDER_THICKNESS_FRACTION * height))
        factor = 1 << _SUBPIXEL_BITS
        for stroke in sig.strokes:
            placed = np.rint((np.asarray(stroke, dtype=np.float64) * scale + offset) * factor).astype(np.int32)
            if len(placed) == 1:  # a dot (the dot of an i): a round blob as wide as the pen
                cv2.circle(image, tuple(int(v) for v in placed[0]), thickness * factor, 0,
                           thickness=-1, lineType=cv2.LINE_AA, shift=_SUBPIXEL_BITS)
            else:
                cv2.polylines(image, [placed.reshape(-1, 1, 2)], isClosed=False, color=0,
                              thickness=thickness, lineType=cv2.LINE_AA, shift=_SUBPIXEL_BITS)
    ok, encoded = cv2.imencode(".png", image, [cv2.IMWRITE_PNG_COMPRESSION, PNG_COMPRESSION])
    if not ok:
        raise RuntimeError("OpenCV could not encode the signature as PNG")
    return encoded.tobytes()


def summary(sig: Signature) -> dict[str, int]:
    """Counts for the consent event and the logs: no points."""
    return {
        "strokes": len(sig.strokes),
        "points": sum(len(s) for s in sig.strokes),
        "width": round(sig.width),
        "height": round(sig.height),
    }
