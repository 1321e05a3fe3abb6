"""The programme samples in data/programme/: each README command remakes its file, and
the analysis of each agrees with its truth."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import numpy as np
import pytest

from analysis.exercises.dispatch import analyze_set
from sensor_io.exercise import exercise_of
from sensor_io.recording_io import read_recording
from stepdown.cli import main

FOLDER = Path(__file__).resolve().parents[2] / "data" / "programme"
COMMAND = re.compile(r"^stepdown simulate data/programme/(\S+)( .*)?$", re.MULTILINE)


def commands() -> dict[str, str]:
    return {m.group(1): m.group(0)
            for m in COMMAND.finditer((FOLDER / "README.md").read_text(encoding="utf-8"))}


def test_one_hold_and_one_heel_tap_sample_each_documented():
    found = sorted(p.name for p in FOLDER.glob("*.parquet"))
    assert found == sorted(commands()) == ["heel_taps_left_pelvis_thigh.parquet",
                                           "hold_left_pelvis_thigh.parquet"]
    kinds = {exercise_of(read_recording(FOLDER / n)).kind for n in found}
    assert kinds == {"hold", "heel_taps"}


@pytest.mark.parametrize("name", sorted(commands()))
def test_readme_command_remakes_the_sample(tmp_path, capsys, name):
    argv = shlex.split(commands()[name].replace("data/programme/", f"{tmp_path}/", 1))[1:]
    assert main(argv) == 0, capsys.readouterr().err
    fresh, kept = read_recording(tmp_path / name), read_recording(FOLDER / name)
    assert fresh.placements == kept.placements and fresh.extra == kept.extra
    for p in kept.placements:
        np.testing.assert_allclose(fresh.streams[p].gyr, kept.streams[p].gyr, atol=1e-6)
        np.testing.assert_allclose(fresh.streams[p].t, kept.streams[p].t, atol=1e-9)
    truth = lambda d: json.loads((d / name.replace(".parquet", ".truth.json")).read_text())  # noqa: E731
    # the simulator is deterministic per seed; numpy/scipy releases move the last digits
    fresh_truth, kept_truth = _flat(truth(tmp_path)), _flat(truth(FOLDER))
    assert fresh_truth.keys() == kept_truth.keys()
    for key, value in kept_truth.items():
        assert fresh_truth[key] == (pytest.approx(value, rel=1e-9, abs=1e-12)
                                    if isinstance(value, float) else value), key


def _flat(doc, prefix: str = "") -> dict:
    """A JSON document's leaves by path ("holds/0/tremor_dps": value)."""
    if isinstance(doc, dict):
        return {k: v for key, item in doc.items() for k, v in _flat(item, f"{prefix}{key}/").items()}
    if isinstance(doc, list):
        return {k: v for i, item in enumerate(doc) for k, v in _flat(item, f"{prefix}{i}/").items()}
    return {prefix.rstrip("/"): doc}


def test_sample_analyses_agree_with_their_truth():
    hold = analyze_set(read_recording(FOLDER / "hold_left_pelvis_thigh.parquet")).to_json()
    truth = json.loads((FOLDER / "hold_left_pelvis_thigh.truth.json").read_text())
    assert len(hold["holds"]) == len(truth["holds"]) == 3
    for h, t in zip(hold["holds"], truth["holds"], strict=True):
        assert h["tut_s"] == pytest.approx(t["tut_s"], abs=0.5)
    taps = analyze_set(read_recording(FOLDER / "heel_taps_left_pelvis_thigh.parquet")).to_json()
    truth = json.loads((FOLDER / "heel_taps_left_pelvis_thigh.truth.json").read_text())
    assert taps["summary"]["taps"] == len(truth["reps"]) == 10
    assert taps["summary"]["volume_kg"] == 50.0 and taps["step_height_m"] == 0.15
