"""Benchmark: memory of the education screens, and key press -> speech in the audio mode.

In one process (under a private Xvfb when $DISPLAY is unset), the KioskApp built the way
the tour builds it on the demo clinic:

1. Memory: every bundled article in every language it has is opened and paged through to
   its last page, twice, by touch. The resident set size is taken after the first pass
   (the baseline: fonts, textures and caches warmed) and after the second; the growth
   between them is what a long day of patients would leak. Target: < 5 MB.
2. Key press -> start of speech through the whole path a listener uses: the key event
   goes through the window to the audio guide, which moves the focus and asks the speaker
   (espeak-ng, timed on a silent sink: no sound card here); measured to the first audio
   bytes. Baseline in the same run: speaker.say() called directly. Target: p95 < 300 ms.

    python bench/bench_education.py [--presses 40]
"""
from __future__ import annotations

import argparse
import dataclasses
import gc
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _xvfb import ensure_display  # noqa: E402

MEMORY_TARGET_MB = 5.0
SPEECH_TARGET_P95_MS = 300.0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def rss_mb() -> float:
    """Resident memory after a garbage collection and glibc's malloc_trim: freed heap goes
    back to the system, so what is left is what is still in use (a leak keeps growing)."""
    import ctypes

    import psutil

    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except OSError:
        pass  # not glibc: the figure includes freed heap
    return psutil.Process().memory_info().rss / 1e6


def page_through_everything(app, ui) -> int:
    """Open every article in every language and turn every page; returns pages shown."""
    from kiosk.education import bundled_articles

    entries, _problems = bundled_articles()
    shown = 0
    for language in app.translator.languages:
        app.switch_language(language)
        ui.tap(app, "education", frames=2)
        screen = app.screen("education")
        for entry in entries:
            if language not in entry.texts:
                continue
            screen.open_article(entry.id)
            ui.pump(2)
            shown += 1
            while not screen.made_part("Reader").last_page:
                ui.tap(app, "page_next", frames=1)
                shown += 1
        ui.tap(app, "education_list", frames=2)
        ui.tap(app, "education_done", frames=2)
    return shown


class FirstAudio:
    """Wraps the speaker's backend: notes when each utterance's first audio arrives."""

    def __init__(self, backend):
        self.backend = backend
        self.times: list[float] = []
        self.event = threading.Event()

    def __getattr__(self, name):
        return getattr(self.backend, name)

    def speak(self, utterance, cancellation, on_audio_start):
        def started():
            self.times.append(time.perf_counter())
            self.event.set()
            on_audio_start()

        return self.backend.speak(utterance, cancellation, started)


def time_keys(app, ui, speaker, probe, presses: int) -> tuple[list[float], list[float]]:
    from kiosk import audio_keys as keys

    ui.press_key(keys.ENTER, frames=4)  # the audio mode comes on at the welcome screen
    time.sleep(1.0)
    by_key, direct = [], []
    for n in range(presses):
        probe.event.clear()
        start = time.perf_counter()
        ui.press_key(keys.DOWN, frames=0)
        if probe.event.wait(5):
            by_key.append((probe.times[-1] - start) * 1000)
        time.sleep(0.25)
        probe.event.clear()
        start = time.perf_counter()
        speaker.say(f"Check in, button {n}.", "en")
        if probe.event.wait(5):
            direct.append((probe.times[-1] - start) * 1000)
        time.sleep(0.25)
    app.audio.stop()
    return by_key, direct


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presses", type=int, default=40)
    parser.add_argument("--passes", type=int, default=2, help="passes through every article (>= 2)")
    parser.add_argument("--trace", action="store_true", help="print what Python allocated in the last pass")
    args = parser.parse_args()
    ensure_display()
    with tempfile.TemporaryDirectory(prefix="kiosk-bench-education-") as tmp:
        scratch = Path(tmp)
        os.environ.pop("KIOSK_CONFIG", None)
        os.environ["KIOSK_DATA_DIR"] = str(scratch / "data")
        os.environ["KIOSK_KEY_FILE"] = str(scratch / "keys" / "data.key")
        from kiosk.config import load_config
        from kiosk.logging_setup import configure_logging

        config = dataclasses.replace(load_config(None), idle_warning_seconds=3600, idle_countdown_seconds=600,
                                     speech="espeak:null")
        configure_logging(config.log_file, config.log_level, console=False)
        from kiosk.kivy_setup import configure_kivy

        configure_kivy(config.data_dir / "kivy", fullscreen=False)
        from kiosk.i18n import init_translator
        from kiosk.store import open_store

        init_translator(config.languages, config.default_language)
        store = open_store(config.data_dir, config.key_file)
        from kiosk import ui_driver as ui
        from kiosk.app import KioskApp, _post_to_ui
        from kiosk.speech import Speaker
        from kiosk.speech.espeak import EspeakBackend
        from kiosk.speech.sinks import NullSink

        probe = FirstAudio(EspeakBackend(NullSink()))
        speaker = Speaker(probe, post=_post_to_ui)
        app = KioskApp(config, store, speaker=speaker)
        app._run_prepare()
        ui.pump(5)

        import tracemalloc

        start_mb = rss_mb()
        after = []
        snapshot = None
        for number in range(max(2, args.passes)):
            if args.trace and number == max(2, args.passes) - 1:
                tracemalloc.start(8)
                snapshot = tracemalloc.take_snapshot()
            pages = page_through_everything(app, ui)
            after.append(rss_mb())
        growth = after[1] - after[0]
        print(f"education memory: {pages} pages per pass over {len(app.translator.languages)} languages")
        print(f"  RSS before {start_mb:.1f} MB; after each pass: " + ", ".join(f"{mb:.1f}" for mb in after) + " MB")
        print(f"  growth in pass 2 (pass 1 = baseline, warm caches): {growth:+.2f} MB (target < "
              f"{MEMORY_TARGET_MB:.0f} MB: {'met' if growth < MEMORY_TARGET_MB else 'NOT met'})")
        if snapshot is not None:
            for stat in tracemalloc.take_snapshot().compare_to(snapshot, "traceback")[:8]:
                print(f"  {stat.size_diff / 1e3:+9.1f} kB  " + " <- ".join(
                    f"{f.filename.rsplit('/', 2)[-1]}:{f.lineno}" for f in list(stat.traceback)[::-1][:4]))
            tracemalloc.stop()

        app.switch_language("en")
        by_key, direct = time_keys(app, ui, speaker, probe, args.presses)
        speaker.close()
        if not by_key or not direct:
            print("key -> speech: no audio started (is espeak-ng installed?)")
            return 1
        p95 = percentile(by_key, 0.95)
        print(f"key press -> first audio (espeak-ng, silent sink), n={len(by_key)}:")
        print(f"  by key    p50 {statistics.median(by_key):6.1f} ms  p95 {p95:6.1f} ms  max {max(by_key):6.1f} ms")
        print(f"  say() only p50 {statistics.median(direct):6.1f} ms  p95 {percentile(direct, 0.95):6.1f} ms "
              f"(baseline; ratio of p95s {p95 / percentile(direct, 0.95):.2f})")
        print(f"  target p95 < {SPEECH_TARGET_P95_MS:.0f} ms: {'met' if p95 < SPEECH_TARGET_P95_MS else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
