"""Make the replay camera's synthetic insurance-card frames (tests and the demo).

    python scripts/make_replay_frames.py [OUT_DIR]      # default: assets/demo/camera

Writes one scene per card side, each a folder of 1280x720 JPEGs and a playlist.txt
(`file repeat` per line) that the ReplayCamera plays at 30 fps:

    card_front/  card_back/
      empty table -> a hand with no card -> card moving in (motion blur)
      -> card in place but out of focus -> steady, sharp frames with tiny jitter

The card is made up ("Sunrise Health Plan", member "Alex Sample") and says SYNTHETIC on
it. Everything is drawn with OpenCV from a fixed seed, so the same files come out every
time (same OpenCV version). File names carry the phase (`07_moving.jpg`): tests use it
as ground truth.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

FRAME_SIZE = (1280, 720)  # width, height: the kiosk camera's mode
PX_PER_MM = 10  # card drawn flat at 10 px/mm, then warped into the frame
CARD_MM = (85.6, 54.0)  # ID-1
SEED = 20250605
JPEG_QUALITY = 72  # keeps both scenes under ~2 MB with the sensor noise still visible
SENSOR_NOISE = 1.6  # grey levels (sigma): real webcams are never noise-free
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "assets" / "demo" / "camera"

NAVY = (92, 46, 20)
ORANGE = (40, 140, 250)
INK = (40, 36, 30)
GREY_INK = (95, 90, 85)
PAPER = (236, 240, 242)
FONT = cv2.FONT_HERSHEY_DUPLEX
PLAIN = cv2.FONT_HERSHEY_SIMPLEX


# ---------------------------------------------------------------- the card, drawn flat
def _blank_card() -> tuple[np.ndarray, np.ndarray]:
    w, h = round(CARD_MM[0] * PX_PER_MM), round(CARD_MM[1] * PX_PER_MM)
    card = np.full((h, w, 3), PAPER, np.uint8)
    mask = np.zeros((h, w), np.uint8)
    r = 32  # ID-1 corner radius is 3.18 mm
    cv2.rectangle(mask, (r, 0), (w - 1 - r, h - 1), 255, -1)
    cv2.rectangle(mask, (0, r), (w - 1, h - 1 - r), 255, -1)
    for cx, cy in ((r, r), (w - 1 - r, r), (r, h - 1 - r), (w - 1 - r, h - 1 - r)):
        cv2.circle(mask, (cx, cy), r, 255, -1, cv2.LINE_AA)
    return card, mask


def _text(img, text, org, scale, color=INK, thick=2, font=FONT):
    cv2.putText(img, text, org, font, scale, color, thick, cv2.LINE_AA)


def _logo(img, centre: tuple[int, int], radius: int) -> None:
    """A rising sun over a horizon: the made-up insurer's mark."""
    cx, cy = centre
    for i in range(7):
        angle = np.pi * (i + 0.5) / 7
        inner = (int(cx - np.cos(angle) * radius * 1.25), int(cy - np.sin(angle) * radius * 1.25))
        outer = (int(cx - np.cos(angle) * radius * 1.7), int(cy - np.sin(angle) * radius * 1.7))
        cv2.line(img, inner, outer, ORANGE, 6, cv2.LINE_AA)
    cv2.ellipse(img, (cx, cy), (radius, radius), 0, 180, 360, ORANGE, -1, cv2.LINE_AA)
    cv2.line(img, (cx - int(radius * 2), cy + 4), (cx + int(radius * 2), cy + 4), (250, 250, 250), 5, cv2.LINE_AA)


def card_front() -> tuple[np.ndarray, np.ndarray]:
    card, mask = _blank_card()
    w = card.shape[1]
    cv2.rectangle(card, (0, 0), (w, 120), NAVY, -1)
    _logo(card, (85, 92), 34)
    _text(card, "Sunrise Health Plan", (165, 75), 1.45, (250, 250, 250), 2)
    _text(card, "PPO SILVER", (w - 215, 108), 0.8, (200, 230, 250), 2, PLAIN)
    _text(card, "Member", (40, 175), 0.7, GREY_INK, 1, PLAIN)
    _text(card, "ALEX SAMPLE", (40, 220), 1.3, INK, 2)
    _text(card, "Member ID", (40, 270), 0.7, GREY_INK, 1, PLAIN)
    _text(card, "SHP 000 123 456", (40, 315), 1.2, INK, 2)
    _text(card, "Group", (520, 270), 0.7, GREY_INK, 1, PLAIN)
    _text(card, "90210-SYN", (520, 315), 1.0, INK, 2)
    cv2.line(card, (40, 345), (w - 40, 345), (190, 185, 180), 2)
    for row, (label, value) in enumerate((("PCP copay", "$25"), ("Specialist", "$50"), ("Urgent care", "$75"))):
        y = 390 + row * 40
        _text(card, label, (40, y), 0.8, INK, 2, PLAIN)
        _text(card, value, (300, y), 0.8, INK, 2, PLAIN)
    _text(card, "RxBIN 000000", (520, 390), 0.8, INK, 2, PLAIN)
    _text(card, "RxPCN SYN01", (520, 430), 0.8, INK, 2, PLAIN)
    _text(card, "RxGRP SAMPLE", (520, 470), 0.8, INK, 2, PLAIN)
    _text(card, "SYNTHETIC - NOT A REAL CARD", (40, 520), 0.6, GREY_INK, 1, PLAIN)
    return card, mask


def card_back() -> tuple[np.ndarray, np.ndarray]:
    card, mask = _blank_card()
    w = card.shape[1]
    cv2.rectangle(card, (0, 0), (w, 70), NAVY, -1)
    _text(card, "Sunrise Health Plan", (40, 48), 1.0, (250, 250, 250), 2)
    lines = (
        ("Member services", "1-800-555-0100"),
        ("Nurse line, 24 h", "1-800-555-0123"),
        ("Providers", "1-800-555-0199"),
        ("Pharmacy help", "1-800-555-0142"),
    )
    for row, (label, number) in enumerate(lines):
        y = 125 + row * 45
        _text(card, label, (40, y), 0.85, INK, 2, PLAIN)
        _text(card, number, (450, y), 0.95, INK, 2)
    cv2.line(card, (40, 315), (w - 40, 315), (190, 185, 180), 2)
    small = (
        "Send claims to: Sunrise Health Plan, PO Box 0000, Anytown 00000.",
        "Show this card at every visit. Possession of this card does not",
        "guarantee eligibility for benefits. In an emergency call 911 or go",
        "to the nearest emergency room. Precertification may be required.",
        "SYNTHETIC SAMPLE FOR SOFTWARE TESTS - NOT A REAL CARD",
    )
    for row, line in enumerate(small):
        _text(card, line, (40, 355 + row * 36), 0.62, GREY_INK, 1, PLAIN)
    return card, mask


# ---------------------------------------------------------------- the scene around it
def table(rng: np.random.Generator) -> np.ndarray:
    """A wooden table top with soft grain and uneven light (not a flat colour)."""
    w, h = FRAME_SIZE
    grain = rng.normal(0, 1, (h // 24, 6)).astype(np.float32)
    grain = cv2.resize(grain, (w, h), interpolation=cv2.INTER_CUBIC)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    light = 1.0 - 0.25 * (((xx - w * 0.45) / w) ** 2 + ((yy - h * 0.4) / h) ** 2)
    base = np.array([62, 98, 140], np.float32)  # BGR: warm brown
    img = (base[None, None, :] + 10 * grain[..., None]) * light[..., None]
    return np.clip(img, 0, 255).astype(np.uint8)


def card_corners(centre: tuple[float, float], height: float, angle_deg: float, tilt: float) -> np.ndarray:
    """Where the card's four corners land in the frame: rotated, with a little keystone."""
    width = height * CARD_MM[0] / CARD_MM[1]
    half = np.array([[-width, -height], [width, -height], [width, height], [-width, height]], np.float32) / 2
    half[:2, 0] *= 1 - tilt  # the far (top) edge looks a bit shorter
    a = np.deg2rad(angle_deg)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]], np.float32)
    return half @ rot.T + np.array(centre, np.float32)


def place_card(frame: np.ndarray, card: tuple[np.ndarray, np.ndarray], corners: np.ndarray,
               motion: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """Warp the flat card onto the frame; `motion` (px per exposure) smears card and edge alike."""
    image, mask = card
    h, w = mask.shape
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    matrix = cv2.getPerspectiveTransform(src, corners.astype(np.float32))
    size = (frame.shape[1], frame.shape[0])
    layer = cv2.warpPerspective(image, matrix, size, flags=cv2.INTER_AREA)
    alpha = cv2.warpPerspective(mask, matrix, size, flags=cv2.INTER_LINEAR).astype(np.float32) / 255
    length = int(round(np.hypot(*motion)))
    if length >= 2:
        kernel = np.zeros((length * 2 + 1, length * 2 + 1), np.float32)
        end = (int(length + motion[0] / 2), int(length + motion[1] / 2))
        start = (int(length - motion[0] / 2), int(length - motion[1] / 2))
        cv2.line(kernel, start, end, 1.0, 1)
        kernel /= kernel.sum()
        layer = cv2.filter2D(layer, -1, kernel)
        alpha = cv2.filter2D(alpha, -1, kernel)
    # A soft shadow under the card, so its edge is not a perfect cut-out.
    shadow = cv2.GaussianBlur(alpha, (0, 0), 6)
    out = frame.astype(np.float32) * (1 - 0.35 * shadow[..., None])
    out = out * (1 - alpha[..., None]) + layer.astype(np.float32) * alpha[..., None]
    return np.clip(out, 0, 255).astype(np.uint8)


def hand(frame: np.ndarray, rng: np.random.Generator, reach: float) -> np.ndarray:
    """A hand (palm and fingers, no card) reaching in from the bottom right; reach 0..1."""
    out = frame.copy()
    skin = (120, 160, 215)
    w, h = FRAME_SIZE
    palm = (int(w * 0.78 - reach * 260), int(h * 1.05 - reach * 330))
    cv2.ellipse(out, palm, (150, 190), -35, 0, 360, skin, -1, cv2.LINE_AA)
    for i in range(4):
        tip = (palm[0] - 120 - i * 18 + int(rng.integers(-4, 5)), palm[1] - 200 + i * 55)
        cv2.line(out, (palm[0] - 40, palm[1] - 80 + i * 40), tip, skin, 46, cv2.LINE_AA)
    return cv2.GaussianBlur(out, (0, 0), 2.0)


def sensor(frame: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    noise = rng.normal(0, SENSOR_NOISE, frame.shape).astype(np.float32)
    return np.clip(frame.astype(np.float32) + noise, 0, 255).astype(np.uint8)


# ---------------------------------------------------------------- the sequences
@dataclass
class Shot:
    phase: str  # empty | hand | moving | blurred | steady
    image: np.ndarray
    repeat: int  # frames at 30 fps


REST = (640.0, 360.0)  # the card's resting centre: the middle of the guide frame
REST_HEIGHT = 455.0  # px: ~90 % of the guide's height (70 % of 720)


def sequence(side: str, rng: np.random.Generator) -> list[Shot]:
    card = card_front() if side == "front" else card_back()
    base = table(rng)
    shots = [Shot("empty", sensor(base, rng), 6) for _ in range(3)]
    shots += [Shot("hand", sensor(hand(base, rng, reach), rng), 4) for reach in (0.3, 0.7, 1.0, 0.6)]
    # Moving in from the lower right, slowing down, with motion blur along the way.
    path = [((1150, 690), 300, 14), ((1000, 580), 360, 10), ((860, 480), 410, 7), ((740, 410), 440, 4),
            ((680, 380), 450, 2)]
    previous = None
    for (cx, cy), height, angle in path:
        motion = (0.0, 0.0) if previous is None else ((cx - previous[0]) * 0.5, (cy - previous[1]) * 0.5)
        corners = card_corners((cx, cy), height, angle, 0.02)
        shots.append(Shot("moving", sensor(place_card(base, card, corners, motion), rng), 2))
        previous = (cx, cy)
    # In place, the lens still hunting for focus.
    rest = card_corners(REST, REST_HEIGHT, 1.2, 0.02)
    sharp = place_card(base, card, rest)
    for sigma in (5.0, 3.5, 2.5):
        shots.append(Shot("blurred", sensor(cv2.GaussianBlur(sharp, (0, 0), sigma), rng), 4))
    # Steady: a hand is never perfectly still (sub-pixel to 1 px shifts, a tenth of a degree).
    for _ in range(6):
        jitter = card_corners((REST[0] + rng.uniform(-1, 1), REST[1] + rng.uniform(-1, 1)), REST_HEIGHT,
                              1.2 + rng.uniform(-0.1, 0.1), 0.02)
        shots.append(Shot("steady", sensor(place_card(base, card, jitter), rng), 5))
    return shots


def write_scene(out_dir: Path, side: str, rng: np.random.Generator) -> int:
    scene = out_dir / f"card_{side}"
    scene.mkdir(parents=True, exist_ok=True)
    for old in scene.glob("*.jpg"):
        old.unlink()
    lines = ["# file repeat  (frames at 30 fps); made by scripts/make_replay_frames.py"]
    total = 0
    for number, shot in enumerate(sequence(side, rng)):
        name = f"{number:02d}_{shot.phase}.jpg"
        ok, data = cv2.imencode(".jpg", shot.image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        assert ok
        (scene / name).write_bytes(data.tobytes())
        total += len(data)
        lines.append(f"{name} {shot.repeat}")
    (scene / "playlist.txt").write_text("\n".join(lines) + "\n")
    return total


def main(argv: list[str]) -> int:
    out_dir = Path(argv[0]) if argv else DEFAULT_OUT
    rng = np.random.default_rng(SEED)
    total = sum(write_scene(out_dir, side, rng) for side in ("front", "back"))
    print(f"wrote card_front/ and card_back/ to {out_dir} ({total / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
