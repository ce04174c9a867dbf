"""WAV header reading and the silent NullSink, which must take as long as a sound card would."""
from __future__ import annotations

import io
import struct
import threading
import time
import wave

import pytest

from kiosk.speech import Cancellation, NullSink, SpeechError
from kiosk.speech.sinks import read_wav_header


def make_wav(seconds: float, *, rate: int = 22050, extra_chunk: bool = False) -> io.BytesIO:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"\1\0" * int(rate * seconds))
    data = buffer.getvalue()
    if extra_chunk:  # a LIST chunk between "fmt " and "data", as some tools write
        data = data[:36] + b"LIST" + struct.pack("<I", 5) + b"INFOx\0" + data[36:]
    return io.BytesIO(data)


def test_the_header_gives_the_format_and_stops_at_the_audio():
    stream = make_wav(0.5, extra_chunk=True)
    wav_format, header = read_wav_header(stream)
    assert (wav_format.sample_rate, wav_format.channels, wav_format.bits_per_sample) == (22050, 1, 16)
    assert wav_format.bytes_per_second == 44100
    assert header.startswith(b"RIFF") and header.endswith(struct.pack("<I", 22050))  # the data size
    assert len(stream.read()) == 22050  # exactly the PCM is left


def test_an_empty_stream_is_nothing_to_play_and_garbage_is_an_error():
    assert read_wav_header(io.BytesIO(b"")) is None
    with pytest.raises(SpeechError, match="did not produce WAV"):
        read_wav_header(io.BytesIO(b"eSpeak NG text-to-speech: 1.51 ..."))
    with pytest.raises(SpeechError, match="ended inside its header"):
        read_wav_header(io.BytesIO(make_wav(0.1).getvalue()[:40]))


def test_null_sink_takes_as_long_as_the_audio_and_reports_the_first_bytes_once():
    starts = []
    began = time.monotonic()
    NullSink().play(make_wav(0.3), Cancellation(), lambda: starts.append(time.monotonic() - began))
    assert time.monotonic() - began >= 0.29
    assert len(starts) == 1 and starts[0] < 0.29  # heard from the start, not at the end


def test_null_sink_speed_shortens_the_wait_and_no_audio_means_no_start():
    began = time.monotonic()
    NullSink(speed=10).play(make_wav(1.0), Cancellation(), lambda: None)
    assert 0.09 <= time.monotonic() - began < 0.9
    starts = []
    NullSink().play(make_wav(0.0), Cancellation(), lambda: starts.append(1))
    assert starts == []
    with pytest.raises(ValueError):
        NullSink(speed=0)


def test_null_sink_stops_when_cancelled():
    cancellation = Cancellation()
    threading.Timer(0.05, cancellation.cancel).start()
    began = time.monotonic()
    NullSink().play(make_wav(20.0), cancellation, lambda: None)
    assert time.monotonic() - began < 10  # far short of the 20 s of audio


def test_a_cancel_before_registration_still_reaches_the_callback():
    cancellation = Cancellation()
    cancellation.cancel()
    killed = []
    cancellation.call_on_cancel(lambda: killed.append(1))
    cancellation.cancel()
    assert killed == [1] and cancellation.cancelled
