"""Offline speech: read-aloud education and the kiosk's self-voicing audio mode (no Kivy).

    speaker = make_speaker(config.speech, post=post_to_ui_thread)
    speaker.on_sentence = highlight            # (index) as that sentence starts being heard
    speaker.read(sentences, "es")              # pause(), resume(), stop()
    speaker.say("Type your last name", "en")   # a prompt; the newest one wins

Why one utterance per sentence: espeak-ng (and most offline synthesisers) tell where in
the text they are only through a callback API (libespeak-ng events) that would tie us to
its C library and threads. Speaking each sentence as its own utterance gives the same
things with nothing but a process per sentence: the moment a sentence's first audio
arrives is the moment to highlight it (on_sentence), pausing is killing the utterance
and resuming is speaking that sentence again from its start (a listener loses the thread
when a sentence restarts mid-word anyway), a rate or volume change takes effect at the
next sentence, and a new prompt interrupts by killing one short process. espeak-ng
starts audio within ~10 ms, so the gaps between sentences are natural pauses.

Parts: speaker.py (the state machine and its worker thread), backend.py (the contract a
backend meets), espeak.py (espeak-ng), sinks.py (aplay or a silent timed sink),
recording.py (a recording backend for tests), silent.py (speech off), factory.py.
"""
from kiosk.speech.backend import Cancellation, SpeechBackend, SpeechError, Utterance
from kiosk.speech.espeak import EspeakBackend
from kiosk.speech.factory import make_speaker
from kiosk.speech.recording import RecordingBackend
from kiosk.speech.silent import SilentSpeaker
from kiosk.speech.sinks import AplaySink, NullSink
from kiosk.speech.speaker import MAX_RATE, MIN_RATE, Speaker, SpeakerState

__all__ = [
    "MAX_RATE", "MIN_RATE", "AplaySink", "Cancellation", "EspeakBackend", "NullSink",
    "RecordingBackend", "SilentSpeaker", "Speaker", "SpeakerState", "SpeechBackend",
    "SpeechError", "Utterance", "make_speaker",
]
