"""Accuracy of the programme's exercise measures against the simulator's ground truth.

Holds: start, end, time under tension, thigh depth, pelvis sway, tremor and mean
pelvic drop per hold; heel taps: the test's per-rep measures plus depth and duration.
The figures are printed (run with -s) and held to the floors below: n, MAE, bias and
the slope of estimate on truth, per sensor set, as tests/test_analysis/test_accuracy.py does for the test.
"""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.evaluation import agreement, sensor_set_name
from analysis.exercises.evaluation import hold_errors, tap_errors
from analysis.exercises.heel_taps import analyze_heel_taps
from analysis.exercises.hold import analyze_hold
from sensor_io.exercise import exercise_of
from simulator.heel_taps import HeelTapConfig, simulate_heel_taps
from simulator.hold import HoldConfig, simulate_hold

pytestmark = pytest.mark.slow

HOLD_SEED, TAP_SEED = 3100, 3200  # seeds no development run used
SETS = (("pelvis", "thigh"), ("pelvis", "thigh", "shank"))
HOLD_FLOORS = {  # measure: (MAE, |bias|) in its unit
    "start_s": (0.25, 0.2), "end_s": (0.25, 0.2), "tut_s": (0.3, 0.25),
    "depth_deg": (1.0, 0.8), "pelvis_sway_deg": (0.1, 0.05), "tremor_dps": (0.5, 0.3),
    "pelvic_drop_deg": (0.5, 0.4),
}
HOLD_SLOPE = {"pelvis_sway_deg": (0.9, 1.1), "tremor_dps": (0.85, 1.15), "tut_s": (0.95, 1.05)}
TAP_FLOORS = {"depth_deg": (1.0, 0.8), "duration_s": (0.1, 0.08), "start_s": (0.1, 0.08)}
# Without a shank the thigh's frame comes from its functional axis, which the leg's sideways
# tilt over the foot turns (docs/accuracy.md): the tap depth reads ~1° deep (+0.87° on these
# seeds recorded with the guided bends, +0.99° without); with a shank (knee hinge) +/-0.3°.
TAP_FLOORS_NO_SHANK = {"depth_deg": (1.2, 1.1)}
TAP_SLOPE = {"depth_deg": (0.9, 1.1)}


def _print(name: str, table: pd.DataFrame) -> None:
    with pd.option_context("display.width", 200, "display.max_rows", 100):
        print(f"\n{name}\n{table.round(3).to_string(index=False)}")


@pytest.fixture(scope="module")
def hold_table() -> tuple[pd.DataFrame, pd.DataFrame]:
    errs, counts = [], []
    for k in range(8):
        sim = simulate_hold(HoldConfig(seed=HOLD_SEED + k, sensors=SETS[k % 2], holds=2,
                                       test_leg=("left", "right")[k // 4], hold_s=(10.0, 18.0)))
        res = analyze_hold(sim.recording, exercise_of(sim.recording))
        e, c = hold_errors(res.to_json()["holds"], sim.truth["holds"],
                           sensor_set=sensor_set_name(sim.recording.placements))
        errs.append(e)
        counts.append(c)
    errs = pd.concat(errs, ignore_index=True)
    return errs, pd.DataFrame(counts)


@pytest.fixture(scope="module")
def tap_table() -> tuple[pd.DataFrame, pd.DataFrame]:
    errs, counts = [], []
    for k in range(6):
        sim = simulate_heel_taps(HeelTapConfig(seed=TAP_SEED + k, sensors=SETS[k % 2], reps=8,
                                               profile=("good", "medium", "poor")[k % 3],
                                               test_leg=("left", "right")[k // 3]))
        res = analyze_heel_taps(sim.recording, exercise_of(sim.recording))
        e, c = tap_errors(res.to_json()["taps"], sim.truth["reps"],
                          sensor_set=sensor_set_name(sim.recording.placements))
        errs.append(e)
        counts.append(c)
    return pd.concat(errs, ignore_index=True), pd.DataFrame(counts)


def test_every_hold_found_and_none_invented(hold_table):
    _, counts = hold_table
    assert (counts.n_pred == counts.n_truth).all() and (counts.n_matched == counts.n_truth).all()


# The holds are recorded as `record` records a set, with the guided knee bends (the
# simulator's default): the pelvis heading from them meets the pelvic-drop floor, which the
# skin normal's alone missed with a shank (0.53 > 0.5; bench_hold_pelvic_drop, 64 development
# holds: MAE 0.40 -> 0.15 with the bends; docs/accuracy.md).
@pytest.mark.parametrize("measure", list(HOLD_FLOORS))
def test_hold_measure_accuracy(hold_table, measure):
    errs, _ = hold_table
    table = agreement(errs)
    _print(f"holds: {measure}", table[table.measure == measure])
    mae, bias = HOLD_FLOORS[measure]
    for _, row in table[table.measure == measure].iterrows():
        assert row.mae <= mae, f"{row.sensor_set} {measure} MAE {row.mae:.3f} > {mae}"
        assert abs(row.bias) <= bias, f"{row.sensor_set} {measure} bias {row.bias:+.3f}"
    if measure in HOLD_SLOPE:  # over every set: the ranges the seeds draw are narrow per set
        overall = agreement(errs.assign(all="all"), by="all")
        slope = float(overall[overall.measure == measure].slope.iloc[0])
        lo, hi = HOLD_SLOPE[measure]
        assert lo <= slope <= hi, f"{measure} slope {slope:.3f}"


def test_every_tap_found(tap_table):
    _, counts = tap_table
    assert counts.n_matched.sum() == counts.n_truth.sum() == counts.n_pred.sum()


@pytest.mark.parametrize("measure", list(TAP_FLOORS))
def test_tap_depth_and_tempo_accuracy(tap_table, measure):
    errs, _ = tap_table
    table = agreement(errs)
    _print(f"heel taps: {measure}", table[table.measure == measure])
    for _, row in table[table.measure == measure].iterrows():
        no_shank = row.sensor_set == "pelvis+thigh" and measure in TAP_FLOORS_NO_SHANK
        mae, bias = (TAP_FLOORS_NO_SHANK if no_shank else TAP_FLOORS)[measure]
        assert row.mae <= mae, f"{row.sensor_set} {measure} MAE {row.mae:.3f} > {mae}"
        assert abs(row.bias) <= bias, f"{row.sensor_set} {measure} bias {row.bias:+.3f}"
        if measure in TAP_SLOPE:
            lo, hi = TAP_SLOPE[measure]
            assert lo <= row.slope <= hi, f"{row.sensor_set} {measure} slope {row.slope:.3f}"


def test_tap_control_measures_as_accurate_as_the_tests(tap_table):
    """The knee and pelvis measures per tap come from the test's code: held to the test's
    floors (tests/test_analysis/test_accuracy.py: pelvic drop 0.7°, knee 0.8 cm with a shank, 1.2 cm
    from the thigh+pelvis model)."""
    errs, _ = tap_table
    table = agreement(errs)
    _print("heel taps: control", table[table.measure.isin(["knee_medial_cm", "pelvic_drop_deg"])])
    floors = {("pelvic_drop_deg", "pelvis+thigh"): 0.7, ("pelvic_drop_deg", "pelvis+thigh+shank"): 0.7,
              ("knee_medial_cm", "pelvis+thigh"): 1.2, ("knee_medial_cm", "pelvis+thigh+shank"): 0.8}
    for (measure, sensors), floor in floors.items():
        row = table[(table.measure == measure) & (table.sensor_set == sensors)].iloc[0]
        assert row.mae <= floor, f"{sensors} {measure} MAE {row.mae:.3f} > {floor}"


def _coverage(errs: pd.DataFrame, bounds: dict[str, float]) -> dict[str, float]:
    return {m: float((errs[f"{m}_err"].abs() <= b).mean()) for m, b in bounds.items()}


def test_stated_hold_uncertainty_holds_on_held_out_holds(hold_table):
    """The 90 % bounds (derived on other seeds by bench_programme) hold about 90 % of the
    truth here: at least 13 of these 16 holds (binomial 5th percentile at n=16, p=0.9)."""
    from analysis.exercises.hold import HOLD_UNCERTAINTY

    errs, _ = hold_table
    cover = _coverage(errs, HOLD_UNCERTAINTY)
    print(f"\nhold coverage of the stated 90 % bounds: {cover}")
    assert all(c >= 13 / 16 for c in cover.values()), cover


def test_stated_tap_uncertainty_holds_on_held_out_taps(tap_table):
    from analysis.exercises.heel_taps import TAP_UNCERTAINTY

    errs, _ = tap_table
    cover = _coverage(errs, TAP_UNCERTAINTY)
    print(f"\ntap coverage of the stated 90 % bounds: {cover}")
    assert all(c >= 0.82 for c in cover.values()), cover  # 48 taps: binomial 5th pct ~0.83
