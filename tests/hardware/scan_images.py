"""Synthetic camera frames with a barcode in them, for the scanner tests and bench (helpers).

A licence's PDF417 (zxing-cpp's writer) or a check-in QR code (the `qrcode` library) is
printed on a card or a sheet with some clutter around it, put on a table in a 1280x720
frame, then distorted the way a kiosk camera sees it: turned in the hand, tilted
(perspective), small (held far), out of focus, moving, noisy, dim, MJPG-compressed.

    frame = render_frame(pdf417_symbol(text), Distortion("tilted", angle=12, tilt=0.15))

`python tests/hardware/scan_images.py` prints, for every case below, whether the kiosk's
pipeline (hardware.scanner.decode_image), raw zxing-cpp and raw zbar read it back.

Sizes: a licence's PDF417 is about 70 mm wide; at the arm's length a patient holds a card
in front of a 1280x720 webcam the card is ~600-800 px wide, the barcode ~500-650 px, about
2-3 px per module. The check-in QR (~25 modules) on a phone or paper is 150-300 px.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np
import qrcode
import zxingcpp

FRAME_SIZE = (1280, 720)  # width, height

# The AAMVA DL/ID-2020 standard's own example (Annex D), as tests/hardware/data/aamva has it.
SAMPLE_AAMVA = (Path(__file__).parent / "data" / "aamva" / "aamva_2020_example_v10.txt").read_bytes().decode("latin-1")
SAMPLE_TOKEN = "CK1.b3BhcXVlLWFwcG9pbnRtZW50LWlk.c2lnbmF0dXJlLWJ5dGVzLWhlcmU"  # check-in token shape


# ---------------------------------------------------------------------------- symbols
def pdf417_symbol(text: str, ec_level: int = 3) -> np.ndarray:
    """The PDF417 of `text` at one pixel per module (grey, with its quiet zone).

    AAMVA asks for error correction level 3 or more; cards print 3-5."""
    barcode = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.PDF417, ec_level=str(ec_level))
    return np.array(barcode.to_image(scale=1, add_quiet_zones=True), dtype=np.uint8)


def qr_symbol(text: str) -> np.ndarray:
    """The QR code of `text` at one pixel per module (grey, 4-module quiet zone), level M."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=1, border=4)
    code.add_data(text)
    code.make(fit=True)
    return (np.array(code.make_image().convert("L")) > 127).astype(np.uint8) * 255


# ---------------------------------------------------------------------------- distortions
@dataclass(frozen=True)
class Distortion:
    name: str
    width_px: int = 560  # the symbol's width in the frame before tilt (quiet zone included)
    angle: float = 0.0  # degrees, turned in the plane of the frame
    tilt: float = 0.0  # perspective: the far edge is this fraction shorter than the near one
    centre: tuple[float, float] = (0.5, 0.55)  # where the symbol is, as fractions of the frame
    blur: float = 0.0  # out of focus: Gaussian sigma in px
    motion: int = 0  # moving: motion blur length in px (horizontal-ish)
    noise: float = 0.0  # sensor noise: sigma in grey levels
    light: float = 1.0  # 1 = a lit room; 0.4 = dim, lower contrast
    glare: float = 0.0  # a lamp's reflection on the laminate: peak brightness added (grey levels)
    jpeg: int | None = 85  # webcams send MJPG; None = no compression
    seed: int = 0


def render_frame(symbol: np.ndarray, d: Distortion, size: tuple[int, int] = FRAME_SIZE) -> np.ndarray:
    """A BGR frame of `size` with `symbol` printed on a card/sheet on a table, distorted by `d`."""
    rng = np.random.default_rng(d.seed)
    width, height = size
    frame = _table(rng, width, height)
    plate, symbol_box = _plate(symbol, d.width_px, rng)
    # Where the plate's corners go: scaled so the symbol is d.width_px wide, turned, tilted.
    ph, pw = plate.shape[:2]
    cx, cy = d.centre[0] * width, d.centre[1] * height
    corners = np.float32([[-pw / 2, -ph / 2], [pw / 2, -ph / 2], [pw / 2, ph / 2], [-pw / 2, ph / 2]])
    shrink = np.float32([1 - d.tilt, 1 - d.tilt, 1.0, 1.0])  # top (far) edge shorter
    corners[:, 0] *= shrink
    corners[:2, 1] *= 1 - d.tilt / 2  # the far half also looks shorter
    theta = np.deg2rad(d.angle)
    rotation = np.float32([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    placed = corners @ rotation.T + np.float32([cx, cy])
    source = np.float32([[0, 0], [pw, 0], [pw, ph], [0, ph]])
    homography = cv2.getPerspectiveTransform(source, placed)
    warped = cv2.warpPerspective(plate, homography, (width, height), flags=cv2.INTER_LINEAR,
                                 borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    mask = cv2.warpPerspective(np.full((ph, pw), 255, np.uint8), homography, (width, height),
                               flags=cv2.INTER_LINEAR, borderValue=0)
    alpha = (mask.astype(np.float32) / 255)[..., None]
    shadow = cv2.GaussianBlur(alpha, (0, 0), 6)[..., None] * 0.35  # a soft shadow under the card
    image = frame.astype(np.float32) * (1 - shadow)
    image = image * (1 - alpha) + cv2.cvtColor(warped, cv2.COLOR_GRAY2BGR).astype(np.float32) * alpha
    image = _camera(image, d, rng)
    return image


def _table(rng, width: int, height: int) -> np.ndarray:
    """A wood-ish table with a light gradient: texture, but no barcode-like structure."""
    grain = rng.normal(0, 1, (height // 8 + 1, width // 2 + 1)).astype(np.float32)
    grain = cv2.resize(cv2.GaussianBlur(grain, (0, 0), sigmaX=6.0, sigmaY=1.0), (width, height))
    ramp = np.linspace(0.85, 1.1, width, dtype=np.float32)[None, :]
    base = np.float32([70, 110, 150])  # BGR brown
    table = base[None, None, :] * ramp[..., None] + grain[..., None] * 12
    return np.clip(table, 0, 255).astype(np.uint8)


def _plate(symbol: np.ndarray, width_px: int, rng) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """The card or sheet around the symbol, already at (about) frame scale, with print around it."""
    scale = width_px / symbol.shape[1]
    sw, sh = width_px, max(1, round(symbol.shape[0] * scale))
    # Resize from one pixel per module: nearest keeps module edges, then a light blur stands
    # for the printing and the lens (a real camera never sees perfect edges).
    big = cv2.resize(symbol, (sw, sh), interpolation=cv2.INTER_NEAREST if scale >= 1 else cv2.INTER_AREA)
    margin_x, margin_top, margin_bottom = round(0.10 * sw), round(0.45 * sh) + 20, round(0.12 * sh) + 10
    ph, pw = sh + margin_top + margin_bottom, sw + 2 * margin_x
    plate = np.full((ph, pw), 236, np.uint8)
    # Print above the symbol: lines of "text" (dark blocks), as on a licence's back.
    line_h = max(3, sh // 14)
    for row in range(margin_top // (2 * line_h) - 1):
        y = 10 + row * 2 * line_h
        x = margin_x
        while x < pw - margin_x:
            word = int(rng.integers(3, 12)) * line_h // 2
            plate[y:y + line_h, x:min(x + word, pw - margin_x)] = 60
            x += word + line_h
    plate[margin_top:margin_top + sh, margin_x:margin_x + sw] = big
    return plate, (margin_x, margin_top, sw, sh)


def _camera(image: np.ndarray, d: Distortion, rng) -> np.ndarray:
    image = cv2.GaussianBlur(image, (0, 0), 0.6)  # every lens
    if d.blur > 0:
        image = cv2.GaussianBlur(image, (0, 0), d.blur)
    if d.motion > 1:
        kernel = np.zeros((d.motion, d.motion), np.float32)
        kernel[d.motion // 2, :] = 1.0 / d.motion
        turn = cv2.getRotationMatrix2D((d.motion / 2 - 0.5, d.motion / 2 - 0.5), 10, 1.0)
        kernel = cv2.warpAffine(kernel, turn, (d.motion, d.motion))
        image = cv2.filter2D(image, -1, kernel / max(kernel.sum(), 1e-6))
    image = image * d.light + 20 * (1 - d.light)  # dim light: darker and flatter
    if d.glare > 0:  # a soft bright spot left of the code's centre, washing part of it out
        height, width = image.shape[:2]
        ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
        cx, cy = (d.centre[0] - 0.08) * width, (d.centre[1] + 0.02) * height
        spot = np.exp(-(((xs - cx) / (0.09 * width)) ** 2 + ((ys - cy) / (0.12 * height)) ** 2))
        image = image + d.glare * spot[..., None]
    if d.noise > 0:
        image = image + rng.normal(0, d.noise, image.shape).astype(np.float32)
    image = np.clip(image, 0, 255).astype(np.uint8)
    if d.jpeg is not None:
        ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, d.jpeg])
        image = cv2.imdecode(data, cv2.IMREAD_COLOR)
    return image


# ---------------------------------------------------------------------------- the cases
# What a kiosk must read: a card or phone held reasonably (turned, tilted, a little soft,
# a little moving, in a dim corner, a noisy cheap sensor). The tests assert these.
PDF417_MUST_READ = [
    Distortion("flat", width_px=600),
    Distortion("turned 5", width_px=600, angle=5),
    Distortion("turned 12", width_px=600, angle=-12, seed=1),
    Distortion("turned 20", width_px=600, angle=20, seed=2),
    Distortion("tilted", width_px=600, angle=4, tilt=0.15, seed=3),
    Distortion("close (large)", width_px=1000, angle=3, seed=4),
    Distortion("held far (2 px/module)", width_px=480, angle=6, seed=5),
    Distortion("soft focus", width_px=600, angle=8, blur=1.2, seed=6),
    Distortion("slight motion", width_px=600, motion=3, seed=7),
    Distortion("noisy sensor", width_px=600, angle=10, noise=12, seed=8),
    Distortion("dim room", width_px=600, angle=-7, light=0.45, noise=6, seed=9),
    Distortion("off centre", width_px=560, centre=(0.3, 0.35), angle=9, seed=10),
    Distortion("sideways", width_px=480, centre=(0.5, 0.5), angle=87, seed=23),
    Distortion("upside down", width_px=600, angle=176, seed=24),
]
QR_MUST_READ = [
    Distortion("flat", width_px=240),
    Distortion("turned 15", width_px=240, angle=15, seed=1),
    Distortion("turned 45", width_px=240, angle=45, seed=2),
    Distortion("tilted", width_px=260, angle=-8, tilt=0.2, seed=3),
    Distortion("small (4 px/module)", width_px=170, angle=6, seed=4),
    Distortion("large", width_px=420, centre=(0.5, 0.45), angle=-5, seed=5),
    Distortion("soft focus", width_px=240, blur=1.6, seed=6),
    Distortion("motion", width_px=240, motion=7, angle=5, seed=7),
    Distortion("noisy dim", width_px=240, light=0.45, noise=8, seed=8),
]
# Beyond what a patient should be asked to manage: measured and reported, not asserted.
PDF417_STRESS = [
    Distortion("held far (1.5 px/module)", width_px=360, angle=4, seed=11),
    Distortion("held far (1.2 px/module)", width_px=300, angle=4, seed=12),
    Distortion("strong tilt", width_px=600, angle=10, tilt=0.35, seed=13),
    Distortion("out of focus", width_px=600, blur=2.2, seed=14),
    Distortion("very out of focus", width_px=600, blur=3.0, seed=15),
    Distortion("moving a little", width_px=600, motion=5, seed=22),
    Distortion("moving", width_px=600, motion=11, seed=16),
    Distortion("very noisy", width_px=600, noise=30, seed=17),
    Distortion("dark", width_px=600, light=0.2, noise=5, seed=18),
    Distortion("far + soft", width_px=420, blur=1.5, angle=5, seed=19),
    Distortion("turned 30", width_px=600, angle=30, seed=20),
    Distortion("heavy JPEG", width_px=560, jpeg=35, seed=21),
    Distortion("glare", width_px=600, angle=6, glare=160, seed=25),
    Distortion("strong glare", width_px=600, angle=6, glare=260, seed=26),
]
QR_STRESS = [
    Distortion("tiny (2.5 px/module)", width_px=110, seed=11),
    Distortion("out of focus", width_px=240, blur=3.0, seed=12),
    Distortion("moving", width_px=240, motion=13, seed=13),
    Distortion("strong tilt", width_px=260, tilt=0.45, angle=20, seed=14),
    Distortion("dark", width_px=240, light=0.2, noise=5, seed=15),
    Distortion("very noisy", width_px=240, noise=35, seed=16),
    Distortion("glare", width_px=240, glare=200, seed=17),
]


def all_cases() -> list[tuple[str, str, Distortion, bool]]:
    """(kind, text, distortion, must_read) for every case, PDF417 and QR."""
    cases = [("PDF417", SAMPLE_AAMVA, d, True) for d in PDF417_MUST_READ]
    cases += [("PDF417", SAMPLE_AAMVA, d, False) for d in PDF417_STRESS]
    cases += [("QR_CODE", SAMPLE_TOKEN, d, True) for d in QR_MUST_READ]
    cases += [("QR_CODE", SAMPLE_TOKEN, d, False) for d in QR_STRESS]
    return cases


def symbol_for(kind: str, text: str) -> np.ndarray:
    return pdf417_symbol(text) if kind == "PDF417" else qr_symbol(text)


def report() -> int:
    """Print which cases the kiosk pipeline, raw zxing-cpp and raw zbar read."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from pyzbar import pyzbar

    from hardware.scanner import decode_image

    print(f"{'kind':8} {'case':28} {'must':5} {'kiosk':>6} {'zxing':>6} {'zbar':>6}")
    misses = 0
    for kind, text, d, must in all_cases():
        frame = render_frame(symbol_for(kind, text), d)
        kiosk = any(r.text == text for r in decode_image(frame))
        raw_zx = any(r.text == text for r in zxingcpp.read_barcodes(frame, text_mode=zxingcpp.TextMode.Plain))
        raw_zbar = any(r.data.decode("latin-1") == text for r in pyzbar.decode(frame))
        misses += must and not kiosk
        mark = lambda ok: "read" if ok else "-"  # noqa: E731
        print(f"{kind:8} {d.name:28} {'yes' if must else 'no':5} {mark(kiosk):>6} {mark(raw_zx):>6} {mark(raw_zbar):>6}")
    print(f"must-read cases the kiosk missed: {misses}")
    return 1 if misses else 0


def with_seed(d: Distortion, seed: int) -> Distortion:
    return replace(d, seed=seed)


if __name__ == "__main__":
    sys.exit(report())
