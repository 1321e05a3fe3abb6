"""`stepdown programme ...` end to end on simulated sets written by `stepdown simulate`."""

from __future__ import annotations

import json

import pytest

from sensor_io.recording_io import read_recording, write_recording
from stepdown.cli import main


@pytest.fixture(scope="module")
def sets(tmp_path_factory):
    """Two days of programme sets: day 1 heel taps with and without the band (seed 5 poor,
    the band set from seed 5 too) and a hold set; day 2 heel taps; plus two tests."""
    d = tmp_path_factory.mktemp("programme")
    runs = {
        "day1/taps_band": ["--exercise", "heel_taps", "--band", "--reps", "6", "--seed", "5"],
        "day1/taps": ["--exercise", "heel_taps", "--reps", "6", "--seed", "7"],
        "day1/hold": ["--exercise", "hold", "--reps", "2", "--hold-s", "12", "--seed", "3"],
        "day2/taps": ["--exercise", "heel_taps", "--reps", "6", "--seed", "8"],
        "first": ["--seed", "5", "--profile", "poor", "--sensors", "pelvis,thigh,shank"],
        "second": ["--seed", "6", "--profile", "good", "--sensors", "pelvis,thigh,shank"],
    }
    for name, args in runs.items():
        out = d / f"{name}.parquet"
        out.parent.mkdir(exist_ok=True)
        assert main(["simulate", str(out), *args]) == 0
    for day in ("day1", "day2"):  # the simulator dates every recording alike
        for path in (d / day).glob("*.parquet"):
            rec = read_recording(path)
            rec.started_at = f"2026-11-{'02' if day == 'day1' else '04'}T17:00:00Z"
            write_recording(rec, path)
    return d


def test_rules_prints_every_rule_with_its_rationale(capsys):
    assert main(["programme", "rules"]) == 0
    out = capsys.readouterr().out
    assert "taps-wean-band" in out and "get rid of the band as fast as possible" in out


def test_next_reads_session_folders_and_says_which_rule_fired(sets, capsys):
    capsys.readouterr()
    assert main(["programme", "next", str(sets / "day1"), str(sets / "day2"), "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    checked = {c["rule"]: c for c in plan["rules_checked"]}
    assert len(checked) == 8 and all(c.get("why") for c in checked.values())
    for s in plan["suggestions"]:
        assert checked[s["rule"]]["fired"] and s["because"] and s["rationale"]
        assert plan["next_prescription"][s["exercise"]][s["field"]] == s["to"]
    assert main(["programme", "next", str(sets / "day1"), str(sets / "day2")]) == 0
    text = capsys.readouterr().out
    assert "next prescription:" in text


def test_band_compares_the_knee_with_and_without(sets, capsys):
    capsys.readouterr()
    assert main(["programme", "band", str(sets / "day1/taps_band.parquet"),
                 str(sets / "day1/taps.parquet"), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["band_sets"] == 1 and doc["no_band_sets"] == 1
    knee = next(c for c in doc["changes"] if c["measure"] == "knee_medial_cm")
    assert knee["uncertainty_90"] > 0 and knee["beyond_uncertainty"] in (True, False)


def test_band_refuses_a_hold_set(sets, capsys):
    assert main(["programme", "band", str(sets / "day1/hold.parquet")]) == 2
    assert "not a heel-tap set" in capsys.readouterr().err


def test_retest_reports_the_change_against_the_uncertainty(sets, capsys):
    capsys.readouterr()
    assert main(["programme", "retest", str(sets / "first.parquet"), str(sets / "second.parquet"),
                 "--practice", str(sets / "day2/taps.parquet")]) == 0
    out = capsys.readouterr().out
    assert "practice: heel taps x 6" in out
    assert "knee_medial_cm:" in out and "beyond the" in out


def test_retest_refuses_a_set_in_place_of_a_test(sets, capsys):
    assert main(["programme", "retest", str(sets / "first.parquet"),
                 str(sets / "day1/hold.parquet")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.endswith("a hold set, not a step-down test") and len(err.splitlines()) == 1


def test_next_without_programme_sets_is_one_line(sets, capsys):
    assert main(["programme", "next", str(sets / "first.parquet")]) == 2
    assert "no programme sets" in capsys.readouterr().err


def test_catalog_prescription_and_next_session_from_the_catalog(sets, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("STEPDOWN_HOME", str(tmp_path / "home"))
    assert main(["import", str(sets / "day1/taps.parquet"), str(sets / "day1/hold.parquet"),
                 str(sets / "first.parquet"), "--athlete", "a-9"]) == 0
    out = " ".join(capsys.readouterr().out.split())  # rich wraps long lines
    assert "as heel taps set 1" in out and "as hold set 2" in out and "as test 1" in out
    assert main(["programme", "prescribe", "--athlete", "a-9", "--exercise", "hold",
                 "holds=4", "hold_s=20-30"]) == 0
    capsys.readouterr()
    assert main(["programme", "next", "--athlete", "a-9", "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    # the prescription made after the sets is the current one
    hold = plan["next_prescription"]["hold"]
    changed = {s["field"] for s in plan["suggestions"] if s["exercise"] == "hold"}
    assert hold["holds"] == 4
    assert "hold_s" in changed or hold["hold_s"] == [20.0, 30.0]
    assert main(["programme", "prescribe", "--athlete", "a-9", "--exercise", "heel_taps",
                 "band=maybe"]) == 2
    assert "not a valid band" in capsys.readouterr().err
    assert main(["programme", "next", "--athlete", "nobody"]) == 2
    assert "no programme sets in the catalog" in capsys.readouterr().err


def test_mark_says_afterwards_that_a_set_was_done_with_the_band(sets, tmp_path, capsys):
    import shutil

    from sensor_io.exercise import exercise_of

    path = tmp_path / "taps.parquet"
    shutil.copyfile(sets / "day1/taps.parquet", path)
    before = read_recording(path)
    assert main(["programme", "mark", str(path), "--band", "--load-kg", "2.5",
                 "--step-cm", "20"]) == 0
    after = read_recording(path)
    ex = exercise_of(after)
    assert (ex.kind, ex.band, ex.load_kg) == ("heel_taps", True, 2.5)
    assert after.step_height_m == 0.2
    for p in before.placements:  # the samples are untouched
        assert (after.streams[p].gyr == before.streams[p].gyr).all()
    assert main(["programme", "mark", str(path), "--exercise", "plank"]) == 2
    assert "unknown exercise 'plank'" in capsys.readouterr().err
    assert exercise_of(read_recording(path)).band  # a refused mark changes nothing
