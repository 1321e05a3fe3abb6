"""The sample recordings in data/: they load, validate, and are what data/README.md says.

Every ``stepdown simulate data/...`` command in the README is run again into a
temporary folder; the fresh recording and truth must match the shipped files,
so the README (seed, options, command) cannot rot.
"""

from __future__ import annotations

import math
import re
import shlex
from pathlib import Path

import numpy as np
import pytest

from analysis.rules import ITEMS
from sensor_io.recording_io import read_recording
from stepdown.cli import main
from stepdown.sample_data import DATA_DIR, SAMPLES
from stepdown.truth_files import read_truth, truth_path

README = DATA_DIR / "README.md"
COMMAND = re.compile(r"^stepdown simulate data/(\S+)( .*)?$", re.MULTILINE)

pytestmark = pytest.mark.skipif(not README.is_file(), reason="data/README.md is absent")


def readme_commands() -> dict[str, str]:
    """File name -> the command line the README gives for it."""
    return {m.group(1): m.group(0) for m in COMMAND.finditer(README.read_text(encoding="utf-8"))}


def shipped() -> list[Path]:
    return sorted(DATA_DIR.glob("*.parquet")) + sorted(DATA_DIR.glob("*.csv"))


def test_every_file_is_documented_and_every_documented_file_exists():
    commands = readme_commands()
    assert len(commands) >= 4
    assert sorted(commands) == sorted(p.name for p in shipped())
    for name in commands:
        assert truth_path(DATA_DIR / name).is_file(), name
    # the generator's list and the README say the same
    assert sorted(s.name for s in SAMPLES) == sorted(commands)
    for s in SAMPLES:
        seed = int(re.search(r"--seed (\d+)", commands[s.name]).group(1))
        assert commands[s.name] == s.command(seed)


def test_readme_says_the_files_are_simulated():
    text = README.read_text(encoding="utf-8")
    assert "simulated" in text.lower() and "python -m stepdown.sample_data" in text


@pytest.mark.parametrize("path", shipped(), ids=lambda p: p.name)
def test_sample_loads_validates_and_is_small(path):
    rec = read_recording(path)  # validates the contract
    assert path.stat().st_size < 1.1e6
    assert {"pelvis", f"thigh_{rec.test_leg}"} <= set(rec.placements)
    truth = read_truth(path)
    assert truth["test_leg"] == rec.test_leg
    assert len(truth["reps"]) == 5
    assert all(set(r["items"]) == set(ITEMS) for r in truth["reps"])
    # each rep lies inside every sensor's recorded time
    for s in rec.streams.values():
        assert s.t[0] < truth["reps"][0]["start_s"] and truth["reps"][-1]["end_s"] < s.t[-1]
    # the file name's profile is the truth's category (good/medium/poor examples)
    profile = path.name.split("_")[0]
    assert truth["profile"] == profile == truth["test"]["category"]


def test_samples_cover_both_legs_and_both_sensor_sets():
    recs = [read_recording(p) for p in shipped()]
    assert {r.test_leg for r in recs} == {"left", "right"}
    counts = {len(r.placements) for r in recs}
    assert 2 in counts and max(counts) == 5


def assert_same_json(a, b, where: str):
    if isinstance(a, dict):
        assert isinstance(b, dict) and sorted(a) == sorted(b), where
        for k in a:
            assert_same_json(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same_json(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and not isinstance(b, bool):
        assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9), where
    else:
        assert a == b, where


@pytest.mark.parametrize("name", sorted(readme_commands()) if README.is_file() else [])
def test_readme_command_remakes_the_shipped_file(tmp_path, capsys, name):
    command = readme_commands()[name]
    argv = shlex.split(command.replace("data/", f"{tmp_path}/", 1))[1:]
    assert main(argv) == 0, capsys.readouterr().err
    stale = ("data/ no longer matches what its README command makes (did the simulator "
             "change?): run python -m stepdown.sample_data and commit data/")
    fresh, kept = read_recording(tmp_path / name), read_recording(DATA_DIR / name)
    assert fresh.placements == kept.placements and fresh.test_leg == kept.test_leg
    for p in kept.placements:
        a, b = fresh.streams[p], kept.streams[p]
        assert len(a) == len(b), stale
        np.testing.assert_allclose(a.t, b.t, rtol=0, atol=1e-9, err_msg=stale)
        np.testing.assert_allclose(a.acc, b.acc, rtol=0, atol=1e-6, err_msg=stale)
        np.testing.assert_allclose(a.gyr, b.gyr, rtol=0, atol=1e-6, err_msg=stale)
    assert_same_json(read_truth(tmp_path / name), read_truth(DATA_DIR / name), stale + "; at truth")
