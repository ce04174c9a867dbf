"""The espeak-ng backend: voices, safe invocation, errors IT can act on, no processes left behind.

A few tests run the real espeak-ng (short texts, NullSink); the process tests use a fake
espeak-ng that starts a child of its own and never ends, so only a kill of the whole
process group ends it.
"""
from __future__ import annotations

import logging
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

from kiosk.speech import AplaySink, Cancellation, EspeakBackend, NullSink, Speaker, SpeechError, Utterance
from kiosk.speech.espeak import VOICE_FOR_LANGUAGE, amplitude_for, parse_voice_list, voice_candidates
from kiosk.speech.sinks import read_wav_header

ROOT = Path(__file__).resolve().parents[2]
HAVE_ESPEAK = shutil.which("espeak-ng") is not None
needs_espeak = pytest.mark.skipif(not HAVE_ESPEAK, reason="espeak-ng is not installed (apt install espeak-ng)")

VOICES_OUTPUT = """\
Pty Language       Age/Gender VoiceName          File                 Other Languages
 5  ar              --/M      Arabic             sem/ar
 5  cmn             --/M      Chinese_(Mandarin,_latin_as_English) sit/cmn              (zh-cmn 5)(zh 5)
 2  en-us           --/M      English_(America)  gmw/en-US            (en 3)
 5  es              --/M      Spanish_(Spain)    roa/es
 5  vi              --/M      Vietnamese_(Northern) aav/vi
"""


def test_the_voice_list_is_parsed_with_aliases():
    voices = parse_voice_list(VOICES_OUTPUT)
    assert {"ar", "cmn", "zh-cmn", "zh", "en-us", "en", "es", "vi"} <= voices
    assert "es-419" not in voices and "5" not in voices and "language" not in voices


def test_voice_candidates_prefer_the_chosen_voice_then_the_base_language():
    assert voice_candidates("en") == ["en-us", "en"]
    assert voice_candidates("es-MX") == ["es-419", "es-mx", "es"]
    assert voice_candidates("zh_Hans") == ["cmn", "zh-hans", "zh"]
    assert voice_candidates("pt-BR") == ["pt-br", "pt"]


def test_a_missing_voice_falls_back_to_the_base_language_and_says_so_for_it(caplog):
    backend = EspeakBackend(NullSink(), voices=parse_voice_list(VOICES_OUTPUT))
    with caplog.at_level(logging.WARNING, logger="kiosk.speech.espeak"):
        assert backend.voice_for("es") == "es"  # es-419 is not in this list
        assert backend.voice_for("es") == "es"
        assert backend.voice_for("zh") == "cmn" and backend.voice_for("ar") == "ar"
    fallbacks = [r for r in caplog.records if r.getMessage() == "speech.voice_fallback"]
    assert len(fallbacks) == 1  # once, not at every prompt
    assert fallbacks[0].fields["wanted"] == "es-419" and fallbacks[0].fields["using"] == "es"
    with pytest.raises(SpeechError, match="no espeak-ng voice for language 'ko'"):
        backend.voice_for("ko")


def test_the_command_carries_voice_rate_and_amplitude_but_never_the_text():
    backend = EspeakBackend(NullSink(), voices={"es-419"})
    command = backend.command(Utterance("Toque la pantalla; rm -rf /", "es", 150, 70))
    assert command == ["espeak-ng", "-v", "es-419", "-s", "150", "-a", "140", "-b", "1", "--stdout"]
    assert (amplitude_for(0), amplitude_for(50), amplitude_for(100)) == (0, 100, 200)


def _collect_speech(backend: EspeakBackend, utterance: Utterance) -> tuple[object, int, int]:
    """Speak through a sink that keeps the WAV format and counts the PCM bytes."""
    got = {}

    class CountingSink:
        def play(self, wav, cancellation, on_audio_start):
            got["format"] = read_wav_header(wav)[0]
            got["bytes"] = len(wav.read())
            on_audio_start()

    backend.sink = CountingSink()
    starts = []
    backend.speak(utterance, Cancellation(), lambda: starts.append(1))
    return got["format"], got["bytes"], len(starts)


@needs_espeak
@pytest.mark.parametrize("language", sorted(VOICE_FOR_LANGUAGE))
def test_this_machine_has_the_chosen_voice_for_every_kiosk_language(language):
    assert EspeakBackend(NullSink()).voice_for(language) == VOICE_FOR_LANGUAGE[language]


@needs_espeak
def test_text_that_looks_like_an_option_is_spoken_not_obeyed():
    """The text goes on stdin: "--version" is read out, it does not print espeak-ng's version."""
    utterance = Utterance("--version", "en", 150, 50)
    wav_format, pcm_bytes, starts = _collect_speech(EspeakBackend(NullSink()), utterance)
    assert (wav_format.sample_rate, wav_format.channels, wav_format.bits_per_sample) == (22050, 1, 16)
    assert pcm_bytes > 0.3 * wav_format.bytes_per_second and starts == 1


@needs_espeak
def test_real_espeak_reads_an_article_sentence_by_sentence(ui, heard):
    with Speaker(EspeakBackend(NullSink(speed=8)), ui.post) as speaker:
        heard.attach(speaker)
        speaker.read(["Drink water.", "Rest."], "en")
        heard.wait_finished(timeout=10)
    assert heard.events == [("sentence", 0), ("sentence", 1), ("finished",)]


@needs_espeak
def test_an_espeak_failure_is_reported_with_its_message():
    backend = EspeakBackend(NullSink(), voices={"xx"})  # listed but not really installed
    with pytest.raises(SpeechError, match=r"espeak-ng failed \(exit 1\).*voice does not exist"):
        backend.speak(Utterance("Hello", "xx", 150, 50), Cancellation(), lambda: None)


def test_a_missing_espeak_ng_is_an_error_not_a_crash(tmp_path, ui, heard, caplog):
    backend = EspeakBackend(NullSink(), binary=str(tmp_path / "espeak-ng"))
    with caplog.at_level(logging.ERROR, logger="kiosk.speech"):
        with Speaker(backend, ui.post) as speaker:
            heard.attach(speaker)
            speaker.say("Hello", "en")
            heard.wait_finished()
            assert speaker.state.value == "idle"
    assert heard.events[0][0] == "error"
    assert "espeak-ng" in heard.events[0][1] and "is not installed" in heard.events[0][1]
    assert any(r.getMessage() == "speech.unavailable" for r in caplog.records)  # told IT at start-up


def test_a_missing_aplay_names_the_package(tmp_path):
    wav = _tiny_wav()
    with pytest.raises(SpeechError, match="alsa-utils"):
        AplaySink(aplay=str(tmp_path / "aplay")).play(wav, Cancellation(), lambda: None)


needs_aplay = pytest.mark.skipif(shutil.which("aplay") is None,
                                 reason="aplay is not installed (apt install alsa-utils)")


@needs_espeak
@needs_aplay
def test_aplay_plays_each_sentence_on_a_working_device(ui, heard):
    """ALSA's "null" device takes the audio (at once, not in real time) and exits 0."""
    with Speaker(EspeakBackend(AplaySink("null")), ui.post) as speaker:
        heard.attach(speaker)
        speaker.read(["Hello.", "Goodbye."], "en")
        heard.wait_finished(timeout=10)
    assert heard.events == [("sentence", 0), ("sentence", 1), ("finished",)]


@needs_espeak
@needs_aplay
def test_a_sound_device_that_does_not_exist_is_reported_for_it(ui, heard):
    with Speaker(EspeakBackend(AplaySink("plughw:CARD=NoSuchCardHere")), ui.post) as speaker:
        heard.attach(speaker)
        speaker.say("Hello", "en")
        heard.wait_finished(timeout=10)
    errors = [e[1] for e in heard.events if e[0] == "error"]
    assert len(errors) == 1
    assert "'plughw:CARD=NoSuchCardHere' cannot play audio" in errors[0] and "aplay -L" in errors[0]


# -- no processes left behind --------------------------------------------------------------

def _tiny_wav():
    import io
    import wave

    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(22050)
        out.writeframes(b"\0\0" * 2205)
    buffer.seek(0)
    return buffer


def _fake_espeak(tmp_path: Path) -> tuple[Path, Path]:
    """An espeak-ng that writes a little audio, starts a child, and never finishes."""
    pid_file = tmp_path / "grandchild.pid"
    script = tmp_path / "espeak-ng"
    script.write_text(textwrap.dedent(f"""\
        #!{sys.executable}
        import struct, subprocess, sys
        sys.stdin.buffer.read()
        header = (b"RIFF" + struct.pack("<I", 0x7ffff024) + b"WAVEfmt "
                  + struct.pack("<IHHIIHH", 16, 1, 1, 22050, 44100, 2, 16)
                  + b"data" + struct.pack("<I", 0x7ffff000))
        sys.stdout.buffer.write(header + bytes(4410))
        sys.stdout.buffer.flush()
        child = subprocess.Popen(["sleep", "20"])
        open({str(pid_file)!r}, "w").write(str(child.pid))
        child.wait()
        """))
    script.chmod(0o755)
    return script, pid_file


def _wait_for_file(path: Path, timeout: float = 10.0) -> int:
    deadline = time.monotonic() + timeout
    while not (path.exists() and path.read_text()):
        assert time.monotonic() < deadline, "the fake espeak-ng did not start"
        time.sleep(0.01)
    return int(path.read_text())


def _gone(pid: int, timeout: float = 5.0) -> bool:
    """Not running (reaped, or a zombie waiting for init)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.02)
    return False


def _live_children() -> list[psutil.Process]:
    alive = []
    for child in psutil.Process().children(recursive=True):
        try:
            if child.status() != psutil.STATUS_ZOMBIE:
                alive.append(child)
        except psutil.NoSuchProcess:
            pass
    return alive


def test_close_kills_espeak_and_its_process_group_and_leaves_no_zombie(tmp_path, ui):
    fake, pid_file = _fake_espeak(tmp_path)
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    speaker = Speaker(EspeakBackend(NullSink(), binary=str(fake), voices={"en-us"}), ui.post)
    speaker.say("Hello", "en")
    grandchild = _wait_for_file(pid_file)
    assert psutil.pid_exists(grandchild)
    started = time.monotonic()
    speaker.close()
    assert time.monotonic() - started < 3  # not the 20 s the fake would take
    assert not speaker._thread.is_alive()
    assert _gone(grandchild)
    assert [p for p in psutil.Process().children(recursive=True) if p.pid not in before] == []  # no zombie either
    assert not [p for p in _live_children() if p.pid not in before]


def test_a_new_prompt_kills_the_old_utterance_at_once(tmp_path, ui, heard):
    fake, pid_file = _fake_espeak(tmp_path)
    with Speaker(EspeakBackend(NullSink(), binary=str(fake), voices={"en-us"}), ui.post) as speaker:
        speaker.say("First", "en")
        first = _wait_for_file(pid_file)
        pid_file.unlink()
        speaker.say("Second", "en")
        second = _wait_for_file(pid_file)
        assert second != first and _gone(first)


def test_exiting_python_without_close_leaves_nothing_speaking(tmp_path):
    fake, pid_file = _fake_espeak(tmp_path)
    program = textwrap.dedent(f"""\
        import pathlib, sys, time
        sys.path.insert(0, {str(ROOT)!r})
        from kiosk.speech import EspeakBackend, NullSink, Speaker
        speaker = Speaker(EspeakBackend(NullSink(), binary={str(fake)!r}, voices={{"en-us"}}), lambda f: None)
        speaker.say("Hello", "en")
        while not pathlib.Path({str(pid_file)!r}).exists():
            time.sleep(0.01)
        time.sleep(0.1)
        """)  # and exits without close()
    done = subprocess.run([sys.executable, "-c", program], timeout=30, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert _gone(int(pid_file.read_text()))
