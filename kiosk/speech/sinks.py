"""Where espeak-ng's WAV goes: a sound device through aplay, or nowhere (timed silently).

Both read the WAV stream as espeak-ng writes it (`--stdout` writes a streaming header
whose sizes are placeholders, so the length is known only at the end of the stream) and
call `on_audio_start` when the first PCM bytes arrive: that is the moment the listener
starts hearing the sentence.
"""
from __future__ import annotations

import struct
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Protocol

from kiosk.speech.backend import Cancellation, SpeechError
from kiosk.speech.child_process import ChildProcess

CHUNK = 4096  # ~0.1 s of espeak-ng's 22 kHz mono audio
APLAY_GRACE_S = 5.0  # how long past the audio's own length aplay may take before it counts as hung
DEFAULT_DEVICE = "default"


@dataclass(frozen=True)
class WavFormat:
    sample_rate: int
    channels: int
    bits_per_sample: int

    @property
    def bytes_per_second(self) -> int:
        return self.sample_rate * self.channels * self.bits_per_sample // 8


def _read_exactly(stream: IO[bytes], size: int) -> bytes:
    data = b""
    while len(data) < size:
        part = stream.read(size - len(data))
        if not part:
            break
        data += part
    return data


def read_wav_header(stream: IO[bytes]) -> tuple[WavFormat, bytes] | None:
    """Read a RIFF/WAVE header up to the start of the PCM data.

    Returns (format, the header's bytes) or None for an empty stream (nothing was
    synthesised). Raises SpeechError for anything that is not PCM WAV.
    """
    riff = _read_exactly(stream, 12)
    if not riff:
        return None
    if len(riff) < 12 or riff[:4] != b"RIFF" or riff[8:12] != b"WAVE":
        raise SpeechError("the speech synthesiser did not produce WAV audio")
    header, wav_format = bytearray(riff), None
    while True:
        chunk_head = _read_exactly(stream, 8)
        if len(chunk_head) < 8:
            raise SpeechError("the speech synthesiser's WAV audio ended inside its header")
        header += chunk_head
        chunk_id, size = chunk_head[:4], struct.unpack("<I", chunk_head[4:])[0]
        if chunk_id == b"data":
            if wav_format is None:
                raise SpeechError("the speech synthesiser's WAV audio has no format chunk")
            return wav_format, bytes(header)
        body = _read_exactly(stream, size + (size & 1))  # chunks are padded to even sizes
        header += body
        if chunk_id == b"fmt ":
            if len(body) < 16:
                raise SpeechError("the speech synthesiser's WAV format chunk is too short")
            encoding, channels, rate, _byte_rate, _align, bits = struct.unpack("<HHIIHH", body[:16])
            if encoding != 1 or not channels or not rate or bits not in (8, 16, 24, 32):
                raise SpeechError("the speech synthesiser's WAV audio is not plain PCM")
            wav_format = WavFormat(rate, channels, bits)


class AudioSink(Protocol):
    def play(self, wav: IO[bytes], cancellation: Cancellation,
             on_audio_start: Callable[[], None]) -> None:
        """Play the WAV stream until its end or until cancelled; raise SpeechError if it cannot."""


class NullSink:
    """No sound card (Xvfb, CI, a kiosk without audio): the audio is read and timed as a
    device would play it, so everything above behaves as with real sound.

    `speed` > 1 plays faster than real time (tests).
    """

    def __init__(self, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError(f"NullSink speed must be positive, not {speed!r}")
        self.speed = speed

    def play(self, wav: IO[bytes], cancellation: Cancellation,
             on_audio_start: Callable[[], None]) -> None:
        header = read_wav_header(wav)
        if header is None:
            return
        wav_format = header[0]
        started, received = None, 0
        while chunk := wav.read1(CHUNK):
            if started is None:
                started = time.monotonic()
                on_audio_start()
            received += len(chunk)
        if started is None or cancellation.cancelled:
            return
        # A device starts at the first bytes and plays on at its own pace.
        ends = started + received / wav_format.bytes_per_second / self.speed
        cancellation.wait(max(0.0, ends - time.monotonic()))


class AplaySink:
    """Plays through ALSA with `aplay -q -D <device>` (alsa-utils), one aplay per utterance.

    One process per utterance keeps interrupting simple and prompt: killing aplay drops
    whatever it has buffered, where a long-lived player would finish its buffer first.
    """

    def __init__(self, device: str = DEFAULT_DEVICE, *, aplay: str = "aplay") -> None:
        self.device = device
        self.aplay = aplay

    def play(self, wav: IO[bytes], cancellation: Cancellation,
             on_audio_start: Callable[[], None]) -> None:
        header = read_wav_header(wav)
        if header is None:
            return
        wav_format, header_bytes = header
        try:
            player = ChildProcess([self.aplay, "-q", "-D", self.device], stdin=subprocess.PIPE,
                                  stdout=subprocess.DEVNULL)
        except FileNotFoundError:
            raise SpeechError(f"no sound: {self.aplay!r} is not installed (Debian package alsa-utils)") from None
        try:
            cancellation.call_on_cancel(player.kill)
            sent = self._feed(player, wav, header_bytes, on_audio_start)
            code = player.reap(timeout=sent / wav_format.bytes_per_second + APLAY_GRACE_S)
            if code != 0 and not cancellation.cancelled:
                raise SpeechError(
                    f"the sound device {self.device!r} cannot play audio "
                    f"({player.stderr_tail() or f'aplay exit code {code}'}). List the devices with "
                    "`aplay -L` and set the kiosk's `speech` setting to espeak:<device>, "
                    "e.g. espeak:plughw:CARD=Headphones")
        finally:
            player.close()

    @staticmethod
    def _feed(player: ChildProcess, wav: IO[bytes], header: bytes,
              on_audio_start: Callable[[], None]) -> int:
        """Copy the WAV into aplay; the number of PCM bytes it took."""
        sink = player.popen.stdin
        sent = 0
        try:
            sink.write(header)
            while chunk := wav.read1(CHUNK):
                sink.write(chunk)
                sink.flush()
                if not sent:
                    on_audio_start()
                sent += len(chunk)
            sink.close()  # end of audio: aplay drains its buffer and exits
        except BrokenPipeError:
            pass  # aplay has gone (killed, or it could not open the device): its exit code says which
        return sent
