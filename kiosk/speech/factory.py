"""The speaker the kiosk's `speech` setting names."""
from __future__ import annotations

from kiosk.speech.espeak import EspeakBackend
from kiosk.speech.silent import SilentSpeaker
from kiosk.speech.sinks import DEFAULT_DEVICE, AplaySink, AudioSink, NullSink
from kiosk.speech.speaker import DEFAULT_RATE, DEFAULT_VOLUME, Post, Speaker

NO_SOUND_DEVICE = "null"  # "espeak:null": espeak-ng timed silently (no sound card: Xvfb, CI)
ACCEPTED = ('"espeak" (the default sound device), "espeak:<ALSA device>" such as '
            '"espeak:plughw:CARD=Headphones" (`aplay -L` lists them), "espeak:null" '
            '(no sound card: timed silently) or "none" (speech off)')


def make_sink(device: str) -> AudioSink:
    return NullSink() if device.lower() == NO_SOUND_DEVICE else AplaySink(device)


def make_speaker(config_value: str, post: Post, *, rate: float = DEFAULT_RATE,
                 volume: float = DEFAULT_VOLUME) -> Speaker | SilentSpeaker:
    """A Speaker for "espeak" / "espeak:<ALSA device>" / "espeak:null", a SilentSpeaker
    for "none" (or empty). Raises ValueError naming a value it does not understand.

    A missing espeak-ng or aplay does not stop the kiosk: speaking then reports on_error
    (and the log says what to install).
    """
    value = (config_value or "").strip()
    kind, colon, device = value.partition(":")
    kind, device = kind.strip().lower(), device.strip()
    if kind in ("", "none") and not colon:
        return SilentSpeaker(post, rate=rate, volume=volume)
    if kind == "espeak" and not (colon and not device):
        sink = make_sink(device or DEFAULT_DEVICE)
        return Speaker(EspeakBackend(sink), post, rate=rate, volume=volume)
    raise ValueError(f"speech setting {config_value!r} is not understood: use {ACCEPTED}")
