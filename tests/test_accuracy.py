"""Accuracy of the measures against the simulator's ground truth (issue 3 targets).

The figures are printed (run with -s to see them) and asserted against the
targets; targets are floors, not goals.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.evaluation import rep_errors, sensor_set_name, summarize

pytestmark = pytest.mark.slow

TARGET_MAE = {
    "pelvic_drop_deg": 1.0, "hip_adduction_deg": 2.0, "hip_flexion_deg": 3.0,
    "hip_internal_rotation_deg": 3.0, "trunk_lean_deg": 1.5,
}
TIME_MAE_S = 0.10


@pytest.fixture(scope="module")
def table(accuracy_batch):
    errs, counts = [], []
    for ev in accuracy_batch:
        e, c = rep_errors(ev.analysis.reps, ev.sim.truth["reps"],
                          sensor_set=sensor_set_name(ev.sim.recording.placements))
        errs.append(e)
        counts.append(c)
    summary = summarize(pd.concat(errs, ignore_index=True), counts)
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print("\nMAE per sensor set on", len(accuracy_batch), "simulated tests "
              f"(rep precision {summary.attrs['precision']:.3f}, recall {summary.attrs['recall']:.3f}):")
        print(summary.round(3).T)
    return summary


def test_batch_spans_the_conditions(accuracy_batch):
    sims = [ev.sim for ev in accuracy_batch]
    assert len(sims) >= 60
    assert {s.recording.test_leg for s in sims} == {"left", "right"}
    assert {s.truth["profile"] for s in sims} == {"good", "medium", "poor"}
    assert len({sensor_set_name(s.recording.placements) for s in sims}) == 4
    rates = {round(m["rate_hz"]) for s in sims for m in s.recording.sensors_meta.values()}
    assert rates == {52, 100, 104, 200}
    assert any(s.truth["partial_reps"] for s in sims) and any(s.truth["fidgets_after_rep"] for s in sims)
    assert any(g for s in sims for v in s.truth["sensors"].values() for g in v["gaps_s"])


def test_reps_found_with_precision_and_recall_of_99_percent(table):
    assert table.attrs["precision"] >= 0.99
    assert table.attrs["recall"] >= 0.99


@pytest.mark.parametrize("col", ["start_s", "bottom_s", "end_s"])
def test_rep_times_within_a_tenth_of_a_second(table, col):
    assert (table[col] <= TIME_MAE_S).all(), table[col]


@pytest.mark.parametrize("measure", sorted(TARGET_MAE))
def test_angle_measures_meet_their_targets(table, measure):
    values = table[measure].dropna()
    assert len(values) > 0
    assert (values <= TARGET_MAE[measure]).all(), values


def test_knee_displacement_with_and_without_a_shank_sensor(table):
    with_shank = table.loc[[i for i in table.index if "shank" in i], "knee_medial_cm"]
    model = table.loc[[i for i in table.index if "shank" not in i], "knee_medial_cm"]
    assert len(with_shank) and len(model)
    assert (with_shank <= 0.8).all(), with_shank
    assert (model <= 1.5).all(), model


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
            assert (rep["measures"]["trunk_lean_deg"] is None) == (not has_trunk)
            assert all(np.isfinite(rep["measures"][k]) for k in
                       ("pelvic_drop_deg", "hip_flexion_deg", "knee_medial_cm"))
