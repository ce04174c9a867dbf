"""make_speaker: the `speech` setting's values."""
from __future__ import annotations

import pytest

from kiosk.speech import AplaySink, EspeakBackend, NullSink, SilentSpeaker, Speaker, make_speaker


@pytest.mark.parametrize("value", ["none", "", "  None "])
def test_none_turns_speech_off(value):
    speaker = make_speaker(value, lambda f: f())
    assert isinstance(speaker, SilentSpeaker)
    finished = []
    speaker.on_finished = lambda: finished.append(1)
    speaker.read(["One."], "en")
    assert finished == [1]


@pytest.mark.parametrize("value, device", [
    ("espeak", "default"),
    ("ESPEAK", "default"),
    ("espeak:plughw:CARD=Headphones", "plughw:CARD=Headphones"),
    ("espeak:plughw:CARD=Headphones,DEV=0", "plughw:CARD=Headphones,DEV=0"),
])
def test_espeak_plays_through_aplay_on_the_named_device(value, device):
    speaker = make_speaker(value, lambda f: f(), rate=130, volume=90)
    try:
        assert isinstance(speaker, Speaker) and isinstance(speaker.backend, EspeakBackend)
        assert isinstance(speaker.backend.sink, AplaySink) and speaker.backend.sink.device == device
        assert (speaker.rate, speaker.volume) == (130, 90)
    finally:
        speaker.close()


def test_espeak_null_times_speech_without_a_sound_card():
    speaker = make_speaker("espeak:null", lambda f: f())
    try:
        assert isinstance(speaker.backend.sink, NullSink)
    finally:
        speaker.close()


@pytest.mark.parametrize("value", ["festival", "espeak:", "none:x", "espeak-ng", "say:hello"])
def test_a_bad_value_is_named_with_what_would_work(value):
    with pytest.raises(ValueError) as error:
        make_speaker(value, lambda f: f())
    assert repr(value) in str(error.value)
    assert '"espeak:<ALSA device>"' in str(error.value) and '"none"' in str(error.value)
