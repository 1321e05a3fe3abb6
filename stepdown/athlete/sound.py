"""Cue sound: tone patterns synthesised here, spoken words by espeak-ng where it is
installed, played through sounddevice (PortAudio: ALSA/PulseAudio, CoreAudio, WASAPI).

Where sounddevice or PortAudio is missing, or the machine has no audio output device,
:func:`open_output` returns a text output instead and says so in one line: the cues are
then printed as text, and nothing else changes.  Audio is mono float32 in [-1, 1] at
:data:`RATE_HZ`.
"""

from __future__ import annotations

import io
import queue
import shutil
import subprocess
import threading
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import numpy as np

from stepdown.athlete.cues import Cue, Tone

RATE_HZ = 22050
"""Sample rate of the cue audio, Hz (espeak-ng's own rate)."""
AMPLITUDE = 0.3
FADE_S = 0.005  # raised-cosine fade at each tone's ends: no clicks
GAP_S = 0.08    # silence between the tones and the words
ESPEAK = "espeak-ng"


def tone_audio(tones: tuple[Tone, ...], rate_hz: int = RATE_HZ) -> np.ndarray:
    """A tone pattern as audio (N,): each (frequency Hz, duration s) a faded sine.

    0 Hz is silence of that duration.

    Parameters
    ----------
    tones : tuple of Tone
        (frequency Hz, duration s) pairs.
    rate_hz : int
        Sample rate, Hz.

    Returns
    -------
    numpy.ndarray
        (N,) float32 in [-1, 1] (peak :data:`AMPLITUDE`).
    """
    parts = []
    for freq, dur in tones:
        t = np.arange(int(round(dur * rate_hz))) / rate_hz
        x = AMPLITUDE * np.sin(2 * np.pi * freq * t) if freq > 0 else np.zeros_like(t)
        n = min(int(FADE_S * rate_hz), len(x) // 2)
        if freq > 0 and n:
            ramp = 0.5 - 0.5 * np.cos(np.pi * np.arange(n) / n)
            x[:n] *= ramp
            x[-n:] *= ramp[::-1]
        parts.append(x)
    return np.concatenate(parts).astype(np.float32) if parts else np.zeros(0, np.float32)


def speech_available() -> bool:
    """Whether espeak-ng is installed (on PATH).

    Returns
    -------
    bool
        True: cues can carry spoken words.
    """
    return shutil.which(ESPEAK) is not None


def speech_audio(words: str, rate_hz: int = RATE_HZ, wpm: int = 165) -> np.ndarray:
    """``words`` spoken by espeak-ng as audio (N,) at ``rate_hz``.

    Parameters
    ----------
    words : str
        What to say.
    rate_hz : int
        Sample rate of the result, Hz (espeak-ng's own is resampled).
    wpm : int
        Speaking rate, words per minute.

    Returns
    -------
    numpy.ndarray
        (N,) float32 in [-1, 1].

    Raises
    ------
    OSError
        espeak-ng is not installed or fails.
    """
    exe = shutil.which(ESPEAK)
    if exe is None:
        raise OSError(f"{ESPEAK} is not installed")
    out = subprocess.run([exe, "--stdout", "-s", str(wpm), "--", words], capture_output=True,
                         timeout=10, check=False)
    if out.returncode != 0 or not out.stdout:
        raise OSError(f"{ESPEAK} failed: {out.stderr.decode(errors='replace').strip()[:200]}")
    x, rate = read_wav_bytes(_fixed_wav_header(out.stdout))
    if rate != rate_hz:
        from scipy.signal import resample_poly

        g = np.gcd(rate, rate_hz)
        x = resample_poly(x, rate_hz // g, rate // g).astype(np.float32)
    return x


def _fixed_wav_header(data: bytes) -> bytes:
    """espeak-ng writing to a pipe cannot seek back to fill in the RIFF and data sizes
    (it leaves 0x7FFFFFFF there); set them from the bytes actually received."""
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return data
    at = data.find(b"data", 12)
    if at < 0:
        return data
    body = len(data) - (at + 8)
    return (data[:4] + (len(data) - 8).to_bytes(4, "little") + data[8:at + 4]
            + body.to_bytes(4, "little") + data[at + 8:])


def read_wav_bytes(data: bytes) -> tuple[np.ndarray, int]:
    """16-bit PCM WAV bytes -> (mono float32 audio (N,), rate Hz).

    Parameters
    ----------
    data : bytes
        A whole WAV file.

    Returns
    -------
    audio : numpy.ndarray
        (N,) float32 in [-1, 1), channels averaged.
    rate_hz : int
        Its sample rate, Hz.

    Raises
    ------
    OSError
        Not 16-bit.
    """
    with wave.open(io.BytesIO(data)) as w:
        if w.getsampwidth() != 2:
            raise OSError(f"expected 16-bit WAV, got {8 * w.getsampwidth()}-bit")
        x = np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float32) / 32768
        x = x.reshape(-1, w.getnchannels()).mean(axis=1)
        return x, w.getframerate()


def cue_audio(cue: Cue, speech: bool, rate_hz: int = RATE_HZ) -> np.ndarray:
    """The cue as audio (N,): its tone pattern, then its words.

    The words when ``speech`` and espeak-ng works (the tones alone otherwise).

    Parameters
    ----------
    cue : Cue
        The cue.
    speech : bool
        Add the spoken words.
    rate_hz : int
        Sample rate, Hz.

    Returns
    -------
    numpy.ndarray
        (N,) float32 in [-1, 1].
    """
    x = tone_audio(cue.tones, rate_hz)
    if speech and cue.words:
        try:
            words = speech_audio(cue.words, rate_hz)
        except (OSError, subprocess.TimeoutExpired):
            return x
        x = np.concatenate([x, np.zeros(int(GAP_S * rate_hz), np.float32), words])
    return x


def write_wav(path: str | Path, audio: np.ndarray, rate_hz: int = RATE_HZ) -> None:
    """Write mono audio (N,) in [-1, 1] as a 16-bit PCM WAV file.

    Parameters
    ----------
    path : str or pathlib.Path
        The file to write.
    audio : numpy.ndarray
        (N,) samples, clipped to [-1, 1].
    rate_hz : int
        Sample rate, Hz.
    """
    pcm = (np.clip(audio, -1.0, 1.0) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate_hz)
        w.writeframes(pcm.tobytes())


class CueOutput(Protocol):
    """Where cues go: :class:`SoundOutput` or :class:`TextOutput`.

    Parameters
    ----------
    *args, **kwargs
        None: a protocol describes an object's methods, it is not built.
    """

    def play(self, cue: Cue) -> None:
        """Play ``cue`` without making the caller wait for it.

        Parameters
        ----------
        cue : Cue
            The cue.
        """
        ...

    def close(self) -> None:
        """Stop, releasing what the output holds."""
        ...


class TextOutput:
    """Cues as text lines (no audio device, or sound not wanted).

    Parameters
    ----------
    show : callable
        Prints one line.
    """

    def __init__(self, show: Callable[[str], None]) -> None:
        self.show = show

    def play(self, cue: Cue) -> None:
        """Play ``cue`` (as the line ``cue: <text>``).

        Parameters
        ----------
        cue : Cue
            The cue.
        """
        self.show(f"cue: {cue.text}")

    def close(self) -> None:
        """Nothing to release."""
        pass


class SoundOutput:
    """Cues played one after the other by a worker thread.

    A caller never waits for synthesis or playback.

    Parameters
    ----------
    sd : module
        The sounddevice module.
    speech : bool
        Add spoken words to the tones (espeak-ng is installed).
    """

    def __init__(self, sd, speech: bool) -> None:
        self.sd, self.speech = sd, speech
        self._queue: queue.Queue[Cue | None] = queue.Queue()
        self.errors = 0
        self._thread = threading.Thread(target=self._work, name="cue-sound", daemon=True)
        self._thread.start()

    def play(self, cue: Cue) -> None:
        """Play ``cue`` (queued; returns at once).

        Parameters
        ----------
        cue : Cue
            The cue.
        """
        self._queue.put(cue)

    def _work(self) -> None:
        while (cue := self._queue.get()) is not None:
            try:
                self.sd.play(cue_audio(cue, self.speech), RATE_HZ, blocking=True)
            except Exception:  # a device that vanished mid-session must not stop recording
                self.errors += 1

    def close(self) -> None:
        """End the worker after the cues queued (waits up to 5 s)."""
        self._queue.put(None)
        self._thread.join(timeout=5)


def open_output(show: Callable[[str], None]) -> tuple[CueOutput, str]:
    """The best cue output this machine has, and a one-line note saying which.

    Parameters
    ----------
    show : callable
        Prints one line (used by a text output).

    Returns
    -------
    output : CueOutput
        Sound where sounddevice and an output device exist, else text.
    note : str
        The one-line note.
    """
    try:
        import sounddevice as sd
    except (ImportError, OSError) as err:  # OSError: the PortAudio library is missing
        return TextOutput(show), f"sound: no audio library ({_first_line(err)}); cues shown as text"
    try:
        device = sd.query_devices(kind="output")
    except Exception as err:  # PortAudioError (no default device) or ValueError
        return TextOutput(show), f"sound: no audio output device ({_first_line(err)}); " \
                                 "cues shown as text"
    speech = speech_available()
    voice = "tones and spoken words" if speech else f"tones only ({ESPEAK} not installed)"
    return SoundOutput(sd, speech), f"sound: {voice} on {device['name']}"


def _first_line(err: BaseException) -> str:
    return (str(err).strip().splitlines() or [type(err).__name__])[0][:120]
