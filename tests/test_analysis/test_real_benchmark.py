"""The real-data benchmark on the CMU-MBL SUB22 development trials (benchmarks/cmu_real.py).

Needs STEPDOWN_CMU_DATA naming a local clone of CMU-MBL/IMU_Exercise_Prediction (no
licence: read in place, never copied); skips with the reason otherwise. The held-out
step-downs are never touched here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.recording_pieces import PLAUSIBLE
from benchmarks import bench_real, cmu_real

ROOT = cmu_real.data_root()
needs_cmu = pytest.mark.skipif(ROOT is None, reason=f"{cmu_real.ENV} unset or not a clone of "
                                                    "CMU-MBL/IMU_Exercise_Prediction")
SQUATS = ("SqSL", "SqHalfSL", "BulgSq", "DeclineSq")
FULL_SET = cmu_real.FULL_SET


def test_step_downs_are_held_out_by_default():
    assert not set(cmu_real.HELD_OUT) & set(cmu_real.DEVELOPMENT)
    assert not set(cmu_real.HELD_OUT) & set(cmu_real.TERM_TRIALS)


def test_benchmark_says_why_it_skips(monkeypatch, capsys):
    monkeypatch.delenv(cmu_real.ENV, raising=False)
    bench_real.run()
    assert "skipped: set STEPDOWN_CMU_DATA" in capsys.readouterr().out


def test_a_smoothed_euler_wrap_in_the_reference_is_taken_out():
    """The reference's Pelvis Z sweeps 185 -> -185° within 0.1 s where it wraps (filtered
    across the wrap): the repair gives a heading that stays near 180°, and leaves a fast but
    real turn (a 90° turn in 0.1 s) alone."""
    t = np.arange(200) * 0.01
    true = 175.0 + 10.0 * np.sin(t)                        # a slowly turning heading near 180°
    wrapped = (true + 180.0) % 360.0 - 180.0               # Euler angles in (-180, 180]
    kernel = np.ones(9) / 9                                # the reference's smoothing
    smooth = np.convolve(np.pad(wrapped, 4, mode="edge"), kernel, mode="valid")
    turn = np.clip((t - 1.0) / 0.1, 0.0, 1.0) * 90.0      # 900°/s: fast, but movement
    table = pd.DataFrame({"Pelvis Z": smooth, "RightHip Z": turn})
    fixed = cmu_real.repair_wraps(table)
    assert np.ptp(smooth) > 300                            # the glitch is there
    err = np.abs(fixed["Pelvis Z"] - true)
    assert np.max(np.minimum(err, 360 - err)) < 1.0        # and gone (measured 0.1°)
    np.testing.assert_array_equal(fixed["RightHip Z"], turn)


@pytest.fixture(scope="module")
def term_runs():
    """Every trial the model-to-reality term rests on, analysed with both sensor sets."""
    return {(t, s): cmu_real.run_trial(ROOT, t, s) for t in cmu_real.TERM_TRIALS
            for s in ("pelvis+thigh", FULL_SET)}


@pytest.fixture(scope="module")
def squat_rows(term_runs):
    return [r for t in SQUATS for r in cmu_real.rep_rows(term_runs[t, "pelvis+thigh"])]


@pytest.fixture(scope="module")
def term_rows(term_runs):
    return [r for (_, s), run in term_runs.items() if s == "pelvis+thigh"
            for r in cmu_real.rep_rows(run)]


@pytest.fixture(scope="module")
def full_set_rows(term_runs):
    return [r for (_, s), run in term_runs.items() if s == FULL_SET for r in cmu_real.rep_rows(run)]


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
@pytest.mark.parametrize("rows_of", ["term_rows", "full_set_rows"])
def test_the_shipped_model_to_reality_term_is_what_the_data_give(rows_of, request):
    from analysis.validation import MODEL_TO_REALITY

    rows = request.getfixturevalue(rows_of)
    sensor_set = rows[0].sensor_set
    errors = cmu_real.peak_errors(rows, sensor_set)
    simulated = cmu_real.simulated_uncertainty(rows)
    assert set(errors.trial) == set(cmu_real.TERM_TRIALS)
    shipped = MODEL_TO_REALITY[cmu_real.LEG_FRAMES[sensor_set]]
    for k, term in shipped.items():
        e = errors[errors.measure == k]
        assert cmu_real.reality_term(e, simulated[k]) == pytest.approx(term, abs=0.1), k


def test_the_exercise_bound_holds_about_90_percent_of_a_new_exercise():
    """The model-to-reality bound is built for an exercise not seen: on simulated error sets
    (4 exercises of 5 reps, each exercise with a bias of its own) it holds 88-97 % of a fifth
    exercise's reps, where a quantile of the pooled reps holds far less."""
    rng = np.random.default_rng(0)
    for tau, sigma in ((5.0, 1.5), (1.0, 2.0), (3.0, 3.0)):
        ours, pooled = [], []
        for _ in range(400):
            bias = rng.normal(0.0, tau, 5)
            rows = [(f"e{i}", bias[i] + rng.normal(0.0, sigma)) for i in range(4) for _ in range(5)]
            seen = pd.DataFrame(rows, columns=["trial", "error"])
            new = np.abs(bias[4] + rng.normal(0.0, sigma, 5))
            ours.append(np.mean(new <= cmu_real.exercise_bound(seen)))
            pooled.append(np.mean(new <= np.quantile(np.abs(seen.error), 0.9)))
        print(f"tau {tau} sigma {sigma}: exercise bound {np.mean(ours):.3f}, "
              f"pooled quantile {np.mean(pooled):.3f}")
        assert 0.88 <= np.mean(ours) <= 0.97
        assert np.mean(pooled) < np.mean(ours)


@needs_cmu
@pytest.mark.parametrize("rows_of", ["term_rows", "full_set_rows"])
def test_stated_intervals_hold_on_an_exercise_left_out(rows_of, request):
    """Leave-one-exercise-out on the seven real single-leg exercises: the bound from six
    holds about 90 % of the seventh's reps, per measure and sensor set (measured 86-97 %:
    pelvic drop 27/29 both sets, hip flexion 28/29 and 27/29, hip adduction 25/29 and
    24/27); and the shipped intervals, as the analyses state them, hold at least as many."""
    from analysis.validation import MODEL_TO_REALITY

    rows = request.getfixturevalue(rows_of)
    sensor_set = rows[0].sensor_set
    shipped = MODEL_TO_REALITY[cmu_real.LEG_FRAMES[sensor_set]]
    errors = cmu_real.peak_errors(rows, sensor_set)
    simulated = cmu_real.simulated_uncertainty(rows)
    loeo = cmu_real.leave_one_exercise_out(errors, {k: v for k, v in simulated.items()
                                                    if k in shipped})
    total = loeo.groupby("measure")[["covered", "reps"]].sum()
    assert set(total.index) == set(shipped)
    for k, r in total.iterrows():
        assert r.reps >= 27 and r.covered / r.reps >= 0.85, (k, r.covered, r.reps)
    stated = cmu_real.table(rows, group=("sensor_set",)).set_index("measure").coverage
    for k in shipped:
        assert stated[k] >= 0.85, (k, stated[k])


@needs_cmu
def test_the_pose_trial_is_a_sound_zero_for_the_pelvis():
    """The standing baseline of the hip flexion error: where the athlete stands as in the
    Pose trial (the heel raises, 753 samples), the sacrum sensor's tilt agrees with the lab
    pelvis's (measured -0.2°) and the (left) thigh's inclination reads 5.5° more than the
    lab's: its device orientation levelled to its accelerometer, which reads 5.2° off the
    lab's there (2.8° before the levelling; the right thigh's goes 3.0 -> 0.7°, test below)."""
    near = cmu_real.near_pose_errors(cmu_real.run_trial(ROOT, "HeelRaise", "pelvis+thigh"))
    assert near["samples"] > 500
    assert abs(near["pelvis"]) < 1.0 and 0.0 < near["thigh"] < 6.0, near


@needs_cmu
def test_hip_flexion_read_high_through_the_sacral_tilt_and_the_model_takes_it_out(term_runs):
    """The hip flexion error at the deepest sample splits into the pelvis's tilt error and
    the thigh's inclination error, with little left over (measured |rest| <= 2.2° per
    exercise). The sacrum sensor read 6.6-9.4° more tilt than the lab pelvis on the
    single-leg, half and decline squats, already where the rep is least flexed (the
    ``sacral`` part the analysis now takes out, 5.8-8.4° there at the deepest sample, the
    excess fallen with the thigh's inclination); what is left of the pelvis part is
    -1.3…+1.1° on them, and the thigh's part (3-5°) is the larger."""
    parts = pd.concat([cmu_real.hip_flexion_parts(term_runs[t, "pelvis+thigh"])
                       for t in cmu_real.TERM_TRIALS])
    mean = parts.groupby("trial")[["peak_error", "pelvis", "sacral", "thigh", "rest",
                                   "pelvis_upright"]].mean()
    assert (mean.rest.abs() < 2.5).all(), mean.rest
    for t in ("SqSL", "SqHalfSL", "DeclineSq"):
        assert mean.pelvis[t] + mean.sacral[t] > 5.0, mean.loc[t]       # the sensor's own
        assert 5.5 < mean.sacral[t] <= 8.5                                 # taken out
        assert abs(mean.pelvis[t]) < 2.5 and mean.thigh[t] > abs(mean.pelvis[t]), mean.loc[t]


@needs_cmu
def test_the_benchmark_evaluates_the_model_the_analysis_applies(term_runs):
    """hip_flexion_with_sacral_fall with the analysis's own excess and fall gives the
    analysis's rep peaks and excursions (to the 0.01° they are rounded to): the LOEO figures
    are of what the product does."""
    from analysis.soft_tissue import SACRAL_EXCESS_DEG

    run = term_runs["SqSL", "pelvis+thigh"]
    assert run.doc["config"]["sacral_excess_deg"] == SACRAL_EXCESS_DEG
    ours = cmu_real.hip_flexion_with_sacral_fall(run, cmu_real.SHIPPED_FALL)
    rows = cmu_real.rep_rows(run)
    np.testing.assert_allclose(ours.ours, [r.ours["hip_flexion_deg"] for r in rows], atol=0.006)
    np.testing.assert_allclose(ours.ours_exc, [r.ours_exc["hip_flexion_deg"] for r in rows],
                               atol=1e-6)


@needs_cmu
@pytest.mark.parametrize("sensor_set", ["pelvis+thigh", FULL_SET])
def test_hip_flexion_interval_holds_leaving_out_the_model_and_the_term(term_runs, sensor_set):
    """Nested leave-one-exercise-out: the sacral excess's shape (gain, start and slope of its
    fall) and the model-to-reality term both from the other six exercises; the stated hip
    flexion interval holds the seventh's reps at least as often as the issue's 80 % floor
    (measured 27/29 pelvis + thigh, 24/29 full set: the single-leg squat 1/5 there, whose
    held-out fall reads its peaks 3.2° high; with the ramp alone it was 28/29 and 25/28)."""
    runs = [r for (_, s), r in term_runs.items() if s == sensor_set]
    simulated = cmu_real.simulated_uncertainty([row for r in runs for row in cmu_real.rep_rows(r)])
    nested = cmu_real.sacral_term_loeo(runs, simulated["hip_flexion_deg"])
    assert nested.reps.sum() >= 28
    assert nested.covered.sum() / nested.reps.sum() >= 0.8, nested


@needs_cmu
def test_both_legs_of_a_double_leg_squat_flex_alike():
    """The CMU left thigh sensor faces another way than the right one (the face-based sign
    of its flexion axis read its hip flexion as -60° of extension): with the sign from the
    movement both hips of the half double-leg squat flex as the reference says."""
    for leg in ("right", "left"):
        rows = cmu_real.analyse_trial(ROOT, "SqHalfDL", "full (+shank, trunk, wrist)", leg)
        ours = np.array([r.ours["hip_flexion_deg"] for r in rows], float)
        ref = np.array([r.ref["hip_flexion_deg"] for r in rows], float)
        a = cmu_real.agreement(ours, ref)
        # measured: right 4.9° MAE (bias +4.9, r 0.99), left 8.5° (+8.5, r 1.00), with the
        # sacral excess taken out (12.1° and 15.8° before; docs/real_data.md)
        assert a["n"] == 5 and a["r"] > 0.9 and 0 < a["bias"] < 20, (leg, a)


@needs_cmu
def test_the_knee_models_differ_by_the_hip_moving_over_the_stance_foot(term_runs):
    """The thigh + pelvis knee model against the shank's knee on the real squats (full set,
    same frames). Relative to the two-leg Pose trial they differ by 23-28 cm (the model reads
    the knee 16-20 cm medial, the shank 3-12 cm lateral), and the lab's own chain shows why:
    its knee is 15-23 cm medial of the hip but 0-7 cm lateral of the ankle, i.e. the stance
    hip moves 19-23 cm sideways over the foot, which the model assumes it does not. From the
    rep's start (already on one leg) the two agree: excursion MAE 0.4-1.2 cm per exercise
    (0.6-3.6 cm while the measures were low-passed across the gaps between rep files)."""
    knee = pd.concat([cmu_real.knee_estimates(term_runs[t, FULL_SET]) for t in SQUATS])
    peak = cmu_real.agreement(knee.thigh_model.to_numpy(float), knee.shank.to_numpy(float))
    exc = cmu_real.agreement(knee.thigh_model_exc.to_numpy(float), knee.shank_exc.to_numpy(float))
    assert peak["n"] == 18 and peak["bias"] > 15.0, peak
    assert exc["mae"] < 1.5, exc
    hip_shift = (knee.lab_vs_hip - knee.lab_vs_ankle).groupby(knee.trial).mean()
    assert (hip_shift > 15.0).all(), hip_shift


@pytest.fixture(scope="module")
def sacral_loeo(term_runs):
    return cmu_real.sacral_model_loeo(list(term_runs.values()))


@needs_cmu
def test_the_sacral_model_holds_on_every_single_leg_exercise_left_out(sacral_loeo):
    """The sacral sensor's tilt excess over the lab pelvis as a ramp alone (gain * min(1,
    tilt / 15°), no fall), fitted on the pelvis tilt samples of six exercises, takes the
    seventh's hip flexion peak error down on the squats, both sensor sets, and leaves the
    excursions about as they were: the excess is there from the start of the lean, not a
    gain on the depth. Measured with the legs' device orientation levelled (as shipped):
    peak MAE 5.45 -> 3.50° pelvis + thigh, 4.38 -> 2.46° full set (7.89 -> 3.13°, 6.94 ->
    2.08° before the levelling); gains 6.7-7.6°; excursions 3.53 -> 3.26°, 2.84 -> 2.67°.
    On the Bulgarian squat, the lunge and the step-ups, where the thigh goes deepest, the
    ramp now overshoots (bias -1.6…-6.1°): the excess falls there (the shipped shape,
    ``test_the_shipped_sacral_fall_helps_peaks_and_excursions_left_out``)."""
    loeo = sacral_loeo
    assert len(loeo) == 2 * len(cmu_real.TERM_TRIALS)
    squats = loeo[loeo.held_out.isin(["SqSL", "SqHalfSL", "DeclineSq"])]
    assert (squats.peak_bias_after.abs() < squats.peak_bias_before.abs()).all(), loeo
    assert loeo.gain.between(6.0, 8.0).all(), loeo.gain
    for sset, hi in (("pelvis+thigh", 3.6), (FULL_SET, 2.6)):
        g = loeo[loeo.sensor_set == sset]
        w = g.n.to_numpy(float)
        assert np.average(g.peak_mae_before, weights=w) > 4.0
        assert np.average(g.peak_mae_after, weights=w) < hi, sset
        assert abs(np.average(g.exc_mae_after - g.exc_mae_before, weights=w)) < 0.3, sset


@needs_cmu
def test_a_gain_on_the_flexion_does_not_hold_for_the_excursions(term_runs):
    """The model first thought of (the excess a share of the hip flexion) brings the peaks
    down too, but makes the excursions worse: the excess does not grow with depth. As a
    gain fitted on all seven exercises' peaks (the best it can do; measured k 0.09, peak
    MAE 7.9 -> 3.6°, excursion MAE 3.3 -> 7.3°)."""
    runs = [r for (_, s), r in term_runs.items() if s == "pelvis+thigh"]
    both = pd.concat([cmu_real.hip_flexion_with_sacral_model(r, 0.0) for r in runs])
    err = both.ours - both.ref
    k = float(both.ours @ err / (both.ours @ both.ours))            # err ~ k * hip flexion
    exc_before = np.mean(np.abs(both.ours_exc - both.ref_exc))
    exc_gain = np.mean(np.abs((1 - k) * both.ours_exc - both.ref_exc))  # peak - start both scaled
    assert 0.05 < k < 0.15 and exc_gain > exc_before + 1.5, (k, exc_before, exc_gain)


@needs_cmu
def test_the_sacral_model_does_not_hold_on_deep_double_leg_squats(term_runs):
    """Beyond the single-leg exercises it is fitted on: on the half double-leg squat (63° of
    hip flexion) it helps (bias +15.8 -> +8.6°), on the double-leg and sumo squats (118° and
    127°, where the lab pelvis tilts further than the sacral sensor) it makes the bias worse
    (-0.2 -> -7.4°, -8.4 -> -15.6°): the model's domain is the single-leg range."""
    fit = [r for (_, s), r in term_runs.items() if s == "pelvis+thigh"]
    other = [cmu_real.run_trial(ROOT, t, "pelvis+thigh") for t in cmu_real.DOUBLE_LEG_TRIALS]
    out = cmu_real.sacral_model_outside(fit, other).set_index("trial")
    assert out.peak_bias_after.abs()["SqHalfDL"] < out.peak_bias_before.abs()["SqHalfDL"] - 5
    for t in ("SqDL", "SumoSq"):
        assert out.ref_peak[t] > 110 and out.peak_mae_after[t] > out.peak_mae_before[t] + 5, out


def _hip_flexion_agreement(rows: list, what: str) -> dict[str, float]:
    """agreement of hip flexion's rep peaks (``what`` "peak") or excursions ("exc")."""
    ours, ref = ("ours", "ref") if what == "peak" else ("ours_exc", "ref_exc")
    k = "hip_flexion_deg"
    return cmu_real.agreement(
        np.array([np.nan if getattr(r, ours)[k] is None else getattr(r, ours)[k] for r in rows], float),
        np.array([getattr(r, ref).get(k, np.nan) for r in rows], float))


@needs_cmu
def test_hip_flexion_excursions_are_measured_within_each_rep_file(term_runs):
    """Hip flexion's excursion (peak less the value at the rep file's start) against the
    reference's. It was 5.6° MAE (pelvis + thigh; 5.9° full set) and did not move with the
    sacral model because it was not the pelvis's doing where it was largest: the measures'
    low-pass ran across the gap between rep files, pulling a file's first samples toward
    the gap's stand-in (step-ups 6.8 and 8.7°, lunge 3.6°), and the benchmark took the
    reference's start a grid sample before ours. Measured now: pooled 3.1° / 3.3°, step-ups
    1.8 and 0.9°, lunge 1.2°, the half squat 0.6°."""
    by = {}
    for (trial, sset), run in term_runs.items():
        by.setdefault(sset, []).extend(cmu_real.rep_rows(run))
        if sset == "pelvis+thigh" and trial in ("StepUpH", "StepUpL", "Lunge", "SqHalfSL"):
            exc = _hip_flexion_agreement(cmu_real.rep_rows(run), "exc")
            assert exc["n"] >= 3 and exc["mae"] < 2.0, (trial, exc)
    for sset, hi in (("pelvis+thigh", 3.3), (FULL_SET, 3.5)):
        exc = _hip_flexion_agreement(by[sset], "exc")
        assert exc["n"] >= 28 and exc["mae"] < hi and exc["r"] > 0.9, (sset, exc)


@needs_cmu
def test_the_excursion_error_the_sacral_ramp_left_is_taken_out_by_the_fall(term_runs):
    """The excursion's error split at the file's start and at the deepest sample into the
    pelvis's tilt and the thigh's inclination (``hip_flexion_parts``). With the ramp alone
    it was the pelvis's (Bulgarian squat -9°, single-leg squat -4°): the sacrum sensor reads
    more excess tilt over the lab pelvis early in the descent than at the bottom (Bulgarian:
    9.4° at the start, 0.7° at the deepest, at the same sensor tilt of 22°). With the fall
    taken out (the full 8.5° at the start, the sensor past the 15° ramp on both) the
    pelvis's share is -2.3° (Bulgarian) and -0.4° (single-leg squat), the thigh's -2.0° and
    +0.1° (measured)."""
    parts = pd.concat([cmu_real.hip_flexion_parts(term_runs[t, "pelvis+thigh"])
                       for t in ("SqSL", "BulgSq")])
    mean = parts.groupby("trial")[["pelvis", "pelvis_start", "thigh", "thigh_start",
                                   "sacral_start", "sacral", "sensor_tilt_start"]].mean()
    pelvis_part = mean.pelvis - mean.pelvis_start           # its share of the excursion error
    thigh_part = mean.thigh - mean.thigh_start
    assert (pelvis_part.abs() < 3.0).all(), pelvis_part
    assert (thigh_part.abs() < 2.5).all(), thigh_part
    # the sensor is past the model's 15° ramp at the start on both: the full excess taken out
    assert (mean.sensor_tilt_start > 15.0).all() and (mean.sacral_start > 8.0).all(), mean
    assert mean.sacral["BulgSq"] < mean.sacral_start["BulgSq"] - 4.0, mean


def test_the_sacral_fall_fit_finds_the_shape_it_was_made_with():
    """fit_sacral_fall recovers a known excess (noise 0.5°) from tilt and thigh samples."""
    rng = np.random.default_rng(3)
    tilt, thigh = rng.uniform(0.0, 40.0, 4000), rng.uniform(0.0, 90.0, 4000)
    truth = cmu_real.SacralFall(8.5, 40.0, 0.018)
    samples = pd.DataFrame({"tilt": tilt, "thigh": thigh,
                            "excess": truth.excess_deg(tilt, thigh) + rng.normal(0, 0.5, 4000)})
    fit = cmu_real.fit_sacral_fall(samples)
    assert fit.from_deg == 40.0 and fit.per_deg == pytest.approx(0.018, abs=0.002)
    assert fit.gain_deg == pytest.approx(8.5, abs=0.1)
    assert fit.excess_deg(np.array([30.0]), np.array([10.0]))[0] == pytest.approx(fit.gain_deg)


@pytest.fixture(scope="module")
def sacral_fall(term_runs):
    return cmu_real.sacral_fall_loeo(list(term_runs.values()))


@needs_cmu
def test_the_shipped_sacral_fall_helps_peaks_and_excursions_left_out(sacral_fall):
    """The excess's shape the analysis ships, left one exercise out on peaks and excursions
    against the ramp alone, both refitted on the other six (the legs' device orientation
    levelled, as shipped): it falls once the thigh inclines past ~40° (from_deg 40 in 13 of
    14 folds, 1.8-2.8 %/°, gain 7.9-8.9°). Measured: peaks 3.50 -> 2.31° pelvis + thigh,
    2.46 -> 1.64° full set; excursions 3.26 -> 1.31°, 2.67 -> 1.52°; the Bulgarian squat's
    excursion 9.1 -> 3.3°. (Before the levelling the fall made the peaks worse, 3.13 ->
    3.87°: the ramp's too-large excess at depth offset the thigh device's tilt.)"""
    d = sacral_fall
    assert len(d) == 2 * len(cmu_real.TERM_TRIALS)
    assert (d.from_deg == 40.0).sum() >= 12 and d.per_deg.between(0.016, 0.03).all(), d
    assert d.gain.between(7.5, 9.5).all(), d.gain
    for sset, exc_hi in (("pelvis+thigh", 1.6), (FULL_SET, 1.8)):
        g = d[d.sensor_set == sset]
        w = g.n.to_numpy(float)

        def mean(col: str, g=g, w=w) -> float:
            return float(np.average(g[col], weights=w))

        assert mean("exc_mae_fall") < exc_hi < mean("exc_mae_ramp") - 0.5, sset
        assert mean("peak_mae_fall") < mean("peak_mae_ramp") - 0.5, sset
        # the Bulgarian squat's excursion, the one the ramp leaves 7-9° off
        bulg = g.set_index("held_out").loc["BulgSq"]
        assert bulg.exc_mae_ramp > 7.0 and bulg.exc_mae_fall < 3.5, bulg


@needs_cmu
def test_the_sacral_excess_does_not_lag_the_tilt(term_runs):
    """Skin sliding over the bone and lagging it would read less excess where the sensor tilts
    forward than where it tilts back, at the same tilt. Per exercise and 5° tilt bin the two
    differ by -1.4…+1.4° (median 0.04°), with both signs: no lag to model, against 1-10° of
    excess between exercises."""
    runs = [r for (_, s), r in term_runs.items() if s == "pelvis+thigh"]
    d = cmu_real.excess_by_direction(pd.concat([cmu_real.pelvis_tilt_samples(r) for r in runs]))
    assert len(d) >= 15 and set(d.trial) == set(cmu_real.TERM_TRIALS)
    assert d.difference.abs().max() < 1.5 and abs(d.difference.median()) < 0.3, d
    assert (d.difference > 0.3).any() and (d.difference < -0.3).any(), d


@needs_cmu
def test_the_sacral_excess_falls_as_the_thigh_goes_deep(term_runs):
    """Binned by the thigh's inclination, the excess falls past about 40° on every exercise
    that gets there (measured, the legs' device orientation levelled: Bulgarian squat 9.1°
    at 30-40° -> 3.2° at 70-80°, single-leg squat 10.3 -> 7.0° at 50-60°, lunge 3.5 -> 0.6°
    at 80-90°, high step-up 2.3 -> 0.7° at 60-70°; before the levelling the Bulgarian squat's
    thigh read deeper, 0.2° at 80-90°)."""
    runs = [r for (_, s), r in term_runs.items() if s == "pelvis+thigh"]
    b = cmu_real.excess_by_thigh(pd.concat([cmu_real.pelvis_tilt_samples(r) for r in runs]))
    for trial, deep in (("BulgSq", 70.0), ("SqSL", 50.0), ("Lunge", 80.0), ("StepUpH", 60.0)):
        assert b.loc[deep, trial] < b.loc[30.0, trial] - 1.0, (trial, b[trial])
    assert b.loc[70.0, "BulgSq"] < 4.0 < 8.0 < b.loc[30.0, "BulgSq"]


def _thigh_flexing(n: int = 400) -> tuple[np.ndarray, np.ndarray]:
    """A thigh standing (the first quarter) then flexing to 90° about its mediolateral axis:
    (N, 4) q_global_segment (x anterior, y up, z right, global z up) and (N,) the truth, deg."""
    from analysis import quat

    truth = np.concatenate([np.zeros(n // 4), np.linspace(0.0, 90.0, n - n // 4)])
    upright = quat.from_matrix(np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]]))
    # flexion turns the segment about its own z: the knee end (-y) forward, x up
    return quat.qmul(upright, quat.from_rotvec(np.outer(np.radians(truth), [0, 0, 1]))), truth


def test_a_frame_vertical_off_the_orientation_cancels_relative_to_standing():
    """The mechanism the lead suspected, on synthetic data: the segment frame's vertical
    taken from the accelerometer while the orientation comes from the device, the two
    1.5° apart (in any direction). Inclination relative to the standing mean is unchanged
    over 0-90° of flexion (measured within 0.01°): the offset cancels. What does not cancel
    is the device's vertical moving between the standing recording and the reps (2.6° in
    the sagittal plane: the inclination reads 2.6° more, exactly)."""
    from analysis import quat
    from calibration.segment_frames import frame_from_flexion

    q_seg, truth = _thigh_flexing()
    r_sensor_seg = quat.to_matrix(quat.from_rotvec([0.3, -1.1, 0.7]))     # how it is worn
    q_sensor = quat.qmul(q_seg, quat.qinv(quat.from_matrix(r_sensor_seg)))
    standing = truth == 0.0
    up_true, axis = r_sensor_seg[:, 1], r_sensor_seg[:, 2]
    worst = 0.0
    for direction in np.radians([0.0, 45.0, 90.0, 135.0, 200.0, 290.0]):
        tilt_axis = np.cos(direction) * r_sensor_seg[:, 0] + np.sin(direction) * r_sensor_seg[:, 2]
        up_acc = quat.qrotate(quat.from_rotvec(np.radians(1.5) * tilt_axis), up_true)
        frame = frame_from_flexion(up_acc, axis, float(np.sign(axis[2])), 1.0).R_sensor_seg
        incl = cmu_real.thigh_inclination_deg(quat.qmul(q_sensor, quat.from_matrix(frame)))
        worst = max(worst, float(np.max(np.abs(incl - incl[standing].mean() - truth))))
    assert worst < 0.1, worst
    moved = quat.qmul(quat.from_rotvec([0.0, np.radians(2.6), 0.0]), q_sensor)  # about global y
    moved[standing] = q_sensor[standing]      # the standing recording's vertical unmoved
    exact = quat.qmul(q_sensor, quat.from_matrix(r_sensor_seg))
    incl = cmu_real.thigh_inclination_deg(quat.qmul(moved, quat.from_matrix(r_sensor_seg)))
    base = cmu_real.thigh_inclination_deg(exact)
    np.testing.assert_allclose(np.abs((incl - base)[~standing]), 2.6, atol=0.05)


def test_levelling_takes_a_device_tilt_out_and_keeps_the_heading():
    """levelled_device: a device orientation tilted 2.6° off a still sensor's accelerometer
    is turned back onto it (within 0.01°), its heading kept."""
    from analysis import quat

    q_seg, _ = _thigh_flexing(100)
    q_true = quat.qmul(quat.about_z(0.8), q_seg)
    acc = quat.qrotate(quat.qinv(q_true), np.array([0.0, 0.0, 9.81]))    # at rest: +g up
    tilted = quat.qmul(quat.from_rotvec([np.radians(2.6), 0.0, 0.0]), q_true)
    fixed = cmu_real.levelled_device(tilted, acc)
    assert np.degrees(quat.angle(quat.qrel(q_true, fixed))).max() < 0.01


@needs_cmu
def test_the_thighs_standing_offset_is_the_device_orientations_not_the_frames():
    """The right thigh read 2.6-3.0° more forward inclination than the lab's wherever the
    athlete stands as in the Pose trial. On the still samples of the heel raises (sensor
    under 6°/s) it was the device's own orientation: ours 2.72°, the device quaternion's
    vertical alone 2.64°, the accelerometer 0.05°. Not the frame's vertical (from the
    accelerometer in the Pose, 0.82° off the device's there, with the other sign, and
    cancelling relative to standing, test above), not a filter converging in the 1.45 s
    Pose (its device-accelerometer offset moves under 0.12° in it). The analysis now levels
    the legs' device orientation to their accelerometer in each piece: ours 0.47° (the
    device's vertical still 2.59°). The pelvis is the other way round (ours -0.29°,
    accelerometer +2.02°; not levelled) and so is the left thigh (accelerometer 5.24°, the
    device 1.00°; ours 1.06 -> 3.55° with the levelling): no one source agrees with the lab
    on every sensor."""
    src = pd.concat([cmu_real.standing_sources(cmu_real.run_trial(ROOT, "HeelRaise",
                                                                  "pelvis+thigh", leg))
                     for leg in ("right", "left")]).set_index("placement")
    assert (src.pose_change.abs() < 0.2).all(), src
    right = src.loc["thigh_right"]
    assert right.samples >= 15 and right.device > 2.0 and right.ours < 1.0, right
    assert abs(right.accelerometer) < 0.5 and right.pose_device_minus_acc < -0.5, right
    pelvis = src.loc["pelvis"]
    assert (pelvis.ours.abs() < 0.5).all() and (pelvis.accelerometer > 1.5).all(), pelvis
    assert src.loc["thigh_left"].accelerometer > 3.0, src


@needs_cmu
def test_levelling_the_pelvis_too_would_make_pelvic_drop_worse(term_runs):
    """The analysis levels the legs' device orientation (thighs, shanks), not the pelvis's
    (a choice made on the development trials of this one subject). Levelled too
    (cmu_real.run_trial_levelled, a candidate), the pelvis's still heel-raise samples move
    2° off the lab's (-0.2 -> +1.9°) and pelvic drop's peaks go 1.99 -> 2.35° MAE (bias
    -1.10 -> -2.09°) with either sensor set, though hip flexion's peaks would gain a
    little (pelvis + thigh 2.27 -> 1.98°; full set 1.57 -> 1.65°). The legs' levelling with
    the sacral fall took hip adduction's peaks 4.32 -> 3.32° and 6.53 -> 4.31° (measured
    before the analysis levelled them; docs/real_data.md)."""
    near = cmu_real.near_pose_errors(cmu_real.run_trial_levelled(
        ROOT, "HeelRaise", "pelvis+thigh", "right", ("pelvis",)))
    assert near["pelvis"] > 1.5 and abs(near["thigh"]) < 1.0, near
    runs = [cmu_real.run_trial_levelled(ROOT, t, s, None, ("pelvis",)) for (t, s) in term_runs]
    before = cmu_real.table([row for r in term_runs.values() for row in cmu_real.rep_rows(r)],
                            group=("sensor_set",)).set_index(["sensor_set", "measure"])
    after = cmu_real.table([row for r in runs for row in cmu_real.rep_rows(r)],
                           group=("sensor_set",)).set_index(["sensor_set", "measure"])
    for sset in ("pelvis+thigh", FULL_SET):
        drop = (sset, "pelvic_drop_deg")
        assert after.peak_mae[drop] > before.peak_mae[drop] + 0.2, sset
        assert before.peak_mae[drop] < 2.1 and before.peak_mae[(sset, "hip_adduction_deg")] < 4.5


@needs_cmu
def test_the_device_orientations_tilt_is_one_per_trial(term_runs):
    """What levelling turns the device's orientation by, per rep file (the right thigh, in
    its sagittal plane): it clusters within a trial (measured sd 0.2-0.7° over 3-5 files)
    and differs between trials (means -1.1…+5.0°, Bulgarian squat +5.0°, lunge +3.7°;
    the Pose trial -0.6…-0.9° in the squats' frames): the device filter's inclination is
    off by a different amount in each recording, which a zero taken in another recording
    (the Pose) cannot take out."""
    d = pd.concat([cmu_real.device_tilt_by_file(term_runs[t, "pelvis+thigh"])
                   for t in cmu_real.TERM_TRIALS])
    thigh = d[d.placement == "thigh_right"]
    pose = thigh[thigh.file.str.startswith("Pose")]
    reps = thigh[~thigh.file.str.startswith("Pose")].groupby("trial").sagittal.agg(["mean", "std"])
    assert pose.sagittal.between(-1.0, -0.5).all(), pose
    assert (reps["std"] < 0.8).all(), reps
    assert reps["mean"].max() - reps["mean"].min() > 5.0, reps
    assert reps["mean"]["BulgSq"] > 4.0 and reps["mean"]["Lunge"] > 3.0, reps
