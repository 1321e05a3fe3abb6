"""`stepdown simulate`: recording + truth files, checklist items in the truth, refusals, --plot."""

from __future__ import annotations

import json
import os
import shlex
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pytest

from analysis.checklist import category
from analysis.rules import ITEMS
from sensor_io.recording_io import read_recording, sidecar_path
from simulator.single_test import SimConfig, simulate
from stepdown.cli import main
from stepdown.truth_files import jsonable, read_truth, truth_document, truth_path


def run(capsys, *args: str) -> tuple[int, str, str]:
    rc = main(["simulate", *map(str, args)])
    out, err = capsys.readouterr()
    return rc, out, err


def test_writes_a_readable_recording_and_its_truth_beside_it(tmp_path, capsys):
    out = tmp_path / "t.parquet"
    rc, text, err = run(capsys, out, "--seed", 4, "--leg", "right", "--sensors",
                        "pelvis,thigh,shank", "--profile", "poor", "--reps", 3)
    assert rc == 0, err
    rec = read_recording(out)
    assert rec.placements == ["pelvis", "thigh_right", "shank_right"]
    assert rec.test_leg == "right"
    assert rec.duration_s > 10.0
    truth = read_truth(tmp_path / "t.truth.json")
    assert truth["test_leg"] == "right" and truth["seed"] == 4 and truth["profile"] == "poor"
    assert len(truth["reps"]) == 3
    assert truth["options"]["sensors"] == ["pelvis", "thigh", "shank"]
    # The truth stays out of the recording.
    assert "reps" not in json.dumps(rec.extra)
    assert "t.parquet" in text and "t.truth.json" in text


def test_truth_items_follow_the_default_rules_and_the_simulated_events(tmp_path, capsys):
    out = tmp_path / "t.parquet"
    assert run(capsys, out, "--seed", 16, "--profile", "poor", "--sensors",
               "pelvis,thigh,trunk,wrist")[0] == 0
    truth = read_truth(out)
    pains = truth["pain_nrs"]
    for rep, pain in zip(truth["reps"], pains, strict=True):
        m, items = rep["measures"], rep["items"]
        assert set(items) == set(ITEMS)
        assert items["knee"] == (m["knee_medial_cm"] > 1.0) + (m["knee_medial_cm"] > 3.5)
        assert items["pelvis"] == int(m["pelvic_drop_deg"] > 5.0)
        assert items["trunk"] == int(m["trunk_lean_deg"] > 10.0)
        assert items["arm"] == int(rep["hand_off_waist"])
        assert items["descent"] == int(rep["uncontrolled"])
        assert items["pain"] == int(pain >= 1.0)
        assert rep["total"] == sum(items.values())
        assert rep["sources"]["arm"] == "truth" and rep["sources"]["knee"] == "rule"
    test = truth["test"]
    n = len(truth["reps"])
    for item in ("arm", "trunk", "pelvis", "descent", "pain"):
        present = sum(r["items"][item] for r in truth["reps"])
        assert test["items"][item] == int(2 * present > n), item
    assert test["rule"] == "majority"
    assert test["total"] == sum(test["items"].values())
    assert test["category"] == category(test["total"])
    # seed 16 (poor) has faults: the file is not a trivially clean test
    assert test["total"] >= 4


def test_truth_document_is_plain_json():
    sim = simulate(SimConfig(seed=3, sensors=("pelvis", "thigh", "wrist"), profile="poor"))
    doc = truth_document(sim)
    text = json.dumps(doc, allow_nan=False)  # no numpy types, no NaN
    assert json.loads(text) == doc
    assert all(isinstance(r["hand_off_waist"], bool) for r in doc["reps"])
    assert jsonable({"a": np.float64(1.5), "b": (np.int64(2), np.bool_(True))}) == \
        {"a": 1.5, "b": [2, True]}


def test_csv_output_has_sidecar_and_separate_truth(tmp_path, capsys):
    out = tmp_path / "t.csv"
    assert run(capsys, out, "--seed", 1, "--reps", 2)[0] == 0
    assert sidecar_path(out).is_file() and truth_path(out).is_file()
    assert sidecar_path(out) != truth_path(out)
    assert "reps" not in json.loads(sidecar_path(out).read_text())
    rec = read_recording(out)
    assert rec.placements == ["pelvis", "thigh_left"]
    assert len(read_truth(out)["reps"]) == 2


def test_options_reach_the_recording(tmp_path, capsys):
    out = tmp_path / "t.parquet"
    assert run(capsys, out, "--height", 1.82, "--step-height", 0.18, "--ideal", "--ideal-body",
               "--reps", 2)[0] == 0
    rec = read_recording(out)
    assert rec.athlete.height_m == pytest.approx(1.82)
    assert rec.step_height_m == pytest.approx(0.18)
    truth = read_truth(out)
    assert truth["options"]["ideal_sensors"] is True
    assert truth["sensors"]["pelvis"]["gaps_s"] == []
    # ideal sensors: 100 Hz without jitter or dropped samples; at rest |a| is gravity
    for stream in rec.streams.values():
        np.testing.assert_allclose(np.diff(stream.t), 0.01, rtol=0, atol=1e-9)
    acc = rec.streams["pelvis"].acc[:50]
    assert np.median(np.linalg.norm(acc, axis=1)) == pytest.approx(9.81, abs=0.02)
    assert "balance_gain" not in truth


def test_whole_body_physics_is_the_default_and_drawn_per_athlete(tmp_path, capsys):
    out = tmp_path / "b.parquet"
    assert run(capsys, out, "--reps", 2)[0] == 0
    truth = read_truth(out)
    assert truth["options"]["balance"] == [0.5, 1.0]
    assert truth["options"]["physics"] == "whole-body"
    assert 0.5 <= truth["balance_gain"] <= 1.0
    assert 0.2 <= truth["physics"]["sway_deg"] <= 0.5
    assert 1.0 <= truth["physics"]["sway_rate_dps"] <= 3.0
    assert truth["physics"]["valgus_timing"] in ("depth", "early", "late", "constant")


def test_the_calibration_movement_goes_in_the_metadata_and_the_truth(tmp_path, capsys):
    out = tmp_path / "g.parquet"
    assert run(capsys, out, "--reps", 2, "--calibration-movement")[0] == 0
    truth = read_truth(out)
    window = read_recording(out).extra["calibration_movement"]["window_s"]
    assert window == truth["calibration_movement"]["prompt_s"]
    assert window[1] < truth["reps"][0]["start_s"]
    rc, _, err = run(capsys, tmp_path / "s.parquet", "--sets", 2, "--calibration-movement")
    assert rc == 2 and "--calibration-movement is for a single test" in err


def test_same_seed_same_files_other_seed_differs(tmp_path, capsys):
    paths = [tmp_path / f"{n}.parquet" for n in "abc"]
    for p, seed in zip(paths, (7, 7, 8), strict=True):
        assert run(capsys, p, "--seed", seed, "--reps", 2)[0] == 0
    a, b, c = (read_recording(p).streams["pelvis"].acc for p in paths)
    np.testing.assert_array_equal(a, b)
    assert a.shape != c.shape or not np.array_equal(a, c)
    assert read_truth(paths[0]) == read_truth(paths[1])


@pytest.mark.parametrize(("args", "message"), [
    (("--sensors", "pelvis,thigh,knee"), "unknown sensor 'knee'"),
    (("--sensors", "pelvis,shank"), "thigh missing"),
    (("--profile", "awful"), "--profile must be one of good, medium, poor"),
    (("--leg", "middle"), "--leg must be left or right"),
    (("--reps", "0"), "--reps must be from 1 to"),
    (("--height", "178"), "--height 178 is outside"),
    (("--step-height", "20"), "--step-height 20 is outside"),
    (("--plot", "fig.jpg"), "must end in .png"),
    (("--plot", "no/such/folder/fig.png"), "folder no/such/folder does not exist"),
])
def test_bad_options_give_one_line_and_exit_2(tmp_path, capsys, args, message):
    out = tmp_path / "t.parquet"
    rc, _, err = run(capsys, out, *args)
    assert rc == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not out.exists() and not truth_path(out).exists()


def test_a_read_only_folder_is_refused_before_simulating(tmp_path, capsys, monkeypatch):
    ro = tmp_path / "ro"
    ro.mkdir()
    real_access = os.access  # as root a chmod does not stop writes; a read-only mount does
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: Path(p) != ro and real_access(p, mode))
    for out, plot in ((ro / "t.parquet", tmp_path / "p.png"), (tmp_path / "t.parquet", ro / "p.png")):
        rc, _, err = run(capsys, out, "--reps", 1, "--plot", plot)
        assert rc == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
        assert f"folder {ro} cannot be written" in err
        assert not (tmp_path / "t.parquet").exists()


def test_bad_output_suffix_is_refused(tmp_path, capsys):
    rc, _, err = run(capsys, tmp_path / "t.txt")
    assert rc == 2 and "must end in .parquet or .csv" in err
    assert list(tmp_path.iterdir()) == []


def test_existing_files_are_kept_unless_forced(tmp_path, capsys):
    out = tmp_path / "t.parquet"
    out.write_bytes(b"a real recording")
    rc, _, err = run(capsys, out, "--reps", 1)
    assert rc == 2 and "already exists; use --force" in err
    assert out.read_bytes() == b"a real recording"
    assert not truth_path(out).exists()
    assert run(capsys, out, "--reps", 1, "--force")[0] == 0
    assert read_recording(out).placements == ["pelvis", "thigh_left"]


def test_plot_writes_a_png_with_a_row_per_sensor(tmp_path, capsys):
    small, big = tmp_path / "small.png", tmp_path / "big.png"
    assert run(capsys, tmp_path / "a.parquet", "--reps", 2, "--plot", small)[0] == 0
    assert run(capsys, tmp_path / "b.parquet", "--reps", 2, "--plot", big, "--sensors",
               "pelvis,thigh,shank,trunk,wrist")[0] == 0
    assert small.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    img_small, img_big = mpimg.imread(small), mpimg.imread(big)
    assert img_small.std() > 0.05  # not a blank canvas
    assert img_big.shape[0] > 2 * img_small.shape[0] * 0.8  # 5 sensor rows vs 2
    assert img_big.shape[1] == img_small.shape[1]


def test_readme_example_runs(tmp_path, capsys, monkeypatch):
    """The `stepdown ...` lines of README.md's "What you get" example work as written."""
    readme = Path(__file__).resolve().parents[2] / "README.md"
    block = readme.read_text(encoding="utf-8").split("## What you get", 1)[1]
    lines = [ln for ln in block.split("```")[1].splitlines() if ln.startswith("stepdown ")]
    assert any(ln.startswith("stepdown simulate ") for ln in lines)
    monkeypatch.chdir(tmp_path)
    for line in lines:
        assert main(shlex.split(line)[1:]) == 0, capsys.readouterr().err
    assert (tmp_path / "my.truth.json").is_file() and (tmp_path / "my.png").is_file()
    assert "trunk" in capsys.readouterr().out
