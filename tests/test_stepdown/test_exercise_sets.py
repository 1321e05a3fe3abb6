"""Programme sets end to end: the recording says its exercise, record/simulate write it,
analyze dispatches on it, and bad input gets one line and exit code 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sensor_io.errors import InputError, RecordingError
from sensor_io.exercise import ExerciseSet, exercise_of, set_from_options, with_exercise
from sensor_io.recording_io import read_recording, write_recording
from stepdown.cli import main

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "good_left_pelvis_thigh.parquet"
VIRTUAL = ["--emulate", "--emulate-speed", "0"]


def test_a_file_without_the_exercise_key_reads_as_a_test():
    rec = read_recording(SAMPLE)
    assert "exercise" not in rec.extra
    assert exercise_of(rec) == ExerciseSet(kind="test", band=False, load_kg=0.0)


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_exercise_metadata_round_trips(tmp_path, suffix):
    ex = ExerciseSet("heel_taps", band=True, load_kg=7.5, prescription={"reps": 12})
    path = tmp_path / f"set{suffix}"
    write_recording(with_exercise(read_recording(SAMPLE), ex), path)
    assert exercise_of(read_recording(path)) == ex


@pytest.mark.parametrize("value, message", [
    ({"kind": "squat"}, "unknown exercise 'squat'"),
    ({"kind": "hold", "band": "yes"}, "exercise.band must be true or false"),
    ({"kind": "heel_taps", "load_kg": -2}, "exercise.load_kg = -2"),
    ({"kind": "hold", "prescription": {"hold_s": [45, 30]}}, "min above max"),
    ({"kind": "hold", "prescription": {"sets": 3}}, "unknown key 'sets'"),
])
def test_bad_exercise_metadata_is_refused_on_load_in_one_line(tmp_path, capsys, value, message):
    rec = read_recording(SAMPLE)
    rec.extra["exercise"] = value
    path = tmp_path / "bad.parquet"
    write_recording(rec, path, validate=False)
    with pytest.raises(RecordingError, match=message):
        read_recording(path)
    assert main(["analyze", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1 and "Traceback" not in err


def test_set_from_options_keeps_a_plain_test_unchanged_and_converts_cm():
    assert set_from_options("test") == (None, None)
    meta, step_m = set_from_options("heel-taps", band=True, load_kg=5, step_cm=15)
    assert meta == {"kind": "heel_taps", "band": True, "load_kg": 5.0} and step_m == 0.15
    for args, message in [(("plank",), "unknown exercise 'plank'"),
                          (("hold", False, 0.0, 200.0), "--step-cm 200"),
                          (("hold", False, -1.0), "--load-kg -1")]:
        with pytest.raises(InputError, match=message):
            set_from_options(*args)


def test_record_writes_the_exercise_step_and_load(tmp_path, capsys):
    out = tmp_path / "taps.parquet"
    rc = main(["record", *VIRTUAL, "--leg", "left", "--athlete", "a-1", "--pelvis", "x",
               "--thigh", "x", "--seed", "8", "--out", str(out), "--exercise", "heel_taps",
               "--band", "--step-cm", "15", "--load-kg", "5"])
    text = capsys.readouterr().out
    assert rc == 0, text
    assert "heel taps set: no live test scoring" in text and "test: total" not in text
    rec = read_recording(out)
    assert exercise_of(rec) == ExerciseSet("heel_taps", band=True, load_kg=5.0)
    assert rec.step_height_m == 0.15
    capsys.readouterr()
    assert main(["analyze", str(out), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["exercise"]["kind"] == "heel_taps" and doc["summary"]["taps"] == 5
    assert doc["summary"]["volume_kg"] == 25.0


def test_record_refuses_an_unknown_exercise_before_connecting(tmp_path, capsys):
    rc = main(["record", *VIRTUAL, "--leg", "left", "--athlete", "a", "--pelvis", "x",
               "--thigh", "x", "--out", str(tmp_path / "x.parquet"), "--exercise", "plank"])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and err == ("error: --exercise: unknown exercise 'plank' "
                               "(expected one of test, hold, heel_taps)")
    assert not list(tmp_path.iterdir())


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    """A hold set (2 x ~12 s), an unsteady hold set and a heel-tap set, via the CLI."""
    d = tmp_path_factory.mktemp("sets")
    runs = {"hold": ["--exercise", "hold", "--reps", "2", "--hold-s", "12", "--seed", "4"],
            "unsteady": ["--exercise", "hold", "--reps", "1", "--hold-s", "10", "--unsteady"],
            "taps": ["--exercise", "heel_taps", "--reps", "8", "--load-kg", "4", "--seed", "5",
                     "--sensors", "pelvis,thigh,shank"]}
    for name, args in runs.items():
        assert main(["simulate", str(d / f"{name}.parquet"), *args]) == 0
    return d


def test_analyze_dispatches_a_hold_set(simulated, capsys):
    capsys.readouterr()
    assert main(["analyze", str(simulated / "hold.parquet"), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    truth = json.loads((simulated / "hold.truth.json").read_text())
    assert doc["exercise"]["kind"] == "hold" and len(doc["holds"]) == 2
    for h, t in zip(doc["holds"], truth["holds"], strict=True):
        assert h["tut_s"] == pytest.approx(t["tut_s"], abs=0.5)
        assert h["pelvis_sway_deg"] == pytest.approx(t["pelvis_sway_deg"], abs=0.1)
    assert doc["summary"]["prescribed_holds"] == 2
    assert doc["summary"]["tut_s"] == pytest.approx(sum(t["tut_s"] for t in truth["holds"]), abs=1)
    assert main(["analyze", str(simulated / "hold.parquet")]) == 0
    text = capsys.readouterr().out
    assert "2 holds" in text and "under tension" in text and "pelvis sway" in text


def test_analyze_dispatches_a_heel_tap_set(simulated, capsys):
    capsys.readouterr()
    assert main(["analyze", str(simulated / "taps.parquet"), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    truth = json.loads((simulated / "taps.truth.json").read_text())
    assert doc["summary"]["taps"] == len(truth["reps"]) == 8
    assert doc["summary"]["cadence_per_min"] == pytest.approx(truth["cadence_per_min"], abs=0.5)
    assert doc["summary"]["volume_kg"] == 32.0
    for tap in doc["taps"]:
        assert set(tap["items"]) >= {"knee", "pelvis"} and tap["depth_deg"] > 15


def test_a_hold_that_never_steadies_is_one_line(simulated, capsys):
    path = simulated / "unsteady.parquet"
    assert main(["analyze", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert err.startswith(f"error: {path}: no steady hold: the thigh was bent for up to")


def test_a_set_with_no_taps_is_one_line(simulated, tmp_path, capsys):
    """The hold recording relabelled as heel taps: nothing goes down and back up."""
    rec = read_recording(simulated / "unsteady.parquet")
    rec = with_exercise(rec, ExerciseSet("heel_taps"))
    # keep only the standing start: no movement at all
    rec.streams = {p: s.slice_time(0.0, 3.5) for p, s in rec.streams.items()}
    path = tmp_path / "still.parquet"
    write_recording(rec, path)
    assert main(["analyze", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert "no heel taps found" in err


def test_test_only_options_are_refused_for_a_set(simulated, capsys):
    assert main(["analyze", str(simulated / "taps.parquet"), "--pain", "2"]) == 2
    assert "--pain is for a step-down test" in capsys.readouterr().err


def test_simulate_refuses_an_unknown_exercise(tmp_path, capsys):
    assert main(["simulate", str(tmp_path / "x.parquet"), "--exercise", "plank"]) == 2
    assert "unknown exercise 'plank'" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("skip", [False, True])
def test_record_asks_for_the_knee_bends_before_a_hold_set(tmp_path, capsys, skip):
    """A set is calibrated as a test is: the bends asked for after the standing (unless
    --no-bends), their window in the metadata exactly as a test's."""
    from sensor_io.recording import KNEE_BENDS, calibration_movement_window

    out = tmp_path / "hold.parquet"
    rc = main(["record", *VIRTUAL, "--leg", "right", "--athlete", "a-1", "--pelvis", "x",
               "--thigh", "x", "--seed", "3", "--out", str(out), "--exercise", "hold",
               *(["--no-bends"] if skip else [])])
    text = capsys.readouterr().out
    assert rc == 0, text
    said = [line.split(":")[0] for line in text.splitlines()
            if line.startswith(("Stand still", "Knee bends:", "Go:"))]
    assert said[1:] == (["Go"] if skip else ["Knee bends", "Go"])
    rec = read_recording(out)
    assert exercise_of(rec).kind == "hold"
    if skip:
        assert "calibration_movement" not in rec.extra
        return
    assert rec.extra["calibration_movement"]["kind"] == KNEE_BENDS
    t0, t1 = calibration_movement_window(rec)
    standing_end = next(e["t"] for e in rec.extra["events"] if e["what"] == "calibration_end")
    assert t0 == pytest.approx(standing_end, abs=0.06) and t1 - t0 == pytest.approx(10.0, abs=0.06)


def test_simulate_makes_a_set_with_the_bends_unless_told_not_to(tmp_path):
    from sensor_io.recording import calibration_movement_window

    for kind, flag in (("hold", []), ("heel_taps", []), ("hold", ["--no-calibration-movement"])):
        out = tmp_path / f"{kind}{len(flag)}.parquet"
        assert main(["simulate", str(out), "--exercise", kind, "--reps", "1", "--hold-s", "8",
                     *flag]) == 0
        window = calibration_movement_window(read_recording(out))
        truth = json.loads(out.with_suffix(".truth.json").read_text())
        if flag:
            assert window is None and "calibration_movement" not in truth
        else:
            assert window == tuple(truth["calibration_movement"]["prompt_s"])


def _record_and_analyse(tmp_path, capsys, name, args):
    """An emulated set recorded in virtual time and analysed: (recording, analysis JSON, the
    simulation the emulated athlete played, the "stand still" prompt's time in the recording, s)."""
    from stepdown.live.emulation import Prompts, simulated_set
    from stepdown.live.loop import BENDS_S

    out = tmp_path / f"{name}.parquet"
    rc = main(["record", *VIRTUAL, "--athlete", "a-1", "--pelvis", "x", "--thigh", "x",
               "--out", str(out), *args])
    assert rc == 0, capsys.readouterr().out
    capsys.readouterr()
    assert main(["analyze", str(out), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    rec = read_recording(out)
    # the same simulation record played (deterministic per seed, prescription and prompts)
    seed = int(args[args.index("--seed") + 1])
    sim = simulated_set(exercise_of(rec).to_json(), ["pelvis", "thigh"], rec.test_leg, seed,
                        Prompts(3.0, BENDS_S), step_height_m=rec.step_height_m)
    asked = next(e["t"] for e in rec.extra["events"] if e["what"] == "calibration_start")
    return rec, doc, sim, asked


def test_an_emulated_hold_set_is_recorded_and_analysed_as_a_hold_set(tmp_path, capsys):
    """record --emulate --exercise hold plays a hold set (not step-downs): analyze finds the
    prescribed holds, each where and as long as the simulated athlete held it."""
    rec, doc, sim, asked = _record_and_analyse(
        tmp_path, capsys, "hold", ["--leg", "left", "--seed", "3", "--exercise", "hold",
                                   "--reps", "2", "--hold-s", "8"])
    assert exercise_of(rec) == ExerciseSet("hold", prescription={"holds": 2, "hold_s": [7.2, 8.8]})
    assert sim.truth["calibration_movement"]["prompt_s"] == [3.0, 13.0]
    truth = sim.truth["holds"]
    assert doc["summary"]["holds"] == doc["summary"]["prescribed_holds"] == len(truth) == 2
    bound = doc["uncertainty"]["measures"]["tut_s"] + 0.05  # the output's 0.1 s rounding
    for h, t in zip(doc["holds"], truth, strict=True):
        assert h["start_s"] == pytest.approx(asked + t["start_s"], abs=0.3)
        assert h["tut_s"] == pytest.approx(t["tut_s"], abs=bound)
    assert doc["summary"]["tut_s"] == pytest.approx(sum(t["tut_s"] for t in truth), abs=2 * bound)


def test_an_emulated_heel_tap_set_is_recorded_and_analysed_as_taps(tmp_path, capsys):
    rec, doc, sim, asked = _record_and_analyse(
        tmp_path, capsys, "taps", ["--leg", "right", "--seed", "8", "--exercise", "heel_taps",
                                   "--reps", "4", "--step-cm", "15", "--band", "--load-kg", "5"])
    assert exercise_of(rec) == ExerciseSet("heel_taps", band=True, load_kg=5.0,
                                           prescription={"reps": 4})
    truth = sim.truth
    assert truth["band"] and truth["load_kg"] == 5.0 and sim.recording.step_height_m == 0.15
    assert doc["summary"]["taps"] == doc["summary"]["prescribed_reps"] == truth["taps"] == 4
    for tap, t in zip(doc["taps"], truth["reps"], strict=True):
        assert tap["start_s"] == pytest.approx(asked + t["start_s"], abs=0.3)
    assert doc["summary"]["cadence_per_min"] == pytest.approx(truth["cadence_per_min"], abs=0.5)


def test_record_refuses_a_prescription_for_another_exercise(tmp_path, capsys):
    for args, message in ((["--reps", "3"], "--reps is for a hold or heel-tap set"),
                          (["--exercise", "heel_taps", "--hold-s", "8"], "--hold-s is for a hold")):
        rc = main(["record", *VIRTUAL, "--leg", "left", "--athlete", "a", "--pelvis", "x",
                   "--thigh", "x", "--out", str(tmp_path / "x.parquet"), *args])
        assert rc == 2 and message in capsys.readouterr().err
    assert not list(tmp_path.iterdir())
