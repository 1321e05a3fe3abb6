"""benchmarks/bench_real_bends.py: the double-leg squats read as the guided knee bends on the
CMU-MBL SUB22 development trials (never the held-out step-downs).

The data tests need STEPDOWN_CMU_DATA naming a local clone of CMU-MBL/IMU_Exercise_Prediction
(no licence: read in place, never copied) and skip with the reason otherwise.
"""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks import bench_real_bends as bends
from benchmarks import cmu_real
from benchmarks.long_axis_heading import long_axis_heading_deg

ROOT = cmu_real.data_root()
needs_cmu = pytest.mark.skipif(ROOT is None, reason=f"{cmu_real.ENV} unset or not a clone of "
                                                    "CMU-MBL/IMU_Exercise_Prediction")


def test_the_benchmark_says_why_it_skips(monkeypatch, capsys):
    monkeypatch.delenv(cmu_real.ENV, raising=False)
    bends.run()
    assert "skipped: set STEPDOWN_CMU_DATA" in capsys.readouterr().out


def test_it_reads_development_trials_only():
    assert not set(cmu_real.HELD_OUT) & set(bends.DEVELOPMENT)
    assert not set(cmu_real.HELD_OUT) & set(bends.DOUBLE_LEG_TRIALS)


@needs_cmu
def test_a_squat_read_as_the_bends_gives_the_thigh_a_bends_frame_on_the_trials_long_axis():
    """The calibration takes the squat as the guided movement (its thigh's method says so)
    and, from the same Pose standing, the frame's long axis is the single-leg trial's: the two
    differ by a heading alone."""
    cal = bends.bends_calibration(ROOT, cmu_real.trial_dir(ROOT, "SqHalfDL"), "right")
    assert cal.movement == "used"
    thigh = cal.sensors["thigh_right"]
    assert thigh.method.startswith(bends.GUIDED_METHOD)
    run = cmu_real.run_trial(ROOT, "SqHalfSL", bends.SET)
    own = run.result.calibration.sensors["thigh_right"].R_sensor_seg
    np.testing.assert_allclose(thigh.R_sensor_seg[:, 1], own[:, 1], atol=1e-9)
    assert abs(long_axis_heading_deg(own, thigh.R_sensor_seg)) > 1.0  # a heading to compare


@needs_cmu
def test_reusing_a_trials_own_frames_unturned_gives_the_shipped_peaks():
    """The benchmark's re-analysis path (the calibration reused with the thigh turned) changes
    nothing but the heading: unturned, every rep's peaks are the shipped ones."""
    run = cmu_real.run_trial(ROOT, "SqHalfSL", bends.SET)
    own = run.result.calibration.sensors["thigh_right"].R_sensor_seg
    shipped, reused = bends.peak_pairs(run), bends.peak_pairs(bends.with_thigh_frame(ROOT, run, own))
    assert len(shipped) == 5
    np.testing.assert_allclose(reused.filter(like="_ours").to_numpy(float),
                               shipped.filter(like="_ours").to_numpy(float), atol=1e-9)
