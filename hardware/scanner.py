"""Barcodes in camera frames: check-in QR codes (pyzbar / zbar) and the driver's licence
PDF417 (zxing-cpp: zbar cannot read PDF417). No Kivy here.

    found = decode_image(bgr_or_grey)            # [Decoded(format, text, position)], maybe []

    scanner = Scanner(camera, on_decoded)        # on_decoded(Decoded) runs on the worker thread
    scanner.start()                              # camera.start() too; decodes the newest frames
    scanner.fps, scanner.frames_decoded          # measured decode rate, frames looked at
    scanner.stop()                               # joins the worker (the camera is left running)

    python -m hardware.scanner decode IMAGE...   # IT diagnostic: one JSON object per image

decode_image is the one path the kiosk, the CLI, the tests and the bench all use. At
1280x720 it costs ~6-10 ms a frame with nothing in it and ~10-20 ms with a code:

  1. the whole frame: zbar looks for QR codes on a half-size grey copy (zbar's time grows
     with the pixels; a phone's QR still has 2+ px modules there) and zxing-cpp for the
     matrix codes zbar missed, on the full-size grey frame;
  2. barcode-like patches (dense strong edges, found on a small copy; at most two): each
     is turned upright by the direction of its edges and cut out of the full frame in one
     warp, then read by zxing-cpp. zxing-cpp reads PDF417 only within ~2 degrees of level,
     and a licence in a hand is rarely that straight, so every PDF417 comes this way. The
     strongest patch, when small (a card held far away), is tried again enlarged and
     sharpened.

Decoded text can be PHI (a licence): nothing here logs it, and Decoded's repr hides it.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import zxingcpp
from pyzbar import pyzbar

from hardware.camera import Camera, FpsMeter

log = logging.getLogger(__name__)

QR_CODE, PDF417 = "QR_CODE", "PDF417"
KIOSK_FORMATS: tuple[str, ...] = (QR_CODE, PDF417)  # what the check-in screen looks for

ZBAR_MAX_WIDTH = 640  # zbar runs on a copy this wide (or narrower): ~6 ms instead of ~25 ms
RESCUE_WIDTH = 320  # the copy the barcode-like patches are looked for on
RESCUE_MAX_REGIONS = 2  # patches tried per frame: bounds the time of a frame with clutter
RESCUE_MIN_AREA = 0.004  # of the frame: a patch smaller than this is print, not a barcode
RESCUE_WINDOW = 9  # px of the small copy (~36 px of the frame) over which edges are averaged
RESCUE_EDGE_LEVEL = 80  # averaged gradient below which nothing in the frame is a barcode
RESCUE_RELATIVE_LEVEL = 0.45  # patches at least this share of the strongest one are candidates
RESCUE_MARGIN = 0.08  # of the patch's long side, kept around it: the quiet zone and the blur
RESCUE_UPSCALE_BELOW = 560  # px: smaller patches are enlarged (modules of ~2 px and less)...
RESCUE_TARGET_WIDTH = 760  # ...to about this width...
RESCUE_MAX_UPSCALE = 2.0  # ...by at most this factor
ANGLE_MAX_WIDTH = 1000  # px: wider patches have their angle measured at half size
DEDUPE_S = 3.0  # the same text again within this many seconds is the same scan
SCANNER_FPS = 15.0  # frames decoded per second at most: leaves the other core to the UI
JOIN_TIMEOUT_S = 2.0

# zxing-cpp's and zbar's names for a format -> one name (ZXing's, as most tools print).
_ZXING_NAMES = {
    "QRCode": QR_CODE, "MicroQRCode": "MICRO_QR_CODE", "RMQRCode": "RMQR_CODE", "PDF417": PDF417,
    "CompactPDF417": PDF417, "MicroPDF417": "MICRO_PDF417", "DataMatrix": "DATA_MATRIX", "Aztec": "AZTEC",
    "Code128": "CODE_128", "Code39": "CODE_39", "Code93": "CODE_93", "Codabar": "CODABAR", "ITF": "ITF",
    "EAN13": "EAN_13", "EAN8": "EAN_8", "UPCA": "UPC_A", "UPCE": "UPC_E", "DataBar": "RSS_14",
    "DataBarExpanded": "RSS_EXPANDED", "DataBarExp": "RSS_EXPANDED", "MaxiCode": "MAXICODE",
    # zxing-cpp 3 reports some formats by their variant:
    "QRCodeModel1": QR_CODE, "QRCodeModel2": QR_CODE, "AztecCode": "AZTEC", "AztecRune": "AZTEC",
    "Code39Std": "CODE_39", "Code39Ext": "CODE_39", "DataBarOmni": "RSS_14", "DataBarStk": "RSS_14",
    "DataBarStkOmni": "RSS_14", "DataBarLtd": "RSS_LIMITED", "DataBarExpStk": "RSS_EXPANDED", "ITF14": "ITF",
}
_ZBAR_NAMES = {
    "QRCODE": QR_CODE, "CODE128": "CODE_128", "CODE39": "CODE_39", "CODE93": "CODE_93", "CODABAR": "CODABAR",
    "I25": "ITF", "EAN13": "EAN_13", "EAN8": "EAN_8", "UPCA": "UPC_A", "UPCE": "UPC_E", "ISBN10": "EAN_13",
    "ISBN13": "EAN_13", "DATABAR": "RSS_14", "DATABAR_EXP": "RSS_EXPANDED", "EAN5": "EAN_5", "EAN2": "EAN_2",
}
_ZBAR_SYMBOLS = {name: getattr(pyzbar.ZBarSymbol, zbar_name) for zbar_name, name in _ZBAR_NAMES.items()
                 if hasattr(pyzbar.ZBarSymbol, zbar_name) and not zbar_name.startswith("ISBN")}
_ZXING_ONLY = {PDF417, "MICRO_PDF417", "DATA_MATRIX", "AZTEC", "MICRO_QR_CODE", "RMQR_CODE", "MAXICODE"}

Point = tuple[int, int]


@dataclass(frozen=True)
class Decoded:
    """One barcode read from an image: its format ("QR_CODE", "PDF417", ...), its text and
    where it was (corners in the image's pixels, clockwise from top-left), when known."""

    format: str
    text: str
    position: tuple[Point, ...] | None = None

    def __repr__(self) -> str:  # the text may be a licence (PHI): never in logs or tracebacks
        return f"<Decoded {self.format} {len(self.text)} chars>"


# ---------------------------------------------------------------------------- decoding
def decode_image(image: np.ndarray, formats: Sequence[str] | None = KIOSK_FORMATS) -> list[Decoded]:
    """Every barcode found in a BGR, BGRA or grey image, each text once. `formats` limits the
    search (names as in Decoded.format; None = every format zbar or zxing-cpp knows)."""
    grey = _grey(image)
    if grey is None or min(grey.shape) < 8:
        return []
    wanted = None if formats is None else frozenset(formats)
    found = _Found()
    # 1. The whole frame: zbar (QR, 1-D) on a half-size copy, then zxing-cpp for the matrix
    #    codes zbar lacks or missed. Not PDF417: zxing-cpp reads it only within ~2 degrees
    #    of level, and on a whole frame with a tilted one it spends ~20 ms failing.
    found.add(_zbar(_shrunk(grey, ZBAR_MAX_WIDTH), wanted))
    frame_formats = _zxing_formats(wanted, skip_qr=found.has(QR_CODE), skip_pdf417=True)
    if frame_formats is not None:
        found.add(_zxing(grey, frame_formats))
    # 2. Barcode-like patches, turned upright: every PDF417, and what step 1 missed. Only
    #    the strongest patch gets the retry, the next one a single look: bounded time.
    if (wanted is None or PDF417 in wanted) or not found.results:
        regions = [r for r in _barcode_like_regions(grey) if not _covers(r, found.results)]
        for rank, region in enumerate(regions):
            more = _rescue(grey, region, wanted, retry=rank == 0)
            found.add(more)
            if more:
                break
    return found.results


def _covers(region: _Region, results: list[Decoded]) -> bool:
    """Is the patch a code already read (its position's centre inside the patch)?"""
    x, y, w, h = region.box
    for result in results:
        if result.position:
            cx = sum(p[0] for p in result.position) / len(result.position)
            cy = sum(p[1] for p in result.position) / len(result.position)
            if x <= cx <= x + w and y <= cy <= y + h:
                return True
    return False


class _Found:
    """Results in the order found, each (format, text) once."""

    def __init__(self):
        self.results: list[Decoded] = []
        self._seen: set[tuple[str, str]] = set()

    def add(self, decoded: Iterable[Decoded]) -> None:
        for item in decoded:
            key = (item.format, item.text)
            if item.text and key not in self._seen:
                self._seen.add(key)
                self.results.append(item)

    def has(self, fmt: str) -> bool:
        return any(r.format == fmt for r in self.results)


def _grey(image) -> np.ndarray | None:
    if not isinstance(image, np.ndarray) or image.size == 0:
        return None
    if image.dtype != np.uint8:
        image = np.clip(image, 0, 255).astype(np.uint8)
    if image.ndim == 2:
        return image
    if image.ndim == 3 and image.shape[2] == 3:
        return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    if image.ndim == 3 and image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY)
    if image.ndim == 3 and image.shape[2] == 1:
        return image[:, :, 0]
    return None


class _View:
    """An image derived from the frame (shrunk, cut out, turned, enlarged) and the 2x3 affine
    matrix from frame pixels to its pixels, so positions found in it map back to the frame."""

    def __init__(self, image: np.ndarray, matrix: np.ndarray | None = None):
        self.image = image
        self.matrix = np.float64([[1, 0, 0], [0, 1, 0]]) if matrix is None else matrix

    def to_original(self, points) -> tuple[Point, ...]:
        inverse = cv2.invertAffineTransform(self.matrix)
        return tuple((int(round(inverse[0, 0] * x + inverse[0, 1] * y + inverse[0, 2])),
                      int(round(inverse[1, 0] * x + inverse[1, 1] * y + inverse[1, 2]))) for x, y in points)


def _shrunk(grey: np.ndarray, max_width: int) -> _View:
    width = grey.shape[1]
    if width <= max_width:
        return _View(grey)
    scale = max_width / width
    size = (max_width, max(1, round(grey.shape[0] * scale)))
    # INTER_AREA is fast for whole factors (1280 -> 640), INTER_LINEAR otherwise.
    interpolation = cv2.INTER_AREA if (width / max_width).is_integer() else cv2.INTER_LINEAR
    return _View(cv2.resize(grey, size, interpolation=interpolation), np.float64([[scale, 0, 0], [0, scale, 0]]))


def _zbar(scaled: _View, wanted: frozenset[str] | None) -> list[Decoded]:
    symbols = list(dict.fromkeys(sym for name, sym in _ZBAR_SYMBOLS.items() if wanted is None or name in wanted))
    if not symbols:
        return []
    out = []
    for result in pyzbar.decode(scaled.image, symbols=symbols):
        name = _ZBAR_NAMES.get(result.type, result.type)
        points = scaled.to_original((p.x, p.y) for p in result.polygon) if result.polygon else None
        out.append(Decoded(name, _text(result.data), points))
    return out


def _zxing_formats(wanted: frozenset[str] | None, *, skip_qr: bool = False, skip_pdf417: bool = False):
    """The zxing-cpp formats to ask for, or None when there is nothing left to ask it."""
    names = set(_zxing_by_name()) if wanted is None else set(wanted & (_ZXING_ONLY | {QR_CODE}))
    if wanted is None:
        names -= set(_ZBAR_SYMBOLS) - {QR_CODE}  # the 1-D formats: zbar reads them
    if skip_qr:
        names.discard(QR_CODE)
    if skip_pdf417:
        names -= {PDF417, "MICRO_PDF417"}
    picked = list(dict.fromkeys(fmt for key, fmt in _zxing_by_name().items() if key in names))
    return picked or None


def _zxing_by_name() -> dict[str, object]:
    table = {}
    for zxing_name, name in _ZXING_NAMES.items():
        fmt = getattr(zxingcpp.BarcodeFormat, zxing_name, None)
        if fmt is not None and name not in table:
            table[name] = fmt
    return table


def _zxing(scaled_or_grey, formats, *, try_harder: bool = True) -> list[Decoded]:
    scaled = scaled_or_grey if isinstance(scaled_or_grey, _View) else _View(scaled_or_grey)
    results = zxingcpp.read_barcodes(scaled.image, formats=formats, try_rotate=try_harder, try_downscale=try_harder,
                                     try_invert=False, text_mode=zxingcpp.TextMode.Plain)
    out = []
    for result in results:
        if not result.valid:
            continue
        name = _ZXING_NAMES.get(result.format.name if hasattr(result.format, "name") else str(result.format))
        name = name or str(result.format).upper().replace(" ", "_")
        p = result.position
        corners = (p.top_left, p.top_right, p.bottom_right, p.bottom_left)
        out.append(Decoded(name, result.text, scaled.to_original((c.x, c.y) for c in corners)))
    return out


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


# ---------------------------------------------------------------------------- the retry
@dataclass(frozen=True)
class _Region:
    """A barcode-like patch of the frame: its outline (frame pixels) and how strong it is."""

    points: np.ndarray  # N x 2 float32, the blob's outline in frame pixels
    box: tuple[int, int, int, int]  # x, y, w, h around it, with a margin, inside the frame
    score: float


def _barcode_like_regions(grey: np.ndarray) -> list[_Region]:
    """Patches dense with strong edges, strongest first (at most RESCUE_MAX_REGIONS).

    Barcodes are the densest edge patches in a frame: gradient magnitude on a small copy,
    averaged over a wide window, kept where it is near the strongest, cleaned of thin lines.
    """
    small = _shrunk(grey, RESCUE_WIDTH)
    image = small.image.astype(np.float32)
    gx = cv2.Sobel(image, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(image, cv2.CV_32F, 0, 1, ksize=3)
    # A wide window: a barcode is edges everywhere, a card's border or a line of print is
    # one edge in the window. Relative to the strongest patch, so dim light still works.
    energy = cv2.blur(cv2.magnitude(gx, gy), (RESCUE_WINDOW, RESCUE_WINDOW))
    peak = float(energy.max())
    if peak < RESCUE_EDGE_LEVEL:
        return []
    mask = (energy > RESCUE_RELATIVE_LEVEL * peak).astype(np.uint8) * 255
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (5, 5)))
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    min_area = RESCUE_MIN_AREA * mask.shape[0] * mask.shape[1]
    scale = small.matrix[0, 0]
    height, width = grey.shape
    regions = []
    for contour in contours:
        area = cv2.contourArea(contour)
        if area < min_area:
            continue
        blob = np.zeros_like(mask)
        cv2.drawContours(blob, [contour], -1, 255, thickness=cv2.FILLED)
        score = area * cv2.mean(energy, mask=blob)[0]
        points = (contour.reshape(-1, 2) / scale).astype(np.float32)
        x, y, w, h = cv2.boundingRect(points)
        margin = round(RESCUE_MARGIN * max(w, h)) + 4  # the quiet zone, and blur around the code
        x0, y0 = max(0, x - margin), max(0, y - margin)
        x1, y1 = min(width, x + w + margin), min(height, y + h + margin)
        regions.append(_Region(points, (x0, y0, x1 - x0, y1 - y0), score))
    regions.sort(key=lambda r: -r.score)
    return regions[:RESCUE_MAX_REGIONS]


def _bar_angle(patch: np.ndarray) -> float:
    """The angle (degrees, counter-clockwise) that turns the patch's bars upright.

    zxing-cpp reads PDF417 only when its rows are within ~2 degrees of horizontal, and a
    card in a hand is rarely that straight. The bars' edges dominate the gradients of a
    PDF417 (the rows' borders are fewer and weaker), so the main direction of the structure
    tensor is across the bars. Scharr at full resolution: the bars are 2-3 px wide, and a
    shrunk copy or the Sobel kernel (less isotropic) are 1-2 degrees off, which is too much.
    """
    if patch.shape[1] > ANGLE_MAX_WIDTH:  # a large code has wide modules: half size is plenty
        patch = cv2.resize(patch, (patch.shape[1] // 2, patch.shape[0] // 2), interpolation=cv2.INTER_AREA)
    image = patch.astype(np.float32)
    gx = cv2.Scharr(image, cv2.CV_32F, 1, 0)
    gy = cv2.Scharr(image, cv2.CV_32F, 0, 1)
    sxx, syy, sxy = cv2.sumElems(gx * gx)[0], cv2.sumElems(gy * gy)[0], cv2.sumElems(gx * gy)[0]
    return float(np.degrees(0.5 * np.arctan2(2 * sxy, sxx - syy)))


def _upright(grey: np.ndarray, region: _Region, angle: float, enlarge: bool = False) -> _View | None:
    """The region cut out of the frame and turned upright in one warp into a canvas just big
    enough for it. `enlarge`: made bigger too (cubic: keeps 1.5 px modules), or None when
    the region is not small enough to gain from it."""
    centre = region.points.mean(axis=0)
    turn = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), angle, 1.0)
    turned = region.points @ turn[:, :2].T + turn[:, 2]
    (left, top), (right, bottom) = turned.min(axis=0), turned.max(axis=0)
    long_side = max(right - left, bottom - top)
    margin = RESCUE_MARGIN * long_side + 4
    scale = 1.0
    if enlarge:
        if long_side >= RESCUE_UPSCALE_BELOW:
            return None
        scale = min(RESCUE_MAX_UPSCALE, RESCUE_TARGET_WIDTH / long_side)
    out_w, out_h = int((right - left + 2 * margin) * scale), int((bottom - top + 2 * margin) * scale)
    if out_w < 8 or out_h < 8:
        return None
    # frame -> turned about the centre -> moved so the region's corner is at the margin -> scaled
    matrix = np.float64(turn)
    matrix[:, 2] -= (left - margin, top - margin)
    matrix *= scale
    image = cv2.warpAffine(grey, matrix, (out_w, out_h), flags=cv2.INTER_CUBIC if scale > 1 else cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_REPLICATE)
    return _View(image, matrix)


def _rescue(grey: np.ndarray, region: _Region, wanted: frozenset[str] | None, *, retry: bool) -> list[Decoded]:
    """Read one barcode-like patch turned upright; with `retry`, a small patch (modules of
    ~1.5 px: a card held far away) is also tried enlarged and sharpened.

    An adaptive-threshold retry was measured too (uneven light, glare) and read nothing the
    others missed (zxing-cpp's own binarizer is local already), so it is not done.
    """
    x, y, w, h = region.box
    patch = grey[y:y + h, x:x + w]
    if patch.size == 0 or min(patch.shape) < 8:
        return []
    angle = _bar_angle(patch)
    zxing_formats = _zxing_formats(wanted)
    views = [(_upright(grey, region, angle), _as_is)]
    if retry:
        views.append((_upright(grey, region, angle, enlarge=True), _sharpened))
    for view, make in views:
        if view is None:
            continue
        attempt = _View(make(view.image), view.matrix)
        # Upright already and at a good size: zxing-cpp's own turns and downscaling would
        # only cost time. QR codes are zxing-cpp's here too (zbar is slow on a large patch);
        # zbar still reads what only it knows (1-D formats) when every format is asked for.
        found = _zxing(attempt, zxing_formats, try_harder=False) if zxing_formats is not None else []
        if not found and wanted is None:
            found = _zbar(attempt, wanted)
        if found:
            return found
    return []


def _as_is(image: np.ndarray) -> np.ndarray:
    return image


def _sharpened(image: np.ndarray) -> np.ndarray:
    return cv2.addWeighted(image, 2.0, cv2.GaussianBlur(image, (0, 0), 1.5), -1.0, 0)


# ---------------------------------------------------------------------------- the worker
class Scanner:
    """Decodes the camera's newest frames on its own thread and reports new codes.

    `on_decoded(decoded)` is called on the worker thread with the first code of a frame
    whose text was not seen in the last `dedupe_s` seconds (a code held in front of the
    camera is reported once; shown again after a pause, it is reported again). A Kivy
    screen hands it to the UI thread with Clock.schedule_once. Frames are skipped, never
    queued: a slow decode never makes the kiosk fall behind the camera.
    """

    def __init__(self, camera: Camera, on_decoded: Callable[[Decoded], None], *,
                 formats: Sequence[str] | None = KIOSK_FORMATS, dedupe_s: float = DEDUPE_S,
                 max_fps: float | None = SCANNER_FPS,
                 decode: Callable[..., list[Decoded]] = decode_image, clock: Callable[[], float] = time.monotonic):
        self.camera = camera
        self.on_decoded = on_decoded
        self.formats = formats
        self.dedupe_s = dedupe_s
        self.interval = 1.0 / max_fps if max_fps else 0.0
        self._decode = decode
        self._clock = clock
        self._halt = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._last_seen: dict[str, float] = {}
        self._fps = FpsMeter()
        self.frames_decoded = 0  # frames looked at since start()
        self.codes_reported = 0
        self.last_decode_ms = 0.0

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def fps(self) -> float:
        """Frames decoded per second (measured over the last seconds)."""
        with self._lock:
            return self._fps.rate(time.monotonic())

    def start(self) -> None:
        """Start the camera (if it is not running) and the decoding worker; returns at once."""
        if self.running:
            return
        self.camera.start()
        self._halt.clear()
        with self._lock:
            self._fps.reset()
        self.frames_decoded = self.codes_reported = 0
        self._thread = threading.Thread(target=self._run, name="barcode scanner", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop decoding and forget what was seen. The camera is the caller's to stop."""
        self._halt.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(JOIN_TIMEOUT_S)
            if not thread.is_alive():
                self._thread = None
        with self._lock:
            self._last_seen.clear()

    def forget(self) -> None:
        """Report the next code even if it was just seen (e.g. after "scan again")."""
        with self._lock:
            self._last_seen.clear()

    def _run(self) -> None:
        last_seq, last_at = 0, -1e9
        while not self._halt.is_set():
            frame = self.camera.wait_for_frame(last_seq, timeout=0.1)
            if frame is None:
                if not self.camera.running:  # stopped, absent or unplugged: wait_for_frame returns at once
                    self._halt.wait(0.1)
                continue
            last_seq = frame.seq
            wait = last_at + self.interval - time.monotonic()
            if wait > 0 and self._halt.wait(wait):
                break
            frame = self.camera.latest() or frame  # the newest after the pause
            last_seq = frame.seq
            last_at = time.monotonic()
            try:
                results = self._decode(frame.image, self.formats)
            except Exception as error:  # a decoder bug must not kill the scanner; no image content logged
                log.error("scanner.decode_failed", extra={"fields": {"error": type(error).__name__}})
                results = []
            self.last_decode_ms = (time.monotonic() - last_at) * 1000
            self.frames_decoded += 1
            with self._lock:
                self._fps.tick(time.monotonic())
            fresh = self._fresh(results)
            if fresh is not None:
                self.codes_reported += 1
                try:
                    self.on_decoded(fresh)
                except Exception as error:
                    log.error("scanner.callback_failed", extra={"fields": {"error": type(error).__name__}})

    def _fresh(self, results: list[Decoded]) -> Decoded | None:
        now = self._clock()
        first = None
        with self._lock:
            for result in results:
                seen = self._last_seen.get(result.text)
                self._last_seen[result.text] = now  # still in view: the pause starts again
                if first is None and (seen is None or now - seen > self.dedupe_s):
                    first = result
            for text in [t for t, at in self._last_seen.items() if now - at > self.dedupe_s]:
                del self._last_seen[text]
        return first


# ---------------------------------------------------------------------------- the CLI
def describe_image(path: str | Path) -> tuple[dict, bool]:
    """The JSON object the CLI prints for one image, and whether the file could be read."""
    from hardware.aamva import AamvaError, is_aamva, parse_aamva

    out: dict = {"file": str(path)}
    try:
        data = np.fromfile(str(path), np.uint8)
    except OSError as error:
        out["error"] = f"cannot read the file: {error.strerror or type(error).__name__}"
        return out, False
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if image is None:
        out["error"] = "not an image OpenCV can read (PNG, JPEG, BMP, TIFF, WebP ...)" if data.size else "empty file"
        return out, False
    found = decode_image(image, formats=None)
    found.sort(key=lambda d: not is_aamva(d.text))  # a licence first when there are several
    first = found[0] if found else None
    out["format"] = first.format if first else None
    out["text"] = first.text if first else None
    if first is not None and is_aamva(first.text):
        try:
            licence = parse_aamva(first.text)
        except AamvaError as error:
            out["licence"] = None
            out["licence_error"] = str(error)
        else:
            out["licence"] = licence.as_dict()
            out["licence_problems"] = list(licence.problems)
    if len(found) > 1:
        out["others"] = [{"format": d.format, "text": d.text} for d in found[1:]]
    return out, True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hardware.scanner",
                                     description="Barcode diagnostics for IT (the kiosk's own decoder).")
    commands = parser.add_subparsers(dest="command", required=True)
    decode = commands.add_parser("decode", help="decode barcodes in image files; one JSON object per image")
    decode.add_argument("images", nargs="+", metavar="IMAGE")
    args = parser.parse_args(argv)
    all_read = True
    for path in args.images:
        described, read = describe_image(path)
        all_read &= read
        print(json.dumps(described, ensure_ascii=False), flush=True)
    return 0 if all_read else 2


if __name__ == "__main__":
    sys.exit(main())
