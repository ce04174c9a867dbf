"""Benchmark: key press -> first audio with espeak-ng (target: p95 < 300 ms).

"First audio" is the moment the first PCM bytes of the prompt reach the sink (NullSink:
no sound card here; with aplay the device starts within a few ms of that).

1. Baseline: spawn /bin/true and reap it: the floor of any one-process-per-utterance design.
2. Raw espeak-ng: spawn it with the prompt on stdin, until the first PCM bytes on stdout
   (no Speaker, no thread hand-off).
3. Speaker.say() from idle -> first PCM bytes: EspeakBackend + NullSink, prompts of the
   length the audio mode speaks (button labels, one-line instructions) in en/es/zh/vi/ar.
   Ratio = its p50 / the /bin/true p50.
4. Interrupt: say() while a long article sentence is playing -> the new prompt's first
   PCM bytes (the old espeak-ng is killed, the worker hands over, the new one starts).

    python bench/bench_speech.py [--prompts 50] [--interrupts 20]
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout

from kiosk.speech import EspeakBackend, NullSink, Speaker, SpeakerState  # noqa: E402
from kiosk.speech.espeak import VOICE_FOR_LANGUAGE  # noqa: E402

TARGET_P95_MS = 300.0
PROMPTS = {
    "en": ["Check in", "Type your last name", "Next", "Back", "Start over", "Enter your date of birth",
           "Is this you?", "Yes, that is me", "I need more time", "You are checked in. Please take a seat."],
    "es": ["Registrarse", "Escriba su apellido", "Siguiente", "Atrás", "Empezar de nuevo",
           "Escriba su fecha de nacimiento", "¿Es usted?", "Sí, soy yo", "Necesito más tiempo",
           "Ya está registrado. Por favor, tome asiento."],
    "zh": ["签到", "请输入您的姓氏", "下一步", "返回", "重新开始", "请输入您的出生日期", "这是您吗？", "是的，是我",
           "我需要更多时间", "您已签到。请坐。"],
    "vi": ["Đăng ký", "Nhập họ của bạn", "Tiếp theo", "Quay lại", "Bắt đầu lại", "Nhập ngày sinh của bạn",
           "Đây có phải là bạn không?", "Vâng, là tôi", "Tôi cần thêm thời gian",
           "Bạn đã đăng ký. Vui lòng ngồi chờ."],
    "ar": ["تسجيل الوصول", "اكتب اسم عائلتك", "التالي", "رجوع", "ابدأ من جديد", "أدخل تاريخ ميلادك",
           "هل هذا أنت؟", "نعم، هذا أنا", "أحتاج إلى مزيد من الوقت", "تم تسجيل وصولك. تفضل بالجلوس."],
}
LONG_SENTENCE = ("Wash your hands often with soap and water for at least twenty seconds, especially after "
                 "you have been in a public place, or after blowing your nose, coughing, or sneezing.")


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def ms(values: list[float]) -> str:
    return (f"p50 {percentile(values, 50) * 1000:7.1f} ms   p95 {percentile(values, 95) * 1000:7.1f} ms   "
            f"max {max(values) * 1000:7.1f} ms   (n={len(values)})")


def prompt_list(count: int) -> list[tuple[str, str]]:
    """`count` (language, prompt) pairs, languages taking turns."""
    pairs = [(language, prompts[i]) for i in range(10) for language, prompts in PROMPTS.items()]
    return [pairs[i % len(pairs)] for i in range(count)]


class FirstAudioClock(NullSink):
    """A NullSink that notes when each utterance's first PCM bytes arrive."""

    def __init__(self) -> None:
        super().__init__()
        self.first_audio: list[float] = []
        self.changed = threading.Condition()

    def play(self, wav, cancellation, on_audio_start):
        def noted() -> None:
            with self.changed:
                self.first_audio.append(time.perf_counter())
                self.changed.notify_all()
            on_audio_start()
        super().play(wav, cancellation, noted)

    def wait_for(self, count: int, timeout: float = 10.0) -> float:
        with self.changed:
            if not self.changed.wait_for(lambda: len(self.first_audio) >= count, timeout):
                raise RuntimeError("no audio within 10 s: is espeak-ng working?")
            return self.first_audio[count - 1]


def bench_spawn_true(count: int) -> list[float]:
    times = []
    for _ in range(count):
        started = time.perf_counter()
        subprocess.run(["/bin/true"], check=True)
        times.append(time.perf_counter() - started)
    return times


def bench_raw_espeak(pairs: list[tuple[str, str]]) -> list[float]:
    times = []
    for language, text in pairs:
        started = time.perf_counter()
        process = subprocess.Popen(["espeak-ng", "-v", VOICE_FOR_LANGUAGE[language], "-s", "150", "-b", "1",
                                    "--stdout"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        process.stdin.write(text.encode())
        process.stdin.close()
        process.stdout.read(44 + 1)  # the header, then the first PCM byte
        times.append(time.perf_counter() - started)
        process.stdout.read()
        process.wait()
    return times


def wait_idle(speaker: Speaker) -> None:
    deadline = time.monotonic() + 10
    while speaker.state is not SpeakerState.IDLE and time.monotonic() < deadline:
        time.sleep(0.005)


def bench_say_from_idle(pairs: list[tuple[str, str]]) -> tuple[float, dict[str, list[float]]]:
    """(the very first prompt after start, {language: say() -> first audio})."""
    clock = FirstAudioClock()
    by_language: dict[str, list[float]] = {language: [] for language in PROMPTS}
    with Speaker(EspeakBackend(clock), lambda callback: None) as speaker:
        started = time.perf_counter()
        speaker.say("Welcome", "en")  # the kiosk's first prompt: the worker lists the voices first
        cold = clock.wait_for(1) - started
        speaker.stop()
        for n, (language, text) in enumerate(pairs, start=2):
            wait_idle(speaker)
            time.sleep(0.1)  # the previous espeak-ng has been reaped: truly idle
            started = time.perf_counter()
            speaker.say(text, language)
            by_language[language].append(clock.wait_for(n) - started)
            speaker.stop()  # like the next key press, but measured from idle
    return cold, by_language


def bench_interrupt(pairs: list[tuple[str, str]]) -> list[float]:
    clock = FirstAudioClock()
    times = []
    with Speaker(EspeakBackend(clock), lambda callback: None) as speaker:
        count = 0
        for language, text in pairs:
            speaker.read([LONG_SENTENCE], "en")
            count += 1
            clock.wait_for(count)
            time.sleep(0.3)  # well into the sentence (it lasts ~10 s)
            started = time.perf_counter()
            speaker.say(text, language)
            count += 1
            times.append(clock.wait_for(count) - started)
            speaker.stop()
            wait_idle(speaker)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=50)
    parser.add_argument("--interrupts", type=int, default=20)
    args = parser.parse_args()
    if shutil.which("espeak-ng") is None:
        print("espeak-ng is not installed (apt install espeak-ng)")
        return 1
    version = subprocess.run(["espeak-ng", "--version"], capture_output=True, text=True).stdout.strip()
    print(f"{version}; {os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.2f}")
    pairs = prompt_list(args.prompts)

    true_times = bench_spawn_true(args.prompts)
    raw = bench_raw_espeak(pairs)
    cold, by_language = bench_say_from_idle(pairs)
    say_times = [t for times in by_language.values() for t in times]
    interrupt = bench_interrupt(prompt_list(args.interrupts))

    print(f"1. spawn /bin/true + reap           {ms(true_times)}")
    print(f"2. raw espeak-ng -> first PCM       {ms(raw)}")
    print(f"3. say() from idle -> first PCM     {ms(say_times)}")
    for language, times in by_language.items():
        print(f"     {language} ({VOICE_FOR_LANGUAGE[language]:6})                  {ms(times)}")
    print(f"   first prompt after start (voices listed first): {cold * 1000:.1f} ms")
    print(f"4. say() interrupting -> first PCM  {ms(interrupt)}")
    ratio = percentile(say_times, 50) / percentile(true_times, 50)
    print(f"ratio say() p50 / spawn /bin/true p50: {ratio:.1f}x")
    worst_p95 = max(percentile(say_times, 95), percentile(interrupt, 95)) * 1000
    print(f"target key press -> first audio p95 < {TARGET_P95_MS:g} ms: "
          f"{'met' if worst_p95 < TARGET_P95_MS else 'NOT met'} (worst p95 {worst_p95:.1f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
