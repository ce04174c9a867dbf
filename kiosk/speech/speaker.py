"""The Speaker: what to say next, in plain Python, with one worker thread doing the speaking.

States: idle -> speaking (say / read) -> paused (pause) -> speaking (resume) -> idle (the
end, stop, an error). Calls that make no sense in the current state do nothing.

Everything the UI hears back (on_sentence, on_finished, on_error) goes through the
injected `post(callable)`, which runs it on the UI thread (the kiosk passes a
Clock.schedule_once-based one); the worker never calls the UI itself. A callback is read
when it is delivered, so it may be set after construction. An on_sentence of speech that
was stopped or interrupted before its delivery is dropped, so a highlight never appears
after the reading it belongs to; nothing is delivered after close().
"""
from __future__ import annotations

import atexit
import logging
import threading
import weakref
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum

from kiosk.speech.backend import Cancellation, SpeechBackend, SpeechError, Utterance

log = logging.getLogger(__name__)

Post = Callable[[Callable[[], None]], None]

MIN_RATE, MAX_RATE = 80, 300  # words per minute: slower is hard to follow, faster hard to catch
DEFAULT_RATE = 150  # a little slower than espeak-ng's 175: many listeners here are older
DEFAULT_VOLUME = 70  # of 100; espeak-ng's own level is 50 (see espeak.amplitude_for)
CLOSE_TIMEOUT_S = 5.0


def clamp_rate(rate: float) -> int:
    return max(MIN_RATE, min(MAX_RATE, int(round(rate))))


def clamp_volume(volume: float) -> int:
    return max(0, min(100, int(round(volume))))


class RateAndVolume:
    """Speed and loudness, kept in range; they apply from the next sentence."""

    _rate: int
    _volume: int

    @property
    def rate(self) -> int:
        """Words per minute, within MIN_RATE..MAX_RATE."""
        return self._rate

    @rate.setter
    def rate(self, value: float) -> None:
        self._rate = clamp_rate(value)

    @property
    def volume(self) -> int:
        """0..100."""
        return self._volume

    @volume.setter
    def volume(self, value: float) -> None:
        self._volume = clamp_volume(value)


class SpeakerState(str, Enum):
    IDLE = "idle"
    SPEAKING = "speaking"
    PAUSED = "paused"


@dataclass(eq=False)
class _Job:
    """One say() prompt (one sentence) or one read() article."""

    sentences: list[str]
    language: str
    is_article: bool
    index: int = 0  # the sentence being (or next to be) spoken
    cancelled: bool = False  # stopped or replaced: its late callbacks are dropped


_open_speakers: weakref.WeakSet[Speaker] = weakref.WeakSet()


@atexit.register
def _close_open_speakers() -> None:
    """No worker left speaking (and no espeak-ng/aplay left running) when Python exits."""
    for speaker in list(_open_speakers):
        speaker.close()


class Speaker(RateAndVolume):
    def __init__(self, backend: SpeechBackend, post: Post, *, rate: float = DEFAULT_RATE,
                 volume: float = DEFAULT_VOLUME,
                 on_sentence: Callable[[int], None] | None = None,
                 on_finished: Callable[[], None] | None = None,
                 on_error: Callable[[str], None] | None = None) -> None:
        self.backend = backend
        self.on_sentence = on_sentence  # (index) as that article sentence starts being heard
        self.on_finished = on_finished  # the speaker went idle: all heard, stop(), or an error
        self.on_error = on_error  # (message for IT) speech failed; the speaker is idle again
        self._post = post
        self.rate, self.volume = rate, volume
        self._cond = threading.Condition()
        self._state = SpeakerState.IDLE
        self._job: _Job | None = None
        self._queue: deque[_Job] = deque()  # say(..., interrupt=False) prompts waiting their turn
        self._cancellation: Cancellation | None = None  # of the utterance being spoken
        self._closed = False
        self._outbox: list[Callable[[], None]] = []
        self._post_lock = threading.RLock()  # posts leave in the order they were made
        self._reported_errors: set[str] = set()
        self._thread = threading.Thread(target=self._run, name="speech-worker", daemon=True)
        self._thread.start()
        _open_speakers.add(self)

    # -- what the UI reads and sets -------------------------------------------------------

    @property
    def state(self) -> SpeakerState:
        return self._state

    @property
    def sentence_index(self) -> int | None:
        """The article sentence being spoken or paused at; None when no article is read."""
        with self._cond:
            job = self._job
            return job.index if job is not None and job.is_article else None

    # -- commands (any thread; normally the UI thread) ------------------------------------

    def say(self, text: str, language: str, *, interrupt: bool = True) -> None:
        """Speak a short prompt. interrupt=True: it replaces whatever is being said or read
        (the latest focus wins); False: it waits until everything before it was heard."""
        text = (text or "").strip()
        if not text:
            return
        job = _Job([text], language, is_article=False)
        with self._cond:
            if self._closed:
                return
            if interrupt or self._state is SpeakerState.IDLE:
                self._start(job)
            else:
                self._queue.append(job)

    def read(self, sentences: Sequence[str], language: str, start: int = 0) -> None:
        """Read an article aloud sentence by sentence from `start`, replacing anything else.
        With nothing to read it just reports on_finished."""
        sentences = [str(s) for s in sentences]
        start = max(0, min(int(start), len(sentences)))
        with self._cond:
            if self._closed:
                return
            if start < len(sentences):
                self._start(_Job(sentences, language, is_article=True, index=start))
            else:
                self._cancel_everything()
                self._state = SpeakerState.IDLE
                self._note(self._deliver("on_finished"))
        self._flush()

    def pause(self) -> None:
        """Stop the sound now; resume() starts the same sentence again from its beginning."""
        with self._cond:
            if self._state is SpeakerState.SPEAKING:
                self._state = SpeakerState.PAUSED
                self._cancel_utterance()

    def resume(self) -> None:
        with self._cond:
            if self._state is SpeakerState.PAUSED:
                self._state = SpeakerState.SPEAKING
                self._cond.notify_all()

    def stop(self) -> None:
        """Silence and forget everything; reports on_finished."""
        with self._cond:
            if self._state is SpeakerState.IDLE:
                return
            self._cancel_everything()
            self._state = SpeakerState.IDLE
            self._note(self._deliver("on_finished"))
        self._flush()

    def close(self) -> None:
        """Silence everything, end the worker thread and any espeak-ng/aplay; no callbacks after."""
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._cancel_everything()
            self._state = SpeakerState.IDLE
            self._cond.notify_all()
        if threading.current_thread() is not self._thread:
            self._thread.join(CLOSE_TIMEOUT_S)
            if self._thread.is_alive():
                log.error("speech.close_timeout", extra={"fields": {"seconds": CLOSE_TIMEOUT_S}})
        try:
            self.backend.close()
        except Exception:
            log.exception("speech.backend_close_failed")
        _open_speakers.discard(self)

    def __enter__(self) -> Speaker:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- state changes (the caller holds self._cond) --------------------------------------

    def _start(self, job: _Job) -> None:
        self._cancel_everything()
        self._job = job
        self._state = SpeakerState.SPEAKING
        self._cond.notify_all()

    def _cancel_everything(self) -> None:
        for job in (self._job, *self._queue):
            if job is not None:
                job.cancelled = True
        self._job = None
        self._queue.clear()
        self._cancel_utterance()

    def _cancel_utterance(self) -> None:
        if self._cancellation is not None:
            self._cancellation.cancel()  # kills the backend's processes at once
            self._cancellation = None

    def _sentence_heard(self, job: _Job) -> None:
        job.index += 1
        if job.index < len(job.sentences):
            return
        if self._queue:
            self._job = self._queue.popleft()
            return
        self._job = None
        self._state = SpeakerState.IDLE
        self._note(self._deliver("on_finished"))

    def _failed(self, message: str) -> None:
        self._cancel_everything()
        self._state = SpeakerState.IDLE
        if message not in self._reported_errors:  # once for IT, not at every key press
            self._reported_errors.add(message)
            log.error("speech.failed", extra={"fields": {"reason": message}})
        self._note(self._deliver("on_error", message))
        self._note(self._deliver("on_finished"))

    # -- delivering callbacks through post ------------------------------------------------

    def _deliver(self, name: str, *args: object, job: _Job | None = None) -> Callable[[], None]:
        def deliver() -> None:
            if self._closed or (job is not None and job.cancelled):
                return
            callback = getattr(self, name)
            if callback is not None:
                callback(*args)
        return deliver

    def _note(self, delivery: Callable[[], None]) -> None:
        self._outbox.append(delivery)  # posted by _flush once the lock is released

    def _flush(self) -> None:
        with self._post_lock:
            with self._cond:
                deliveries, self._outbox = self._outbox, []
            for delivery in deliveries:
                try:
                    self._post(delivery)
                except Exception:
                    log.exception("speech.post_failed")

    # -- the worker thread ----------------------------------------------------------------

    def _run(self) -> None:
        try:
            self.backend.prepare()
        except Exception:
            log.exception("speech.prepare_failed")
        while True:
            self._flush()  # what the last round noted (a sentence start, the end, an error)
            with self._cond:
                while not self._closed and (self._state is not SpeakerState.SPEAKING or self._job is None):
                    self._cond.wait()
                if self._closed:
                    return
                job = self._job
                index = job.index
                text = job.sentences[index].strip()
                if not text:  # a blank sentence: nothing to hear, nothing to highlight
                    self._sentence_heard(job)
                    continue
                cancellation = self._cancellation = Cancellation()
                utterance = Utterance(text, job.language, self._rate, self._volume)
            error = self._speak(utterance, cancellation, job, index)
            with self._cond:
                if self._cancellation is cancellation:
                    self._cancellation = None
                # Cancelled: whoever cancelled (pause, stop, a new prompt) decided what's next;
                # after a pause the same sentence is spoken again from its start.
                if not (cancellation.cancelled or self._closed or job is not self._job
                        or self._state is not SpeakerState.SPEAKING):
                    if error is not None:
                        self._failed(error)
                    else:
                        self._sentence_heard(job)

    def _speak(self, utterance: Utterance, cancellation: Cancellation, job: _Job, index: int) -> str | None:
        """Speak one sentence; the error message if it failed."""
        def on_audio_start() -> None:
            if job.is_article:
                with self._cond:
                    self._note(self._deliver("on_sentence", index, job=job))
                self._flush()
        try:
            self.backend.speak(utterance, cancellation, on_audio_start)
        except SpeechError as error:
            return str(error)
        except Exception as error:  # a bug must not kill the worker: speech just stops
            log.exception("speech.backend_crashed")
            return f"speech failed unexpectedly ({type(error).__name__}); the kiosk log has the details"
        return None
