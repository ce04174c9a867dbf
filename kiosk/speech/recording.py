"""A backend for tests and demos: records every utterance and takes as long as speaking it would.

The duration is simulated from the word count and the rate (divided by `speed`, so tests
can run ten times faster than speech), and the backend can be told to fail.
"""
from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from kiosk.speech.backend import Cancellation, SpeechError, Utterance

# Scripts written without spaces between words: count each character as a word.
_UNSPACED = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def estimated_words(text: str) -> int:
    unspaced = len(_UNSPACED.findall(text))
    spaced = len(_UNSPACED.sub(" ", text).split())
    return max(1, unspaced + spaced)


@dataclass
class RecordedUtterance:
    text: str
    language: str
    rate: int
    volume: int
    started_at: float  # time.monotonic() when its audio started
    duration_s: float  # how long it would have taken, at `speed`
    completed: bool = False  # heard to the end (False: cancelled, or still playing)


class RecordingBackend:
    def __init__(self, speed: float = 1.0, *, latency_s: float = 0.0) -> None:
        """`speed` > 1 simulates faster than real time; `latency_s`: delay before audio starts."""
        if speed <= 0:
            raise ValueError(f"RecordingBackend speed must be positive, not {speed!r}")
        self.speed = speed
        self.latency_s = latency_s
        self.utterances: list[RecordedUtterance] = []
        self.failure: str | None = None
        self.prepared = False
        self.closed = False
        self._changed = threading.Condition()

    def fail(self, message: str | None) -> None:
        """Make every following utterance raise SpeechError(message); None: speak again."""
        self.failure = message

    def duration_for(self, utterance: Utterance) -> float:
        return estimated_words(utterance.text) * 60.0 / utterance.rate / self.speed

    def wait_for_utterances(self, count: int, timeout: float = 5.0) -> bool:
        """Block until at least `count` utterances have started; False on timeout."""
        with self._changed:
            return self._changed.wait_for(lambda: len(self.utterances) >= count, timeout)

    @property
    def texts(self) -> list[str]:
        return [u.text for u in self.utterances]

    # -- the backend contract -------------------------------------------------------------

    def prepare(self) -> None:
        self.prepared = True

    def speak(self, utterance: Utterance, cancellation: Cancellation,
              on_audio_start: Callable[[], None]) -> None:
        if self.failure is not None:
            raise SpeechError(self.failure)
        if cancellation.wait(self.latency_s) if self.latency_s else cancellation.cancelled:
            return
        record = RecordedUtterance(utterance.text, utterance.language, utterance.rate,
                                   utterance.volume, time.monotonic(), self.duration_for(utterance))
        on_audio_start()
        with self._changed:
            self.utterances.append(record)
            self._changed.notify_all()
        record.completed = not cancellation.wait(record.duration_s)

    def close(self) -> None:
        self.closed = True
