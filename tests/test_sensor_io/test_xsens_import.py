"""Xsens CSV exports cut into per-rep files, a separate standing file, pieces never bridged.

The files are written here in the export layout (three header rows; Time, Orientation,
Accelerometer, Gyroscope, Magnetometer per sensor) from a simulated test with known
truth, cut the way other tools cut a trial: a standing file and one file per rep with
the time between reps missing.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from analysis.orientation import estimate_orientation, piecewise_orientation
from analysis.pipeline import analyze
from sensor_io.errors import InputError
from sensor_io.recording import Recording, SensorStream
from sensor_io.xsens_csv import parse_placement_map, read_xsens
from simulator.single_test import SimConfig, simulate
from stepdown.cli import main

NAMES = {"pelvis": "Pelvis", "thigh_left": "LeftThigh"}
PLACEMENT = "Pelvis=pelvis,LeftThigh=thigh_left"


def write_xsens(path: Path, rec: Recording, t0: float, t1: float,
                quats: dict[str, np.ndarray] | None = None) -> None:
    """rec's samples with t0 <= t < t1 as one export file (device orientation if quats)."""
    names, qty, comp, cols = [""], [""], [""], []
    for p, s in rec.streams.items():
        m = (s.t >= t0) & (s.t < t1)
        blocks = [("Time", ["S"], s.t[m][:, None])]
        if quats is not None:
            blocks.append(("Orientation", ["S", "X", "Y", "Z"], quats[p][m]))
        blocks += [("Accelerometer", list("XYZ"), s.acc[m]), ("Gyroscope", list("XYZ"), s.gyr[m])]
        for q, c, v in blocks:
            names += [NAMES[p]] * len(c)
            qty += [q] * len(c)
            comp += c
            cols.append(v)
    n = min(len(c) for c in cols)
    data = np.hstack([c[:n] for c in cols])
    lines = [",".join(names), ",".join(qty), ",".join(comp)]
    lines += [f"{i}," + ",".join(f"{v:.7f}" for v in row) for i, row in enumerate(data)]
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="module")
def sim():
    return simulate(SimConfig(seed=5, sensors=("pelvis", "thigh"), ideal_sensors=True))


def _device_quats(rec: Recording) -> dict[str, np.ndarray]:
    """A device's own continuous orientation output (vqf over the whole, uncut trial)."""
    return {p: estimate_orientation(s.gyr, s.acc, s.rate_hz).quat for p, s in rec.streams.items()}


def _export(tmp: Path, sim, quats: dict[str, np.ndarray] | None) -> tuple[Path, Path]:
    rec = sim.recording
    reps, folder = tmp / "reps", tmp / "reps"
    folder.mkdir()
    for r in sim.truth["reps"]:
        write_xsens(folder / f"trial_rep{r['index']}.csv", rec, r["start_s"], r["end_s"], quats)
    standing = tmp / "standing.csv"
    write_xsens(standing, rec, sim.truth["standing_s"][0] + 0.2, sim.truth["standing_s"][1] - 0.2,
                quats)
    return reps, standing


def _analyze(capsys, *argv: str) -> tuple[int, str, str]:
    rc = main(["analyze", *argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return rc, out, err


ALIGNED_TOL = {"hip_adduction_deg": 4.0, "hip_flexion_deg": 3.0, "pelvic_drop_deg": 3.0}
"""deg. In a rep file the thigh's heading is aligned so that the hip's rotation, where the
hip is least flexed, is its standing one (analysis.recording_pieces.align_leg_headings): a rep in
which this simulated hip turns inward (rep 3: 7° at its deepest) loses 3.4° of adduction."""


def test_per_rep_files_with_device_orientation_measure_every_rep(tmp_path, sim, capsys):
    reps, standing = _export(tmp_path, sim, _device_quats(sim.recording))
    rc, out, _ = _analyze(capsys, str(reps), "--placement", PLACEMENT, "--test-leg", "left",
                          "--standing", str(standing), "--json")
    assert rc == 0
    doc = json.loads(out)
    assert any("separate standing recording" in w for w in doc["warnings"])
    truth = sim.truth["reps"]
    assert len(doc["reps"]) == len(truth)
    for rep, tr in zip(doc["reps"], truth, strict=True):
        assert tr["start_s"] - 0.05 <= rep["bottom_s"] <= tr["end_s"] + 0.05
        for k in ("hip_adduction_deg", "hip_flexion_deg", "pelvic_drop_deg"):
            assert rep["measures"][k] == pytest.approx(tr["measures"][k], abs=ALIGNED_TOL[k]), k
        # the thigh's heading in a rep file is aligned to the pelvis's: hip rotation is assumed
        assert set(rep.get("not_measured", {})) == {"hip_internal_rotation_deg"}


def test_per_rep_files_without_heading_say_not_measured(tmp_path, sim, capsys):
    """6D pieces started afresh within a rep have no heading: the measures that need the
    way the athlete faced are "not measured" with the reason, never a bridged number, and
    their items unassessed; hip flexion and adduction (thigh relative to pelvis, the
    thigh's heading aligned to the pelvis's) and pelvic drop (no heading) are measured."""
    reps, standing = _export(tmp_path, sim, None)
    rc, out, _ = _analyze(capsys, str(reps), "--placement", PLACEMENT, "--test-leg", "left",
                          "--standing", str(standing), "--json")
    assert rc == 0
    doc = json.loads(out)
    assert len(doc["reps"]) == len(sim.truth["reps"])
    for rep, tr in zip(doc["reps"], sim.truth["reps"], strict=True):
        for k in ("hip_adduction_deg", "hip_flexion_deg", "pelvic_drop_deg"):
            assert rep["measures"][k] == pytest.approx(tr["measures"][k], abs=ALIGNED_TOL[k]), k
        assert rep["measures"]["hip_internal_rotation_deg"] is None
        assert "aligned to the pelvis" in rep["not_measured"]["hip_internal_rotation_deg"]
        # the knee's medial displacement needs the facing direction: guessed, not measured;
        # neither a rule nor the classifier scores its item
        assert "started after a gap" in rep["not_measured"]["knee_medial_cm"]
        assert rep["measures"]["knee_medial_cm"] is None and rep["sources"]["knee"] == "not_assessed"


def test_orientation_is_never_bridged_across_a_long_gap():
    """A sensor turned 90° about the vertical while silent for 2 s: bridged, the filter
    would smear the turn over the gap; each piece started afresh keeps its own inclination."""
    rate = 100.0
    t = np.concatenate([np.arange(0, 2, 1 / rate), np.arange(4, 6, 1 / rate)])
    acc = np.tile([0.0, 0.0, 9.81], (len(t), 1))
    acc[t >= 4] = [0.0, 9.81 * np.sin(0.5), 9.81 * np.cos(0.5)]  # tilted while unseen
    gyr = np.zeros((len(t), 3))
    o = piecewise_orientation(t, gyr, acc)
    assert o.spans == [(0.0, pytest.approx(1.99)), (4.0, pytest.approx(5.99))]
    up = o.quat[o.t_u >= 4][:, 1:]  # the second piece's tilt from its first sample on
    tilt = np.degrees(2 * np.arcsin(np.linalg.norm(up, axis=1)))
    assert np.all(np.abs(tilt - np.degrees(0.5)) < 1.0)


@pytest.mark.parametrize(("setup", "message"), [
    ("layout", "this is not one"),
    ("sensor", "no sensor named Hip"),
    ("short", "too short to start an orientation"),
    ("standing_sensors", "no sensor named LeftThigh in the file"),
    ("no_placement", "--placement"),
    ("standing_missing", "standing.cvs: no such file or folder"),
    ("folder_missing", "reps2: no such file or folder"),
    ("truncated", "cells, the header has"),  # cut mid-row: was "a value is not a number"
    ("text", "line 5: 'n/a' is not a number"),
    # a cell of spaces: a missing value (was a StopIteration traceback, the parse and the
    # search for the bad cell disagreeing on it)
    ("blank", "Accelerometer has a missing or non-finite value"),
    # one rep file in another unit among files in SI: the joined recording's median |a|
    # stayed near 9.8, so it was accepted (audit)
    ("acc_in_g", "trial_rep2.csv, sensor LeftThigh: median |a| = 1, looks like g"),
    ("gyr_in_deg", "trial_rep2.csv, sensor LeftThigh: 99% of |ω| per axis"),
    # a slow rep's °/s stays within a gyroscope's range in rad/s: no per-file test tells it,
    # the joined recording's check refuses it without naming the file
    ("gyr_in_deg_slow", "reps, sensor pelvis: 99% of |ω| stay below"),
])
def test_bad_input_is_one_line_and_non_zero(tmp_path, sim, capsys, setup, message):
    rec = sim.recording
    reps, standing = _export(tmp_path, sim, None)
    placement = PLACEMENT
    args: list[str] = []
    if setup == "layout":
        bad = tmp_path / "bad.csv"
        bad.write_text(",Pelvis\n,Time\n,X\n0,1.0\n")
        reps, args = bad, ["--placement", placement, "--test-leg", "left"]
    elif setup == "sensor":
        args = ["--placement", "Hip=pelvis,LeftThigh=thigh_left", "--test-leg", "left"]
    elif setup == "short":
        r = sim.truth["reps"][0]
        write_xsens(reps / "trial_rep1.csv", rec, r["start_s"], r["start_s"] + 0.3)
        args = ["--placement", placement, "--test-leg", "left", "--standing", str(standing)]
    elif setup == "standing_sensors":
        only = Recording({"pelvis": rec.streams["pelvis"]}, test_leg="left")
        write_xsens(standing, only, 0.2, 1.8)
        args = ["--placement", placement, "--test-leg", "left", "--standing", str(standing)]
    elif setup == "standing_missing":
        args = ["--placement", placement, "--test-leg", "left", "--standing",
                str(standing.with_suffix(".cvs"))]
    elif setup in ("truncated", "text", "blank"):
        f = reps / "trial_rep2.csv"
        text = f.read_text()
        if setup == "truncated":
            f.write_text(text[: len(text) // 2])
        else:
            lines = text.splitlines()
            cells = lines[4].split(",")
            lines[4] = ",".join([*cells[:2], "n/a" if setup == "text" else " ", *cells[3:]])
            f.write_text("\n".join(lines) + "\n")
        args = ["--placement", placement, "--test-leg", "left"]
    elif setup == "folder_missing":
        reps, args = reps.with_name("reps2"), ["--placement", placement, "--test-leg", "left"]
    elif setup in ("acc_in_g", "gyr_in_deg", "gyr_in_deg_slow"):
        p = "pelvis" if setup == "gyr_in_deg_slow" else "thigh_left"
        s = rec.streams[p]
        wrong = SensorStream(s.t, s.acc / 9.80665, s.gyr) if setup == "acc_in_g" else (
            SensorStream(s.t, s.acc, np.degrees(s.gyr)))
        r = sim.truth["reps"][1]
        write_xsens(reps / "trial_rep2.csv", Recording({**rec.streams, p: wrong}, test_leg="left"),
                    r["start_s"], r["end_s"])
        args = ["--placement", placement, "--test-leg", "left", "--standing", str(standing)]
    rc, out, err = _analyze(capsys, str(reps), *args)
    assert rc != 0
    lines = [ln for ln in (out + err).splitlines() if ln.strip()]
    assert len(lines) == 1 and message in lines[0], lines


def test_standing_from_other_sensors_is_refused(sim):
    rec = sim.recording
    only = Recording({"pelvis": rec.streams["pelvis"]}, test_leg="left")
    with pytest.raises(InputError, match="recorded with the same sensors"):
        analyze(rec, standing=only)


def test_placement_map_is_checked():
    assert parse_placement_map("Pelvis=pelvis, RightThigh=thigh_right") == {
        "Pelvis": "pelvis", "RightThigh": "thigh_right"}
    for bad in ("Pelvis", "Pelvis=hip", "A=pelvis,B=pelvis", ""):
        with pytest.raises(InputError):
            parse_placement_map(bad)


def test_files_are_joined_in_time_order_not_name_order(tmp_path, sim):
    rec = sim.recording
    write_xsens(tmp_path / "t_rep10.csv", rec, 1.0, 2.0)   # earlier in time, later by name
    write_xsens(tmp_path / "t_rep2.csv", rec, 5.0, 6.0)
    out = read_xsens(tmp_path, parse_placement_map(PLACEMENT), "left")
    t = out.streams["pelvis"].t
    assert np.all(np.diff(t) > 0) and t[0] < 1.05 and t[-1] > 5.9


def test_classifier_items_are_dropped_where_the_measure_is_not_measured():
    from analysis.pipeline import _not_for_unmeasured
    from analysis.result import MeasuredRep, RepMeasures

    why = {"pelvic_drop_deg": "outside what a step-down can produce"}
    reps = [MeasuredRep(1, 1.0, 1.5, 2.5, RepMeasures.from_json({"pelvic_drop_deg": None}), why),
            MeasuredRep(2, 3.0, 3.5, 4.5, RepMeasures.from_json({"pelvic_drop_deg": 4.0}))]
    out = _not_for_unmeasured([{"pelvis": 1, "knee": 1}, {"pelvis": 1}], reps)
    assert out == [{"pelvis": None, "knee": 1}, {"pelvis": 1}]


SHARED = Path(os.environ.get("STEPDOWN_SHARED_DATA",
                             Path(__file__).resolve().parents[3] / "shared" / "data"))
WALK = SHARED / "skinematics_walking"


def write_mt_export(path: Path, s, rate_hz: float) -> None:
    """One sensor as MT Manager writes it: comment lines, a tab-separated header, samples."""
    lines = ["// Start Time: 0", f"// Sample rate: {rate_hz:.1f}Hz", "// Scenario: 5.9",
             "Counter\tAcc_X\tAcc_Y\tAcc_Z\tGyr_X\tGyr_Y\tGyr_Z\t"]
    start = 65530  # the 16-bit packet counter wraps during the file
    for i, (a, g) in enumerate(zip(s.acc, s.gyr, strict=True)):
        lines.append(f"{(start + i) % 65536}\t" + "\t".join(f"{v:.6f}" for v in (*a, *g)) + "\t")
    path.write_text("\n".join(lines) + "\n")


def test_mt_manager_exports_one_file_per_sensor(tmp_path, sim, capsys):
    rec = sim.recording
    for p, name in NAMES.items():
        s = rec.streams[p]
        write_mt_export(tmp_path / f"{name}.txt", s, 100.0)
    (tmp_path / "LICENSE").write_text("not an export\n")
    rc, out, _ = _analyze(capsys, str(tmp_path), "--placement", PLACEMENT, "--test-leg", "left",
                          "--json")
    assert rc == 0
    doc = json.loads(out)
    assert len(doc["reps"]) == len(sim.truth["reps"])
    for rep, tr in zip(doc["reps"], sim.truth["reps"], strict=True):
        assert rep["measures"]["pelvic_drop_deg"] == pytest.approx(tr["measures"]["pelvic_drop_deg"],
                                                                   abs=1.5)


def _cell(text: str, line: int, column: int, value: str) -> str:
    """``text`` with the tab-separated cell at 0-based ``line``, ``column`` set to ``value``."""
    lines = text.splitlines()
    cells = lines[line].split("\t")
    cells[column] = value
    lines[line] = "\t".join(cells)
    return "\n".join(lines) + "\n"


def _cut(text: str, line: int, cells: int) -> str:
    """``text`` with the tab-separated 0-based ``line`` cut to its first ``cells`` cells."""
    lines = text.splitlines()
    lines[line] = "\t".join(lines[line].split("\t")[:cells])
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("damage, message", [
    (lambda text: text[: len(text) // 2], "cells, the header names 7 (truncated or corrupt file?)"),
    # the first sample cut short: it is named (the others were blamed for differing from it)
    (lambda text: _cut(text, 4, 4), "sample 1 has 4 cells, the header names 7"),
    # every sample short of the header's columns: was an IndexError traceback
    (lambda text: "\n".join(ln if i < 4 else "\t".join(ln.split("\t")[:5])
                            for i, ln in enumerate(text.splitlines())) + "\n",
     "sample 1 has 5 cells, the header names 7"),
    (lambda text: text.replace("Sample rate: ", "Sample rate: about ", 1),
     "'// Sample rate: about 100.0Hz' gives no rate in Hz"),  # was a ValueError traceback
    (lambda text: _cell(text, 5, 1, "n/a"), "sample 2: 'n/a' is not a number"),
])
def test_a_damaged_mt_manager_export_is_one_line(tmp_path, sim, capsys, damage, message):
    for p, name in NAMES.items():
        write_mt_export(tmp_path / f"{name}.txt", sim.recording.streams[p], 100.0)
    f = tmp_path / f"{NAMES['pelvis']}.txt"
    f.write_text(damage(f.read_text()))
    rc, out, err = _analyze(capsys, str(tmp_path), "--placement", PLACEMENT, "--test-leg", "left")
    assert rc == 2 and message in err and len(err.strip().splitlines()) == 1, err


@pytest.mark.skipif(not WALK.is_dir(), reason=f"skinematics walking data not found at {WALK}")
def test_a_real_mt_manager_export_reads_in_si_units_and_is_checked(capsys):
    from sensor_io.xsens_csv import read_mt_export

    placement = "walking_xsens_upperLeg=thigh_right,walking_xsens_lowerLeg=shank_right"
    rec = read_mt_export(WALK, parse_placement_map(placement), "right")
    thigh = rec.streams["thigh_right"]
    assert thigh.rate_hz == pytest.approx(120.0) and len(thigh.t) == 3511
    assert np.linalg.norm(thigh.acc[:100], axis=1).mean() == pytest.approx(9.81, abs=0.2)
    # the real file has no pelvis sensor: one line naming the minimum set, no traceback
    rc, out, err = _analyze(capsys, str(WALK), "--placement", placement, "--test-leg", "right")
    assert rc != 0 and "the pelvis sensor is missing" in err


def test_a_sessions_calibration_is_reused_across_its_sets(sim):
    from analysis.pipeline import session_calibration

    rec = sim.recording
    session = session_calibration(rec)
    again = analyze(rec, session=session).to_json()
    own = analyze(rec).to_json()
    # the same straps: the reused frames give this set's own numbers
    for a, b in zip(again["reps"], own["reps"], strict=True):
        assert a["measures"]["hip_adduction_deg"] == pytest.approx(
            b["measures"]["hip_adduction_deg"], abs=0.05)
    assert "reused from the session" in again["calibration"]["sensors"]["thigh_left"]["method"]
    # a set that only holds still has no flexion axis of its own: refused alone, measured with
    # the session's calibration
    still = Recording({p: s.slice_time(0.0, sim.truth["standing_s"][1])
                       for p, s in rec.streams.items()}, test_leg="left")
    with pytest.raises(InputError, match="flexion axis"):
        analyze(still)
    assert analyze(still, session=session).to_json()["reps"] == []
    only_pelvis = Recording({"pelvis": rec.streams["pelvis"]}, test_leg="left")
    with pytest.raises(InputError, match="same sensors"):
        from analysis.pipeline import reuse_calibration
        from calibration import gyro_biases

        reuse_calibration(session, only_pelvis, session.window,
                          gyro_biases(only_pelvis, session.window))
