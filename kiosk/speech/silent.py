"""Speech turned off (`speech = "none"`): the Speaker's interface, saying nothing.

Every call is harmless; say() and read() still report on_finished (through `post`, like
the real Speaker) so a screen waiting for the end of a reading is never left waiting.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

from kiosk.speech.speaker import DEFAULT_RATE, DEFAULT_VOLUME, Post, RateAndVolume, SpeakerState


class SilentSpeaker(RateAndVolume):
    def __init__(self, post: Post, *, rate: float = DEFAULT_RATE, volume: float = DEFAULT_VOLUME,
                 on_sentence: Callable[[int], None] | None = None,
                 on_finished: Callable[[], None] | None = None,
                 on_error: Callable[[str], None] | None = None) -> None:
        self.on_sentence = on_sentence  # never called: nothing is heard
        self.on_finished = on_finished
        self.on_error = on_error  # never called: nothing can fail
        self._post = post
        self._closed = False
        self.rate = rate
        self.volume = volume

    state = SpeakerState.IDLE
    sentence_index = None

    def say(self, text: str, language: str, *, interrupt: bool = True) -> None:
        self._finished()

    def read(self, sentences: Sequence[str], language: str, start: int = 0) -> None:
        self._finished()

    def pause(self) -> None:
        pass

    def resume(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def close(self) -> None:
        self._closed = True

    def __enter__(self) -> SilentSpeaker:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _finished(self) -> None:
        if self._closed:
            return

        def deliver() -> None:
            if not self._closed and self.on_finished is not None:
                self.on_finished()
        self._post(deliver)
