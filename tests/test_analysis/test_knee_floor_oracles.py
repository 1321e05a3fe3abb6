"""The oracles of bench_knee_floor: the thigh's heading set to the simulated mounting's
(plus a chosen error) leaves the rest of its frame as calibrated, and the true hip term
reaches the knee; the shipped analysis is restored after each."""

from __future__ import annotations

import numpy as np
import pytest

from analysis import measures, pipeline
from benchmarks.bench_knee_floor import analysed, with_thigh_heading
from benchmarks.bench_knee_offsets import axis_heading_deg
from simulator.single_test import SimConfig, simulate


@pytest.fixture(scope="module")
def sim():
    # the first seed of development batch 910 (bench_knee_offsets), no accuracy batch's;
    # its bends' heading error is 1.0 deg
    return simulate(SimConfig(seed=91_000_000, test_leg="right", calibration_movement=True))


@pytest.mark.parametrize("error_deg", [0.0, 0.75, -1.3])
def test_the_thigh_heading_oracle_leaves_the_error_asked_for_and_the_long_axis(sim, error_deg):
    cal = analysed(sim).calibration
    placement = "thigh_right"
    assert abs(axis_heading_deg(sim, cal)) > 0.5  # there is an error to take out
    oracle = with_thigh_heading(cal, sim, error_deg)
    assert axis_heading_deg(sim, oracle) == pytest.approx(error_deg, abs=0.01)
    found, turned = cal.sensors[placement].R_sensor_seg, oracle.sensors[placement].R_sensor_seg
    np.testing.assert_allclose(turned[:, 1], found[:, 1], atol=1e-12)  # the long axis stays
    assert oracle.sensors["pelvis"] is cal.sensors["pelvis"]
    assert analysed(sim, error_deg).calibration.sensors[placement].R_sensor_seg == \
        pytest.approx(turned)


def test_the_true_hip_term_changes_the_knee_and_the_shipped_analysis_is_restored(sim):
    calibrated, shift = pipeline._calibrated, measures.hip_medial_shift_m
    shipped = [r.measures.knee_medial_cm for r in analysed(sim).reps]
    oracle = [r.measures.knee_medial_cm for r in analysed(sim, 0.0, true_hip=True).reps]
    assert (pipeline._calibrated, measures.hip_medial_shift_m) == (calibrated, shift)
    assert len(oracle) == len(shipped) and oracle != shipped
    assert [r.measures.knee_medial_cm for r in analysed(sim).reps] == shipped
