"""Cue audio (issue 13): tones and espeak-ng words measured from WAV files, and the
text fallback when there is no audio library or device."""

import shutil
import subprocess
import sys
import types

import numpy as np
import pytest

from stepdown.athlete import sound
from stepdown.athlete.cues import TONES, Cue, rep_cue
from stepdown.athlete.sound import (
    RATE_HZ,
    SoundOutput,
    TextOutput,
    cue_audio,
    open_output,
    read_wav_bytes,
    tone_audio,
    write_wav,
)


def dominant_hz(x: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.fft.rfftfreq(len(x), 1 / rate)[np.argmax(spectrum)])


def test_tones_have_their_pitch_and_length():
    x = tone_audio(((440.0, 0.2), (0.0, 0.1), (880.0, 0.1)))
    assert len(x) == pytest.approx(0.4 * RATE_HZ, abs=2)
    assert dominant_hz(x[: int(0.2 * RATE_HZ)], RATE_HZ) == pytest.approx(440, abs=6)
    assert not np.any(x[int(0.2 * RATE_HZ): int(0.3 * RATE_HZ)])
    assert dominant_hz(x[int(0.3 * RATE_HZ):], RATE_HZ) == pytest.approx(880, abs=12)
    assert abs(x[0]) < 1e-3 and abs(x[-1]) < 0.02  # faded in and out: no click
    assert np.max(np.abs(x)) <= sound.AMPLITUDE + 1e-6


def test_wav_round_trip(tmp_path):
    x = tone_audio(TONES["knee"])
    write_wav(tmp_path / "knee.wav", x)
    y, rate = read_wav_bytes((tmp_path / "knee.wav").read_bytes())
    assert rate == RATE_HZ and len(y) == len(x)
    assert np.max(np.abs(y - x)) < 1e-4


@pytest.mark.skipif(not shutil.which("sox"), reason="needs sox (apt-get install -y sox)")
def test_cue_wav_measured_by_sox(tmp_path):
    path = tmp_path / "pelvis.wav"
    write_wav(path, tone_audio(TONES["pelvis"]))
    stat = subprocess.run(["sox", str(path), "-n", "stat"], capture_output=True, text=True).stderr
    fields = {k.strip(): v.strip() for k, v in (ln.split(":", 1) for ln in stat.splitlines() if ":" in ln)}
    assert float(fields["Length (seconds)"]) == pytest.approx(0.30, abs=0.001)
    assert float(fields["Maximum amplitude"]) == pytest.approx(sound.AMPLITUDE, abs=0.01)
    assert float(fields["Rough   frequency"]) == pytest.approx(330, abs=10)


@pytest.mark.skipif(not shutil.which("espeak-ng"), reason="needs espeak-ng (apt-get install -y espeak-ng)")
def test_spoken_words_follow_the_tones(tmp_path):
    cue = rep_cue(3, {"knee": 2})
    tones = tone_audio(cue.tones)
    x = cue_audio(cue, speech=True)
    words = x[len(tones) + int(sound.GAP_S * RATE_HZ):]
    assert 0.4 < len(words) / RATE_HZ < 3.0        # "3, knee out" at 165 words/min
    rms = float(np.sqrt(np.mean(words ** 2)))
    assert rms > 0.02                              # speech, not silence
    np.testing.assert_array_equal(x[: len(tones)], tones)
    assert len(cue_audio(cue, speech=False)) == len(tones)
    if shutil.which("sox"):
        path = tmp_path / "cue.wav"
        write_wav(path, x)
        out = subprocess.run(["soxi", "-D", str(path)], capture_output=True, text=True).stdout
        assert float(out) == pytest.approx(len(x) / RATE_HZ, abs=0.001)


def test_no_audio_library_falls_back_to_text(monkeypatch):
    monkeypatch.setitem(sys.modules, "sounddevice", None)  # import raises ImportError
    shown = []
    out, note = open_output(shown.append)
    assert isinstance(out, TextOutput)
    assert note.startswith("sound: no audio library") and "cues shown as text" in note
    assert "\n" not in note
    out.play(Cue("good", "rep 1: good", "1, good"))
    assert shown == ["cue: rep 1: good"]


def test_no_output_device_falls_back_to_text(monkeypatch):
    class PortAudioError(Exception):
        pass

    def query_devices(kind=None):
        raise PortAudioError("Error querying device -1")

    fake = types.SimpleNamespace(query_devices=query_devices, PortAudioError=PortAudioError)
    monkeypatch.setitem(sys.modules, "sounddevice", fake)
    out, note = open_output(print)
    assert isinstance(out, TextOutput)
    assert note == "sound: no audio output device (Error querying device -1); cues shown as text"


def test_this_machines_sounddevice_answers_with_an_output_or_the_fallback():
    """The real library: a machine without a sound card (CI) must get the text output."""
    out, note = open_output(lambda line: None)
    try:
        assert isinstance(out, SoundOutput) == note.startswith("sound: tones")
        assert "\n" not in note
    finally:
        out.close()


def test_a_device_plays_each_cue_in_turn(monkeypatch):
    played = []
    fake = types.SimpleNamespace(
        query_devices=lambda kind=None: {"name": "fake out"},
        play=lambda x, rate, blocking: played.append((len(x), rate, blocking)))
    monkeypatch.setitem(sys.modules, "sounddevice", fake)
    monkeypatch.setattr(sound, "speech_available", lambda: False)
    out, note = open_output(print)
    assert isinstance(out, SoundOutput) and note.endswith("on fake out")
    out.play(rep_cue(1, {}))
    out.play(rep_cue(2, {"pelvis": 1}))
    out.close()
    assert played == [(len(tone_audio(TONES["good"])), RATE_HZ, True),
                      (len(tone_audio(TONES["pelvis"])), RATE_HZ, True)]
