"""The real-data benchmark on the CMU-MBL SUB22 development trials (benchmarks/cmu_real.py).

Needs STEPDOWN_CMU_DATA naming a local clone of CMU-MBL/IMU_Exercise_Prediction (no
licence: read in place, never copied); skips with the reason otherwise. The held-out
step-downs are never touched here.
"""

from __future__ import annotations

import numpy as np
import pytest

from analysis.recording_pieces import PLAUSIBLE
from benchmarks import bench_real, cmu_real

ROOT = cmu_real.data_root()
needs_cmu = pytest.mark.skipif(ROOT is None, reason=f"{cmu_real.ENV} unset or not a clone of "
                                                    "CMU-MBL/IMU_Exercise_Prediction")
SQUATS = cmu_real.TERM_TRIALS


def test_step_downs_are_held_out_by_default():
    assert not set(cmu_real.HELD_OUT) & set(cmu_real.DEVELOPMENT)
    assert not set(cmu_real.HELD_OUT) & set(cmu_real.TERM_TRIALS)


def test_benchmark_says_why_it_skips(monkeypatch, capsys):
    monkeypatch.delenv(cmu_real.ENV, raising=False)
    bench_real.run()
    assert "skipped: set STEPDOWN_CMU_DATA" in capsys.readouterr().out


@pytest.fixture(scope="module")
def squat_rows():
    return [r for t in SQUATS for r in cmu_real.analyse_trial(ROOT, t, "pelvis+thigh")]


@needs_cmu
def test_every_rep_file_of_the_squats_is_found_inside_its_file(squat_rows):
    assert len(squat_rows) == 18
    assert all(r.found for r in squat_rows)
    # the rep found lies inside the rep file: its start and end within 0.3 s of the file's
    assert max(abs(r.start_err_s) for r in squat_rows) < 0.3
    assert max(abs(r.end_err_s) for r in squat_rows) < 0.3


@needs_cmu
def test_pelvic_drop_follows_the_lab_reference_on_the_squats(squat_rows):
    ours = np.array([r.ours["pelvic_drop_deg"] for r in squat_rows], float)
    ref = np.array([r.ref["pelvic_drop_deg"] for r in squat_rows], float)
    a = cmu_real.agreement(ours, ref)
    # measured on these 18 reps: MAE 1.2°, r 0.93, slope 0.9 (make bench -> real)
    assert a["n"] == 18 and a["mae"] < 2.0 and a["r"] > 0.6


@needs_cmu
def test_no_rep_reports_a_number_it_cannot_have(squat_rows):
    for r in squat_rows:
        for k, v in r.ours.items():
            if v is not None and k in PLAUSIBLE:
                lo, hi = PLAUSIBLE[k]
                assert lo <= v <= hi, (r.trial, r.file, k, v)


@needs_cmu
def test_the_shipped_model_to_reality_term_is_what_the_data_give(squat_rows):
    from analysis.validation import MODEL_TO_REALITY

    errors = cmu_real.peak_errors(squat_rows)
    simulated = cmu_real.simulated_uncertainty([r for r in squat_rows
                                                if r.sensor_set == "pelvis+thigh"])
    for k, shipped in MODEL_TO_REALITY.items():
        e = np.abs(errors[errors.measure == k].error.to_numpy())
        assert cmu_real.reality_term(e, simulated[k]) == pytest.approx(shipped, abs=0.1)
