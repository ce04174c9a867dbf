"""The contract between the Speaker and whatever makes the sound.

A backend speaks one utterance at a time, blocking the speech worker thread until the
utterance has been heard to the end or cancelled. It reports the moment the first audio
reaches the listener through `on_audio_start` (that is when a sentence is highlighted)
and raises `SpeechError` with words IT can act on when it cannot speak. Cancelling comes
from another thread through a `Cancellation`, which kills whatever the backend started.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


class SpeechError(Exception):
    """Speech failed in a way the kiosk survives (the text stays on screen).

    The message is for IT (what is missing, which setting to change); it never holds
    the spoken text, which may be a patient's name.
    """


@dataclass(frozen=True)
class Utterance:
    text: str
    language: str  # the kiosk's language code: "en", "es", "zh", "vi", "ar", ...
    rate: int  # words per minute
    volume: int  # 0..100


class Cancellation:
    """A one-shot "stop this utterance" signal, safe to fire from any thread.

    Callbacks registered with `call_on_cancel` (typically "kill my child process") run
    when it fires, or at once if it already has, so a cancel that lands between a
    backend's check and its spawning a process is never lost.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._event = threading.Event()
        self._callbacks: list[Callable[[], None]] = []

    def cancel(self) -> None:
        with self._lock:
            if self._event.is_set():
                return
            self._event.set()
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def wait(self, timeout: float | None) -> bool:
        """Sleep up to `timeout` seconds, waking early if cancelled; True if cancelled."""
        return self._event.wait(timeout)

    def call_on_cancel(self, callback: Callable[[], None]) -> None:
        with self._lock:
            if not self._event.is_set():
                self._callbacks.append(callback)
                return
        callback()


class SpeechBackend(Protocol):
    def prepare(self) -> None:
        """Slow one-time set-up (e.g. listing voices), run on the worker before any speech."""

    def speak(self, utterance: Utterance, cancellation: Cancellation,
              on_audio_start: Callable[[], None]) -> None:
        """Speak `utterance`; return when it has been heard or `cancellation` fired.

        Calls `on_audio_start()` once, when the first audio reaches the listener.
        Raises SpeechError when it cannot speak.
        """

    def close(self) -> None:
        """Release anything held between utterances."""
