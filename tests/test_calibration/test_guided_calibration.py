"""The guided calibration movement (issue 12): knee bends on both feet after the standing
window, simulated with ground truth, named in the recording's metadata, used by the
calibration for the thigh's flexion axis when present, and the reps' axis when absent or
not done.  The accuracy it buys is in tests/test_analysis/test_accuracy.py (guided_batch)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from analysis.pipeline import analyze
from calibration.calibrate import GUIDED_METHOD
from sensor_io.errors import InputError
from sensor_io.recording import (
    CALIBRATION_MOVEMENT_KEY,
    KNEE_BENDS,
    calibration_movement_window,
)
from sensor_io.recording_io import read_recording, write_recording
from simulator.single_test import SimConfig, simulate
from simulator.truth import truth_series


@pytest.fixture(scope="module")
def guided():
    return simulate(SimConfig(seed=5, sensors=("pelvis", "thigh"), calibration_movement=True))


def test_without_the_movement_the_simulation_is_unchanged():
    a = simulate(SimConfig(seed=5, sensors=("pelvis", "thigh")))
    b = simulate(SimConfig(seed=5, sensors=("pelvis", "thigh"), calibration_movement=False))
    assert CALIBRATION_MOVEMENT_KEY not in a.recording.extra
    assert np.array_equal(a.recording.streams["pelvis"].gyr, b.recording.streams["pelvis"].gyr)


def test_the_bends_flex_hip_and_knee_on_both_feet_before_the_first_rep(guided):
    truth = guided.truth["calibration_movement"]
    t0, t1 = truth["span_s"]
    p0, p1 = truth["prompt_s"]
    assert p0 <= t0 < t1 <= p1 < guided.truth["reps"][0]["start_s"]
    assert guided.recording.extra[CALIBRATION_MOVEMENT_KEY] == {"kind": KNEE_BENDS,
                                                               "window_s": [p0, p1]}
    kin = guided.kinematics
    series = truth_series(kin)
    inside = (kin.t > t0) & (kin.t < t1)
    flex = series["hip_flexion_deg"][inside] - series["hip_flexion_deg"][kin.t < t0 - 0.2].mean()
    assert 10.0 < flex.max() < 45.0  # a mini-squat: less than the step-down's ~50-70 deg
    # both feet down: the pelvis stays level (sway only), unlike a step-down's drop
    drop = series["pelvic_drop_deg"][inside]
    assert np.ptp(drop) < 2.0
    bends = np.diff((flex > 0.5 * flex.max()).astype(int))
    assert (bends == 1).sum() == truth["bends"]


def test_the_calibration_takes_the_thigh_axis_from_the_bends_and_counts_no_rep_in_them(guided):
    a = analyze(guided.recording, classify=False)
    thigh = a.calibration.sensors[f"thigh_{guided.recording.test_leg}"]
    assert thigh.method == GUIDED_METHOD and a.calibration.movement == "used"
    assert a.to_json()["calibration"]["movement"] == "used"
    p0, p1 = guided.truth["calibration_movement"]["prompt_s"]
    assert all(r.start_s > p1 for r in a.reps) and all(p["start_s"] > p1 for p in a.partial)
    assert len(a.reps) == len(guided.truth["reps"])


def test_the_thigh_axis_from_the_bends_is_truer_than_from_the_reps():
    """The balance tilt rides on a step-down's flexion, not on bends on both feet: over 12
    tests the thigh's flexion axis is nearer the true one (heading error, deg)."""
    def heading_error(sim, a) -> float:
        p = f"thigh_{sim.recording.test_leg}"
        true_z = np.array(sim.truth["sensors"][p]["R_seg_sensor"]).T[:, 2]
        R = a.calibration.sensors[p].R_sensor_seg
        y = R[:, 1]
        zt = true_z - (true_z @ y) * y
        zt /= np.linalg.norm(zt)
        return float(np.degrees(np.arctan2(np.cross(zt, R[:, 2]) @ y, zt @ R[:, 2])))

    errs = {True: [], False: []}
    for seed in range(40, 52):
        for movement in (True, False):
            sim = simulate(SimConfig(seed=seed, sensors=("pelvis", "thigh"), profile="poor",
                                     calibration_movement=movement))
            errs[movement].append(heading_error(sim, analyze(sim.recording, classify=False)))
    print(f"\nheading error with bends: mean {np.mean(errs[True]):+.2f}, abs "
          f"{np.mean(np.abs(errs[True])):.2f}; from reps: mean {np.mean(errs[False]):+.2f}, "
          f"abs {np.mean(np.abs(errs[False])):.2f} deg")
    assert abs(np.mean(errs[True])) < abs(np.mean(errs[False]))
    assert np.mean(np.abs(errs[True])) < np.mean(np.abs(errs[False]))


def test_bends_not_done_fall_back_to_the_reps_and_say_so(guided):
    rec = guided.recording
    t0 = guided.truth["calibration_movement"]["prompt_s"][0]
    # the metadata names a window in which nobody bent: the standing before the bends
    moved = replace(rec, extra=rec.extra | {CALIBRATION_MOVEMENT_KEY: {
        "kind": KNEE_BENDS, "window_s": [0.3, t0 - 0.1]}})
    a = analyze(moved, classify=False)
    thigh = a.calibration.sensors[f"thigh_{rec.test_leg}"]
    assert thigh.method == "gravity+flexion axis"
    assert a.calibration.movement.startswith(f"thigh_{rec.test_leg} did not bend in")
    assert any(w.startswith("calibration movement: ") for w in a.warnings())
    assert a.reps


def test_the_window_survives_a_file_round_trip(guided, tmp_path):
    path = tmp_path / "g.parquet"
    write_recording(guided.recording, path)
    assert calibration_movement_window(read_recording(path)) == tuple(
        guided.truth["calibration_movement"]["prompt_s"])


@pytest.mark.parametrize(("entry", "says"), [
    ({"kind": KNEE_BENDS, "window_s": [5.0]}, "expected"),
    ({"kind": KNEE_BENDS, "window_s": "soon"}, "expected"),
    ([1, 2], "expected"),
    ({"kind": "hip swings", "window_s": [1.0, 2.0]}, "unknown kind 'hip swings'"),
    ({"kind": KNEE_BENDS, "window_s": [4.0, 2.0]}, "not an increasing pair"),
    ({"kind": KNEE_BENDS, "window_s": [float("nan"), 2.0]}, "not an increasing pair"),
])
def test_a_malformed_entry_is_one_clear_error(guided, entry, says):
    rec = replace(guided.recording, extra={CALIBRATION_MOVEMENT_KEY: entry})
    with pytest.raises(InputError, match=says) as err:
        analyze(rec, classify=False)
    assert "\n" not in str(err.value)


def test_the_uncertainty_knows_the_guided_case_by_the_calibrations_own_name(guided):
    from analysis import uncertainty

    assert uncertainty.GUIDED_METHOD == GUIDED_METHOD
    a = analyze(guided.recording, classify=False)
    case = uncertainty.calibration_case(a.calibration)
    assert case.startswith("guided bends, ")
    # hip adduction is stated surer than from the reps' axis, and so is the knee, which
    # adds the hip's sideways shift measured by the pelvis sensor (analysis.hip_shift)
    reps_axis = uncertainty.MEASURE_UNCERTAINTY[case.replace("guided bends", "functional axis")]
    stated = uncertainty.measure_uncertainty(a.series.knee_source, a.calibration)
    assert stated["hip_adduction_deg"] < reps_axis["hip_adduction_deg"]
    assert stated["knee_medial_cm"] < reps_axis["knee_medial_cm (thigh+pelvis model)"]
