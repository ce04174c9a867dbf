"""The barcode scanner: decode_image on synthetic camera frames (scan_images.py), the
Scanner worker on a replay camera, and the IT command line.

Every frame goes through decode_image, the kiosk's own path. The cases a kiosk must
handle are asserted (each with two random variations); the harder ones are measured by
`python tests/hardware/scan_images.py` and reported, not asserted.
"""
from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest
import zxingcpp
from scan_images import (
    PDF417_MUST_READ,
    QR_MUST_READ,
    SAMPLE_AAMVA,
    SAMPLE_TOKEN,
    Distortion,
    pdf417_symbol,
    qr_symbol,
    render_frame,
)

from hardware.aamva import parse_aamva
from hardware.camera import DEMO_REPLAY_DIR, CameraStatus, NoCamera, ReplayCamera
from hardware.scanner import KIOSK_FORMATS, PDF417, QR_CODE, Decoded, Scanner, decode_image

ROOT = Path(__file__).resolve().parents[2]
NOTHING = Distortion("nothing in view", centre=(3.0, 3.0))  # the symbol is placed outside the frame


@pytest.fixture(scope="module")
def licence_symbol():
    return pdf417_symbol(SAMPLE_AAMVA)


@pytest.fixture(scope="module")
def token_symbol():
    return qr_symbol(SAMPLE_TOKEN)


def texts(found: list[Decoded]) -> list[str]:
    return [d.text for d in found]


# ---------------------------------------------------------------------------- decode_image
@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("distortion", PDF417_MUST_READ, ids=lambda d: d.name)
def test_licence_pdf417_is_read_as_a_kiosk_camera_sees_it(distortion, seed, licence_symbol):
    frame = render_frame(licence_symbol, replace(distortion, seed=distortion.seed + 100 * seed))
    assert frame.shape == (720, 1280, 3)
    found = decode_image(frame)
    assert [(d.format, d.text) for d in found] == [(PDF417, SAMPLE_AAMVA)]
    assert parse_aamva(found[0].text).family_name == "SAMPLE"  # control characters intact


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("distortion", QR_MUST_READ, ids=lambda d: d.name)
def test_check_in_qr_code_is_read_as_a_kiosk_camera_sees_it(distortion, seed, token_symbol):
    frame = render_frame(token_symbol, replace(distortion, seed=distortion.seed + 100 * seed))
    assert [(d.format, d.text) for d in decode_image(frame)] == [(QR_CODE, SAMPLE_TOKEN)]


def test_position_is_where_the_code_is(licence_symbol, token_symbol):
    for symbol, centre in ((licence_symbol, (0.3, 0.35)), (token_symbol, (0.7, 0.6))):
        frame = render_frame(symbol, Distortion("placed", width_px=420, centre=centre, angle=10))
        (found,) = decode_image(frame)
        xs, ys = zip(*found.position)
        assert len(found.position) == 4
        # the code's centre is below the plate's centre (print above it): loose bounds
        assert abs(np.mean(xs) - centre[0] * 1280) < 60 and abs(np.mean(ys) - centre[1] * 720) < 120


def test_a_licence_and_a_qr_code_in_one_frame_are_both_read(licence_symbol, token_symbol):
    frame = render_frame(licence_symbol, Distortion("licence", width_px=520, centre=(0.32, 0.5), angle=7))
    qr_frame = render_frame(token_symbol, Distortion("qr", width_px=200, centre=(0.8, 0.45), angle=-12))
    frame[:, 900:] = qr_frame[:, 900:]
    assert sorted(texts(decode_image(frame))) == sorted([SAMPLE_AAMVA, SAMPLE_TOKEN])


def test_formats_limit_what_is_looked_for(token_symbol, licence_symbol):
    qr_frame = render_frame(token_symbol, QR_MUST_READ[0])
    assert decode_image(qr_frame, formats=(PDF417,)) == []
    assert texts(decode_image(qr_frame, formats=(QR_CODE,))) == [SAMPLE_TOKEN]
    licence_frame = render_frame(licence_symbol, PDF417_MUST_READ[2])
    assert decode_image(licence_frame, formats=(QR_CODE,)) == []


def test_every_format_for_diagnostics_reads_1d_and_datamatrix():
    code128 = np.array(zxingcpp.create_barcode("KIOSK-0042", zxingcpp.BarcodeFormat.Code128).to_image(scale=3))
    datamatrix = np.array(zxingcpp.create_barcode("DM-TEST-7", zxingcpp.BarcodeFormat.DataMatrix).to_image(scale=6))
    frame = np.full((720, 1280), 200, np.uint8)
    frame[100:100 + code128.shape[0], 100:100 + code128.shape[1]] = code128
    frame[400:400 + datamatrix.shape[0], 700:700 + datamatrix.shape[1]] = datamatrix
    found = {(d.format, d.text) for d in decode_image(frame, formats=None)}
    assert found == {("CODE_128", "KIOSK-0042"), ("DATA_MATRIX", "DM-TEST-7")}
    assert decode_image(frame) == []  # the kiosk's formats are QR and PDF417 only


def test_frames_without_a_code_give_nothing(licence_symbol):
    assert decode_image(render_frame(licence_symbol, NOTHING)) == []
    rng = np.random.default_rng(3)
    assert decode_image(rng.integers(0, 256, (720, 1280, 3), dtype=np.uint8)) == []
    assert decode_image(np.zeros((720, 1280, 3), np.uint8)) == []
    # the insurance-card demo frames: print, a hand, a table, but no barcode
    for path in sorted((DEMO_REPLAY_DIR / "card_front").glob("*.jpg"))[::3]:
        assert decode_image(cv2.imread(str(path))) == [], path.name


def test_any_image_shape_is_accepted(token_symbol):
    frame = render_frame(token_symbol, QR_MUST_READ[0])
    grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    assert texts(decode_image(grey)) == [SAMPLE_TOKEN]
    assert texts(decode_image(cv2.cvtColor(frame, cv2.COLOR_BGR2BGRA))) == [SAMPLE_TOKEN]
    assert texts(decode_image(grey.astype(np.float32))) == [SAMPLE_TOKEN]
    for odd in (np.zeros((0, 0, 3), np.uint8), np.zeros((4, 4), np.uint8), np.zeros((5, 5, 2), np.uint8), None,
                "not an image"):
        assert decode_image(odd) == []  # type: ignore[arg-type]


def test_decoded_repr_hides_the_text():
    decoded = Decoded(PDF417, SAMPLE_AAMVA, ((0, 0), (1, 0), (1, 1), (0, 1)))
    assert "SAMPLE" not in repr(decoded) and "T64235789" not in repr([decoded])
    assert repr(decoded) == f"<Decoded PDF417 {len(SAMPLE_AAMVA)} chars>"


# ---------------------------------------------------------------------------- the worker
def wait_until(predicate, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


@pytest.fixture
def replay_folder(tmp_path, licence_symbol, token_symbol):
    """A replay scene: nothing, a QR code held up for a while, nothing, a licence."""
    empty = render_frame(licence_symbol, NOTHING)
    qr = render_frame(token_symbol, QR_MUST_READ[1])
    licence = render_frame(licence_symbol, PDF417_MUST_READ[2])
    for name, image in (("empty.jpg", empty), ("qr.jpg", qr), ("licence.jpg", licence)):
        cv2.imwrite(str(tmp_path / name), image, [cv2.IMWRITE_JPEG_QUALITY, 90])
    (tmp_path / "playlist.txt").write_text("empty.jpg 3\nqr.jpg 12\nempty.jpg 3\nlicence.jpg 12\n")
    return tmp_path


class Collector:
    def __init__(self):
        self.items: list[tuple[Decoded, str]] = []
        self.lock = threading.Lock()

    def __call__(self, decoded: Decoded) -> None:
        with self.lock:
            self.items.append((decoded, threading.current_thread().name))

    @property
    def texts(self) -> list[str]:
        with self.lock:
            return [d.text for d, _ in self.items]


def test_scanner_reports_each_code_once_while_it_stays_in_view(replay_folder):
    camera = ReplayCamera(replay_folder, fps=30, loop=False, startup_delay=0.05)
    got = Collector()
    scanner = Scanner(camera, got, max_fps=None, dedupe_s=60)
    scanner.start()
    try:
        assert camera.running, "the scanner starts the camera"
        assert wait_until(lambda: len(got.texts) >= 2, timeout=15)
        time.sleep(0.3)
        assert got.texts == [SAMPLE_TOKEN, SAMPLE_AAMVA]
        assert all(thread == "barcode scanner" for _, thread in got.items), "off the UI thread"
        assert scanner.frames_decoded >= 10 and scanner.codes_reported == 2
        assert scanner.running and scanner.fps >= 0
        assert 0 < scanner.last_decode_ms < 1000
    finally:
        scanner.stop()
        camera.stop()
    assert not scanner.running
    assert not any(t.name == "barcode scanner" for t in threading.enumerate())


def test_the_same_code_is_reported_again_after_the_pause_or_forget(replay_folder):
    camera = ReplayCamera([replay_folder / "qr.jpg"], fps=30, startup_delay=0.05)
    got = Collector()
    scanner = Scanner(camera, got, max_fps=None, dedupe_s=60)
    scanner.start()
    try:
        assert wait_until(lambda: len(got.texts) == 1)
        frames = scanner.frames_decoded
        assert wait_until(lambda: scanner.frames_decoded >= frames + 5)
        assert got.texts == [SAMPLE_TOKEN], "held in view: once"
        scanner.forget()
        assert wait_until(lambda: len(got.texts) == 2), "after forget(): again"
    finally:
        scanner.stop()
        camera.stop()
    short = Scanner(camera, Collector(), max_fps=None, dedupe_s=0.2)
    got_short = short.on_decoded
    short.start()
    try:
        # in view all along, but the pause is measured from the last sighting: still once
        time.sleep(1.0)
        assert len(got_short.texts) == 1
    finally:
        short.stop()
        camera.stop()


def test_dedupe_window_counts_from_the_last_sighting():
    now = [100.0]
    scanner = Scanner(NoCamera(), lambda d: None, dedupe_s=3.0, clock=lambda: now[0])
    qr, other = Decoded(QR_CODE, "CK1.a.b"), Decoded(QR_CODE, "CK1.c.d")
    assert scanner._fresh([qr]) is qr
    now[0] += 2.0
    assert scanner._fresh([qr]) is None
    now[0] += 2.5  # 4.5 s after the first sighting, 2.5 s after the last: still the same scan
    assert scanner._fresh([qr, other]) is other
    now[0] += 3.5
    assert scanner._fresh([qr]) is qr  # away for longer than the window: a new scan


def test_max_fps_paces_the_decoding(replay_folder):
    camera = ReplayCamera(replay_folder, fps=30, startup_delay=0.05)
    scanner = Scanner(camera, Collector(), max_fps=5)
    scanner.start()
    try:
        assert wait_until(lambda: scanner.frames_decoded >= 2)
        start_count, started = scanner.frames_decoded, time.monotonic()
        time.sleep(1.5)
        rate = (scanner.frames_decoded - start_count) / (time.monotonic() - started)
        assert 2.0 <= rate <= 6.5
    finally:
        scanner.stop()
        camera.stop()


def test_a_failing_decoder_or_callback_does_not_stop_the_scanner(replay_folder):
    calls = {"decode": 0, "callback": 0}

    def flaky_decode(image, formats):
        calls["decode"] += 1
        if calls["decode"] % 2:
            raise RuntimeError("decoder bug")
        return [Decoded(QR_CODE, f"CK1.{calls['decode']}.x")]

    def bad_callback(decoded):
        calls["callback"] += 1
        raise ValueError("screen bug")

    camera = ReplayCamera(replay_folder, fps=30, startup_delay=0.05)
    scanner = Scanner(camera, bad_callback, max_fps=None, decode=flaky_decode)
    scanner.start()
    try:
        assert wait_until(lambda: calls["callback"] >= 3)
        assert scanner.running
    finally:
        scanner.stop()
        camera.stop()


def test_no_camera_is_a_status_with_a_reason_not_a_crash():
    camera = NoCamera()
    got = Collector()
    scanner = Scanner(camera, got)
    scanner.start()
    try:
        time.sleep(0.3)
        assert camera.status is CameraStatus.NO_CAMERA and "no camera" in camera.reason
        assert scanner.running and got.texts == [] and scanner.frames_decoded == 0
    finally:
        scanner.stop()
    assert not scanner.running


def test_an_unplugged_camera_stops_the_decoding_until_it_is_back(replay_folder):
    camera = ReplayCamera([replay_folder / "empty.jpg"], fps=30, startup_delay=0.05)
    scanner = Scanner(camera, Collector(), max_fps=None)
    scanner.start()
    try:
        assert wait_until(lambda: scanner.frames_decoded >= 3)
        camera.unplug()
        assert wait_until(lambda: camera.status is CameraStatus.NO_CAMERA)
        time.sleep(0.2)
        count = scanner.frames_decoded
        time.sleep(0.4)
        assert scanner.frames_decoded == count
        camera.replug()
        assert wait_until(lambda: scanner.frames_decoded > count + 2)
    finally:
        scanner.stop()
        camera.stop()


# ---------------------------------------------------------------------------- the command line
def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hardware.scanner", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)


def test_cli_prints_one_json_object_per_image(tmp_path, licence_symbol, token_symbol):
    paths = {"licence": tmp_path / "licence.jpg", "qr": tmp_path / "qr.png", "nothing": tmp_path / "nothing.png"}
    cv2.imwrite(str(paths["licence"]), render_frame(licence_symbol, PDF417_MUST_READ[3]))
    cv2.imwrite(str(paths["qr"]), render_frame(token_symbol, QR_MUST_READ[2]))
    cv2.imwrite(str(paths["nothing"]), render_frame(token_symbol, NOTHING))
    result = run_cli("decode", *map(str, paths.values()))
    assert result.returncode == 0, result.stderr
    licence, qr, nothing = (json.loads(line) for line in result.stdout.splitlines())
    assert licence["format"] == "PDF417" and licence["text"] == SAMPLE_AAMVA
    assert licence["licence"] == {
        "family_name": "SAMPLE", "given_name": "MICHAEL", "middle_name": "JOHN", "birth_date": "1986-06-06",
        "expiry_date": "2024-12-10", "sex": "M", "street": "2300 WEST BROAD STREET", "city": "RICHMOND",
        "state": "VA", "postal_code": "23269", "country": "USA", "document_number": "T64235789",
        "issuer_id": "636000", "aamva_version": 10}
    assert licence["licence_problems"] == []
    assert (qr["format"], qr["text"]) == ("QR_CODE", SAMPLE_TOKEN) and "licence" not in qr
    assert (nothing["format"], nothing["text"]) == (None, None)
    assert [obj["file"] for obj in (licence, qr, nothing)] == list(map(str, paths.values()))


def test_cli_unreadable_file_is_an_error_object_and_exit_2(tmp_path, token_symbol):
    good = tmp_path / "qr.png"
    cv2.imwrite(str(good), render_frame(token_symbol, QR_MUST_READ[0]))
    not_image = tmp_path / "notes.jpg"
    not_image.write_text("not a picture")
    result = run_cli("decode", str(not_image), str(tmp_path / "missing.png"), str(good))
    assert result.returncode == 2
    bad, missing, ok = (json.loads(line) for line in result.stdout.splitlines())
    assert "error" in bad and "not an image" in bad["error"]
    assert "error" in missing and "No such file" in missing["error"]
    assert ok["text"] == SAMPLE_TOKEN and "error" not in ok


def test_cli_licence_that_does_not_parse_says_why(tmp_path):
    broken = "@\n\x1e\rANSI 636000100101ZX00310010ZXZXA01\r"  # a header with no licence subfile
    symbol = pdf417_symbol(broken)
    path = tmp_path / "broken.png"
    cv2.imwrite(str(path), render_frame(symbol, Distortion("flat", width_px=400)))
    result = run_cli("decode", str(path))
    assert result.returncode == 0
    (obj,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert obj["text"] == broken and obj["licence"] is None and "no licence fields" in obj["licence_error"]


def test_kiosk_formats_are_qr_and_pdf417():
    assert KIOSK_FORMATS == (QR_CODE, PDF417)
