"""Speech with the espeak-ng program (Debian package espeak-ng): offline, small, many languages.

One espeak-ng process per utterance: the text goes in on stdin (never through a shell,
never as an argument it could mistake for an option), the WAV comes out on stdout and
is streamed to an audio sink as it is made. espeak-ng writes the first audio within
~10 ms of getting the text, so a process per sentence costs little and makes
interrupting a matter of killing it.
"""
from __future__ import annotations

import logging
import re
import subprocess
import threading
from collections.abc import Callable, Iterable

from kiosk.speech.backend import Cancellation, SpeechError, Utterance
from kiosk.speech.child_process import ChildProcess
from kiosk.speech.sinks import AplaySink, AudioSink

log = logging.getLogger(__name__)

ESPEAK = "espeak-ng"
# The kiosk's language -> the espeak-ng voice patients here expect to hear.
VOICE_FOR_LANGUAGE = {
    "en": "en-us",
    "es": "es-419",  # Latin American Spanish, as most Spanish-speaking patients in US clinics
    "zh": "cmn",  # Mandarin
    "vi": "vi",
    "ar": "ar",
}
MAX_TEXT_BYTES = 32 * 1024  # one sentence; well under a pipe's 64 KiB, so writing it never blocks
INSTALL_HINT = "install the Debian package espeak-ng"
_ALIAS = re.compile(r"\(([^\s()]+)\s+\d+\)")  # "(zh-cmn 5)": another name and its priority


def amplitude_for(volume: int) -> int:
    """The kiosk's volume 0..100 -> espeak-ng's amplitude 0..200 (its own default is 100).

    espeak-ng limits its peaks, so the top of the range is loud without clipping.
    """
    return max(0, min(200, round(volume * 2)))


def parse_voice_list(text: str) -> set[str]:
    """Every name `espeak-ng -v NAME` accepts, from the output of `espeak-ng --voices`.

    Lines look like `5  cmn  --/M  Chinese_(Mandarin)  sit/cmn  (zh-cmn 5)(zh 5)`: the
    language column, the voice file, and the other languages in brackets.
    """
    names: set[str] = set()
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 5 or not fields[0].isdigit():
            continue
        names.add(fields[1].lower())
        names.add(fields[4].rsplit("/", 1)[-1].lower())
        names.update(alias.lower() for alias in _ALIAS.findall(" ".join(fields[5:])))
    return names


def voice_candidates(language: str) -> list[str]:
    """Voices to try for a kiosk language code, best first: the chosen voice, the code
    itself (e.g. "pt-br"), then its base language ("pt")."""
    code = language.strip().lower().replace("_", "-")
    base = code.split("-", 1)[0]
    candidates = [VOICE_FOR_LANGUAGE.get(base), code, base]
    return [c for i, c in enumerate(candidates) if c and c not in candidates[:i]]


class EspeakBackend:
    def __init__(self, sink: AudioSink | None = None, *, binary: str = ESPEAK,
                 voices: Iterable[str] | None = None) -> None:
        """`sink`: where the audio goes (default: aplay on ALSA's default device).
        `voices`: the voice names to trust instead of asking `espeak-ng --voices`."""
        self.sink = sink if sink is not None else AplaySink()
        self.binary = binary
        self._voices = {v.lower() for v in voices} if voices is not None else None
        self._voice_by_language: dict[str, str] = {}
        self._languages_without_voice: set[str] = set()
        self._lock = threading.Lock()

    # -- voices ---------------------------------------------------------------------------

    def available_voices(self) -> set[str]:
        """The installed voices (asked once). Raises SpeechError if espeak-ng is missing."""
        with self._lock:
            if self._voices is None:
                self._voices = self._list_voices()
            return self._voices

    def _list_voices(self) -> set[str]:
        try:
            done = subprocess.run([self.binary, "--voices"], capture_output=True, timeout=10,
                                  stdin=subprocess.DEVNULL)
        except FileNotFoundError:
            raise SpeechError(f"no speech: {self.binary!r} is not installed ({INSTALL_HINT})") from None
        except subprocess.TimeoutExpired:
            raise SpeechError(f"no speech: `{self.binary} --voices` did not answer within 10 s") from None
        voices = parse_voice_list(done.stdout.decode("utf-8", "replace"))
        if done.returncode != 0 or not voices:
            raise SpeechError(f"no speech: `{self.binary} --voices` failed (exit {done.returncode}); "
                              f"reinstall espeak-ng and espeak-ng-data")
        return voices

    def voice_for(self, language: str) -> str:
        """The espeak-ng voice for a kiosk language; logs once (for IT) when the preferred
        voice is missing and a fallback is used. Raises SpeechError if none is installed."""
        if language in self._voice_by_language:
            return self._voice_by_language[language]
        candidates = voice_candidates(language)
        installed = self.available_voices()
        voice = next((c for c in candidates if c in installed), None)
        if voice is None:
            if language not in self._languages_without_voice:  # tell IT once, not at every prompt
                self._languages_without_voice.add(language)
                log.error("speech.voice_missing", extra={"fields": {
                    "language": language, "tried": candidates,
                    "action": "no espeak-ng voice for this language: reinstall espeak-ng-data or "
                              "remove the language from the kiosk's `languages`"}})
            raise SpeechError(f"no espeak-ng voice for language {language!r} (tried {', '.join(candidates)})")
        if voice != candidates[0]:
            log.warning("speech.voice_fallback", extra={"fields": {
                "language": language, "wanted": candidates[0], "using": voice,
                "action": f"espeak-ng voice {candidates[0]!r} is not installed; speaking with {voice!r}"}})
        self._voice_by_language[language] = voice
        return voice

    # -- the backend contract -------------------------------------------------------------

    def prepare(self) -> None:
        """List the voices now so the first prompt does not wait for it."""
        try:
            self.available_voices()
        except SpeechError as error:
            log.error("speech.unavailable", extra={"fields": {"reason": str(error)}})

    def command(self, utterance: Utterance) -> list[str]:
        return [self.binary, "-v", self.voice_for(utterance.language), "-s", str(utterance.rate),
                "-a", str(amplitude_for(utterance.volume)), "-b", "1", "--stdout"]

    def speak(self, utterance: Utterance, cancellation: Cancellation,
              on_audio_start: Callable[[], None]) -> None:
        text = utterance.text.encode("utf-8")
        if len(text) > MAX_TEXT_BYTES:
            raise SpeechError(f"one utterance of {len(text)} bytes is too long to speak; "
                              f"split the text into sentences (at most {MAX_TEXT_BYTES} bytes each)")
        args = self.command(utterance)
        if cancellation.cancelled:
            return
        try:
            synth = ChildProcess(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        except FileNotFoundError:
            raise SpeechError(f"no speech: {self.binary!r} is not installed ({INSTALL_HINT})") from None
        try:
            cancellation.call_on_cancel(synth.kill)
            try:
                synth.popen.stdin.write(text)
                synth.popen.stdin.close()  # end of input: espeak-ng speaks it and exits
            except BrokenPipeError:
                pass  # it died at once (killed, or a bad option): the exit code says which
            self.sink.play(synth.popen.stdout, cancellation, on_audio_start)
            code = synth.reap()
            if code != 0 and not cancellation.cancelled:
                raise SpeechError(f"espeak-ng failed (exit {code}): {synth.stderr_tail() or 'no message'}")
        finally:
            synth.close()

    def close(self) -> None:
        pass  # nothing lives between utterances
