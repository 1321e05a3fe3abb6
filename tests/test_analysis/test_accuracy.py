"""Accuracy of the measures against the simulator's ground truth (issue 12 floors).

Held-out tests of the default whole-body physics (tests/conftest.py accuracy_batch).
The figures are printed (run with -s to see them) and asserted against the floors;
``make bench`` (bench_accuracy) prints the same table.  Floors a sensor set does not
reach are marked xfail with the reason (strict: the mark must go when they are met).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.evaluation import agreement, rep_errors, sensor_set_name

pytestmark = pytest.mark.slow

FLOOR_MAE = {"pelvic_drop_deg": 0.7, "hip_adduction_deg": 1.5, "hip_flexion_deg": 2.0,
             "hip_internal_rotation_deg": 2.0, "trunk_lean_deg": 1.5}
KNEE_FLOOR_CM = {"shank": 0.8, "model": 1.2}
TIME_MAE_S, TIME_BIAS_S = 0.05, 0.03
SLOPE = (0.9, 1.1)
SETS = ("pelvis+thigh", "pelvis+thigh+shank", "pelvis+thigh+trunk",
        "pelvis+thigh+shank+trunk+wrist")
# Without a shank the thigh's frame comes from its functional axis, which the leg's
# sideways tilt over the foot (balance, in step with depth) turns: hip adduction reads
# ~1 deg high and the knee model inherits it (docs/accuracy.md; bench_observability).
NO_HINGE = "no shank: the thigh's functional axis absorbs the balance tilt (docs/accuracy.md)"
KNOWN_MISSES = {
    ("pelvis+thigh", "hip_adduction_deg", "bias"): NO_HINGE,
    ("pelvis+thigh+trunk", "hip_adduction_deg", "bias"): NO_HINGE,
    ("pelvis+thigh+trunk", "knee_medial_cm", "bias"): NO_HINGE,
    ("pelvis+thigh+trunk", "knee_medial_cm", "slope"): NO_HINGE,
    ("pelvis+thigh+trunk", "pelvic_drop_deg", "bias"):
        "+0.355 deg on 16 tests against a 0.535 deg MAE (+0.19 against 0.29 before the "
        "simulated sacral soft tissue): a draw, 2.1 standard errors of a 16-test mean "
        "(-0.05 +- 0.04 deg on 100 development tests before it); each test's error is its "
        "pelvis frame's heading error (the skin normal's, sd 2.9 deg) times the pelvis's "
        "anterior tilt; the default world records no guided bends, which halve that "
        "heading error where they are done (docs/accuracy.md, bench_bias_mechanisms)",
}


@pytest.fixture(scope="module")
def errors(accuracy_batch):
    errs, counts = [], []
    for ev in accuracy_batch:
        e, c = rep_errors(ev.analysis.reps, ev.sim.truth["reps"],
                          sensor_set=sensor_set_name(ev.sim.recording.placements))
        errs.append(e)
        counts.append(c)
    errs = pd.concat(errs, ignore_index=True)
    c = pd.DataFrame(counts)
    errs.attrs["precision"] = c.n_matched.sum() / c.n_pred.sum()
    errs.attrs["recall"] = c.n_matched.sum() / c.n_truth.sum()
    return errs


@pytest.fixture(scope="module")
def table(errors):
    t = agreement(errors)
    with pd.option_context("display.width", 200, "display.max_rows", 100):
        print(f"\nAgreement per sensor set (rep precision {errors.attrs['precision']:.3f}, "
              f"recall {errors.attrs['recall']:.3f}):")
        print(t.round(3).to_string())
    return t.set_index(["sensor_set", "measure"])


def test_batch_spans_the_conditions(accuracy_batch):
    sims = [ev.sim for ev in accuracy_batch]
    assert len(sims) >= 60
    assert {s.recording.test_leg for s in sims} == {"left", "right"}
    assert {s.truth["profile"] for s in sims} == {"good", "medium", "poor"}
    assert {sensor_set_name(s.recording.placements) for s in sims} == set(SETS)
    rates = {round(m["rate_hz"]) for s in sims for m in s.recording.sensors_meta.values()}
    assert rates == {52, 100, 104, 200}
    assert any(s.truth["partial_reps"] for s in sims) and any(s.truth["fidgets_after_rep"] for s in sims)
    assert any(g for s in sims for v in s.truth["sensors"].values() for g in v["gaps_s"])
    physics = [s.truth["physics"] for s in sims]
    assert {p["valgus_timing"] for p in physics} == {"depth", "early", "late", "constant"}
    assert {p["standing_sway_share"] == 1.0 for p in physics} == {True, False}  # one/two feet


def test_no_valid_test_is_refused(accuracy_batch):
    assert all(ev.analysis.reps for ev in accuracy_batch)  # the fixture would have raised


def test_reps_found_with_precision_and_recall_of_99_percent(errors):
    assert errors.attrs["precision"] >= 0.99
    assert errors.attrs["recall"] >= 0.99


@pytest.mark.parametrize("col", ["start_s", "bottom_s", "end_s"])
def test_rep_times(errors, col):
    e = errors[f"{col}_err"]
    assert e.abs().mean() <= TIME_MAE_S and abs(e.mean()) <= TIME_BIAS_S, (e.abs().mean(), e.mean())


def _floor(sensor_set: str, measure: str) -> float:
    if measure == "knee_medial_cm":
        return KNEE_FLOOR_CM["shank" if "shank" in sensor_set else "model"]
    return FLOOR_MAE[measure]


def _cases(sets=SETS, misses=KNOWN_MISSES, prefix=""):
    """(sensor set, measure, mae|bias|slope) per floor; strict xfail where ``misses`` say."""
    for s in sets:
        for m in sorted(FLOOR_MAE) + ["knee_medial_cm"]:
            if m == "trunk_lean_deg" and "trunk" not in s:
                continue
            for what in ("mae", "bias", "slope"):
                reason = misses.get((s, m, what))
                marks = [pytest.mark.xfail(reason=reason, strict=True)] if reason else []
                yield pytest.param(s, m, what, marks=marks, id=f"{prefix}{s}-{m}-{what}")


@pytest.mark.parametrize(("sensor_set", "measure", "what"), list(_cases()))
def test_measure_floors(table, sensor_set, measure, what):
    row = table.loc[(sensor_set, measure)]
    assert row.n >= 20
    if what == "mae":
        assert row.mae <= _floor(sensor_set, measure), row
    elif what == "bias":
        assert abs(row.bias) <= 0.5 * row.mae, row
    else:
        assert SLOPE[0] <= row.slope <= SLOPE[1], row


def test_partial_reps_are_reported_apart(accuracy_batch):
    with_partial = [ev for ev in accuracy_batch if ev.sim.truth["partial_reps"]]
    assert with_partial
    found = sum(
        any(abs(s["start_s"] - p["start_s"]) < 0.3 for s in ev.analysis.partial
            for p in ev.sim.truth["partial_reps"])
        for ev in with_partial)
    assert found / len(with_partial) >= 0.9


def test_measures_are_null_only_where_no_sensor_gives_them(accuracy_batch):
    for ev in accuracy_batch[:8]:
        has_trunk = "trunk" in ev.sim.recording.placements
        for rep in ev.analysis.reps:
            assert (rep.measures.get("trunk_lean_deg") is None) == (not has_trunk)
            assert all(np.isfinite(rep.measures.get(k)) for k in
                       ("pelvic_drop_deg", "hip_flexion_deg", "knee_medial_cm"))


# With the guided calibration movement (knee bends on both feet, tests/conftest.py
# guided_batch) the thigh's axis holds no balance tilt: hip adduction meets its floors
# without a shank.  The knee then adds the hip's sideways shift over the foot, which the
# pelvis sensor's acceleration measures over each rep (analysis.hip_shift): the body
# model alone took the hip as fixed over the foot and read 0.62-0.81 of the truth.
# (Its hip flexion bias, +0.27 deg against a 0.51 deg MAE, a draw of 16 tests (+0.00 +-
# 0.07 deg on 60 development tests; bench_bias_mechanisms), is +0.13 against 0.52 since the
# simulated sacral sensor reads the real one's excess tilt and the analysis takes it out.)
GUIDED_MISSES: dict[tuple[str, str, str], str] = {}


def agreement_table(batch, title: str) -> pd.DataFrame:
    """MAE, bias and slope per sensor set and measure of an evaluated batch, printed under
    ``title``, indexed by (sensor_set, measure)."""
    errs = pd.concat([rep_errors(ev.analysis.reps, ev.sim.truth["reps"],
                                 sensor_set=sensor_set_name(ev.sim.recording.placements))[0]
                      for ev in batch], ignore_index=True)
    t = agreement(errs)
    with pd.option_context("display.width", 200, "display.max_rows", 100):
        print(f"\n{title}:")
        print(t.round(3).to_string())
    return t.set_index(["sensor_set", "measure"])


@pytest.fixture(scope="module")
def guided_table(guided_batch):
    return agreement_table(guided_batch, "With the guided calibration movement (no shank)")


def test_guided_batch_used_the_movement_everywhere(guided_batch):
    assert len(guided_batch) >= 32
    assert all(ev.analysis.calibration.movement == "used" for ev in guided_batch)


@pytest.mark.parametrize(("sensor_set", "measure", "what"), list(_cases(
    ("pelvis+thigh", "pelvis+thigh+trunk"), GUIDED_MISSES, "guided-")))
def test_measure_floors_with_the_guided_movement(guided_table, sensor_set, measure, what):
    test_measure_floors(guided_table, sensor_set, measure, what)


# The same in the shifted world (tests/conftest.py guided_shifted_batch: more sway, thighs
# 6 % longer and shanks 6 % shorter than the height ratios the analysis assumes, 60 Hz).
THIGH_FRAME = ("the thighs are 6 % longer than the height ratio the analysis assumes "
               "(docs/accuracy.md, bench_bias_mechanisms)")
GUIDED_SHIFTED_MISSES = {
    ("pelvis+thigh", "knee_medial_cm", "slope"):
        "0.854 (0.837 while the hip shift's lever turned with the sacral sensor, 0.82 with the "
        "skin normal's pelvis heading; on 60 development tests per set 0.98, and 0.83 with "
        "a trunk sensor, bench_knee_offsets: a 12-test slope is much the draw's): "
        "the hip's measured shift reads a large shift short "
        "(the pelvis's tilt during the rep, bench_knee_offsets) and " + THIGH_FRAME,
    ("pelvis+thigh", "pelvic_drop_deg", "bias"):
        "+0.11 deg against a 0.216 deg MAE (+0.42 against 0.57 while the pelvis frame's "
        "heading came from the skin normal alone; fused with the bends' its error sd is "
        "2.9 -> 1.6 deg): a draw, 1.4 standard errors of a 12-test mean (-0.02 +- 0.03 deg "
        "on 100 development tests; docs/accuracy.md, bench_bias_mechanisms)",
}


@pytest.fixture(scope="module")
def guided_shifted_table(guided_shifted_batch):
    return agreement_table(guided_shifted_batch,
                           "With the guided calibration movement (no shank), shifted world")


@pytest.mark.parametrize(("sensor_set", "measure", "what"), list(_cases(
    ("pelvis+thigh", "pelvis+thigh+trunk"), GUIDED_SHIFTED_MISSES, "guided-shifted-")))
def test_measure_floors_with_the_guided_movement_in_the_shifted_world(
        guided_shifted_table, sensor_set, measure, what):
    test_measure_floors(guided_shifted_table, sensor_set, measure, what)
