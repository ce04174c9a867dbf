"""Benchmark: the barcode scan pipeline on 1280x720 frames.

1. Offline, one thread, nothing else running: frames per second of
   hardware.scanner.decode_image (the kiosk's path) and of raw zxing-cpp
   (`zxingcpp.read_barcodes(frame)`, all formats, its defaults) on the same frames, and
   how many of them each reads. Three sets of frames (tests/hardware/scan_images.py):
   no barcode (a table; the insurance-card demo frames), a licence PDF417 held as a patient
   holds it (turned, tilted, far, soft, dim...), a check-in QR code. Ratio = kiosk fps /
   raw zxing-cpp fps.
2. With the UI running: one real Kivy window (1280x720, private Xvfb when $DISPLAY is
   unset) showing the camera preview (the kiosk's CameraPreview, one reused texture) of a
   ReplayCamera playing such frames at 30 fps, and the Scanner worker decoding them:
   preview only / scanner at its default pace (15 fps) / scanner unthrottled. For each:
   frames decoded per second, codes read per second, preview fps, Kivy frame interval.

    python bench/bench_scan.py [--seconds 6] [--rounds 2] [--repeat 3] [--no-ui]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT / "tests" / "hardware"))  # the frame generator the tests use

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import zxingcpp  # noqa: E402
from _xvfb import ensure_display  # noqa: E402
from scan_images import (  # noqa: E402
    PDF417_MUST_READ,
    QR_MUST_READ,
    SAMPLE_AAMVA,
    SAMPLE_TOKEN,
    Distortion,
    pdf417_symbol,
    qr_symbol,
    render_frame,
)

from hardware.scanner import decode_image  # noqa: E402

WARM_UP_S = 0.5
TARGET_MS = 30.0  # the per-frame analysis budget at 1280x720


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def frame_sets() -> dict[str, tuple[list[np.ndarray], str | None]]:
    licence, token = pdf417_symbol(SAMPLE_AAMVA), qr_symbol(SAMPLE_TOKEN)
    from hardware.camera import DEMO_REPLAY_DIR

    empty = [render_frame(licence, Distortion("nothing", centre=(3, 3), seed=s)) for s in range(3)]
    empty += [cv2.imread(str(p)) for p in sorted((DEMO_REPLAY_DIR / "card_front").glob("*.jpg"))[::2]]
    return {
        "no barcode": (empty, None),
        "licence PDF417": ([render_frame(licence, d) for d in PDF417_MUST_READ], SAMPLE_AAMVA),
        "check-in QR": ([render_frame(token, d) for d in QR_MUST_READ], SAMPLE_TOKEN),
    }


def time_decoder(decode, frames: list[np.ndarray], repeat: int) -> tuple[float, list[float]]:
    """(frames per second, per-frame ms) over `repeat` passes; one warm-up pass first."""
    for frame in frames:
        decode(frame)
    per_frame = []
    started = time.perf_counter()
    for _ in range(repeat):
        for frame in frames:
            t0 = time.perf_counter()
            decode(frame)
            per_frame.append((time.perf_counter() - t0) * 1000)
    return len(per_frame) / (time.perf_counter() - started), per_frame


def offline(repeat: int) -> None:
    def raw(frame):
        return zxingcpp.read_barcodes(frame, text_mode=zxingcpp.TextMode.Plain)

    print(f"1. decode rate on 1280x720 frames, one thread ({os.cpu_count()} CPUs; {repeat} passes per set)")
    print(f"   {'frames':16} {'n':>3} | {'kiosk fps':>9} {'p50 ms':>7} {'p95 ms':>7} {'read':>6} | "
          f"{'zxing fps':>9} {'p50 ms':>7} {'read':>6} | ratio")
    for name, (frames, text) in frame_sets().items():
        kiosk_fps, kiosk_ms = time_decoder(decode_image, frames, repeat)
        raw_fps, raw_ms = time_decoder(raw, frames, repeat)
        if text is None:
            kiosk_read = f"{sum(bool(decode_image(f)) for f in frames)} fp"
            raw_read = f"{sum(bool(raw(f)) for f in frames)} fp"
        else:
            kiosk_read = f"{sum(any(d.text == text for d in decode_image(f)) for f in frames)}/{len(frames)}"
            raw_read = f"{sum(any(b.text == text for b in raw(f)) for f in frames)}/{len(frames)}"
        print(f"   {name:16} {len(frames):3d} | {kiosk_fps:9.1f} {percentile(kiosk_ms, 50):7.1f} "
              f"{percentile(kiosk_ms, 95):7.1f} {kiosk_read:>6} | {raw_fps:9.1f} {percentile(raw_ms, 50):7.1f} "
              f"{raw_read:>6} | {kiosk_fps / raw_fps:5.2f}")
    print(f"   (fp = frames with a false read; budget {TARGET_MS:g} ms a frame)")


# ---------------------------------------------------------------------------- with the UI
class Phase:
    def __init__(self, name: str, scan: bool, max_fps: float | None):
        self.name, self.scan, self.max_fps = name, scan, max_fps
        self.seconds = self.cpu_s = 0.0
        self.shown = self.decoded = self.codes = 0
        self.intervals: list[float] = []
        self.last: float | None = None
        self.measuring = False


def with_ui(seconds: float, rounds: int) -> None:
    ensure_display()
    with tempfile.TemporaryDirectory(prefix="kiosk-bench-scan-") as tmp:
        folder = Path(tmp) / "frames"
        folder.mkdir()
        licence, token = pdf417_symbol(SAMPLE_AAMVA), qr_symbol(SAMPLE_TOKEN)
        playlist = []
        for i, d in enumerate(PDF417_MUST_READ[:6]):
            cv2.imwrite(str(folder / f"licence{i}.jpg"), render_frame(licence, d))
            playlist.append(f"licence{i}.jpg 5")
        for i, d in enumerate(QR_MUST_READ[:4]):
            cv2.imwrite(str(folder / f"qr{i}.jpg"), render_frame(token, d))
            playlist.append(f"qr{i}.jpg 5")
        cv2.imwrite(str(folder / "empty.jpg"), render_frame(licence, Distortion("nothing", centre=(3, 3))))
        playlist.append("empty.jpg 20")
        (folder / "playlist.txt").write_text("\n".join(playlist) + "\n")

        from kiosk.kivy_setup import configure_kivy

        configure_kivy(Path(tmp) / "kivy", fullscreen=False, size=(1280, 720))
        os.environ["KIVY_NO_CONSOLELOG"] = "1"
        from kivy.app import App
        from kivy.clock import Clock

        from hardware.camera import ReplayCamera
        from hardware.scanner import SCANNER_FPS, Scanner
        from kiosk.widgets.camera_preview import CameraPreview

        camera = ReplayCamera(folder, fps=30)
        preview = CameraPreview()
        phases = [Phase("preview only", False, None),
                  Phase(f"preview + scanner ({SCANNER_FPS:g} fps, the default)", True, SCANNER_FPS),
                  Phase("preview + scanner unthrottled", True, None)]
        current: list[Phase] = []
        codes = [0]

        def on_decoded(_decoded):
            codes[0] += 1  # dedupe_s=0 below: every frame with a code counts

        def on_frame(_dt):
            if current and current[0].measuring:
                now = time.perf_counter()
                if current[0].last is not None:
                    current[0].intervals.append((now - current[0].last) * 1000)
                current[0].last = now

        def drive():
            block = seconds / rounds
            for _ in range(rounds):
                for phase in phases:
                    scanner = Scanner(camera, on_decoded, max_fps=phase.max_fps, dedupe_s=0.0) if phase.scan else None
                    if scanner:
                        scanner.start()
                    current[:] = [phase]
                    time.sleep(WARM_UP_S)
                    shown0, decoded0, codes0 = preview.frames_shown, scanner.frames_decoded if scanner else 0, codes[0]
                    cpu0, t0 = time.process_time(), time.perf_counter()
                    phase.last, phase.measuring = None, True
                    time.sleep(block)
                    phase.measuring = False
                    phase.seconds += time.perf_counter() - t0
                    phase.cpu_s += time.process_time() - cpu0
                    phase.shown += preview.frames_shown - shown0
                    phase.decoded += (scanner.frames_decoded if scanner else 0) - decoded0
                    phase.codes += codes[0] - codes0
                    if scanner:
                        scanner.stop()
            Clock.schedule_once(lambda _dt: App.get_running_app().stop())

        class BenchApp(App):
            def build(self):
                Clock.schedule_interval(on_frame, 0)
                Clock.schedule_once(lambda _dt: (preview.start(camera, analyse=False),
                                                 threading.Thread(target=drive, daemon=True).start()), 0.5)
                return preview

            def on_stop(self):
                preview.stop()

        BenchApp().run()

    print(f"\n2. with the UI running: Kivy window 1280x720 (display {os.environ.get('DISPLAY')}), camera preview of a "
          f"replay camera at 30 fps (licence, QR and empty frames), {seconds:g} s per phase in {rounds} blocks")
    for phase in phases:
        s = phase.seconds
        print(f"   {phase.name}")
        print(f"     decoded {phase.decoded / s:5.1f} frames/s, codes read {phase.codes / s:5.1f}/s, "
              f"preview {phase.shown / s:5.1f} fps, Kivy frame p50 {percentile(phase.intervals, 50):5.1f} ms "
              f"p95 {percentile(phase.intervals, 95):5.1f} ms, process CPU {100 * phase.cpu_s / s:4.0f} %")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=6.0, help="measured seconds per UI phase")
    parser.add_argument("--rounds", type=int, default=2, help="blocks per UI phase, alternating")
    parser.add_argument("--repeat", type=int, default=3, help="passes over each offline frame set")
    parser.add_argument("--no-ui", action="store_true", help="only the offline part")
    args = parser.parse_args()
    offline(args.repeat)
    if not args.no_ui:
        with_ui(args.seconds, args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
