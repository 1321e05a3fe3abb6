"""Real recordings against a lab reference (CMU-MBL SUB22, see benchmarks/cmu_real.py).

Needs ``STEPDOWN_CMU_DATA`` naming a local clone of CMU-MBL/IMU_Exercise_Prediction;
prints a line saying so and returns when it is unset. The step-downs (``HELD_OUT``) are
the acceptance set: included only with ``STEPDOWN_CMU_ACCEPTANCE=1``, once, after all
tuning. Prints per exercise and sensor set: reps found of the rep files, timing against
the rep files (mean s), and per measure MAE, bias, r and slope of the rep peak and of the
rep excursion against the reference, the share of reps inside the stated 90 % interval,
the reps "not measured"; the rate of each checklist item; the model-to-reality term and
its leave-one-exercise-out coverage; the hip flexion error split into the pelvis's tilt,
the thigh's inclination and the standing baseline; the thigh + pelvis knee model against
the shank's knee and the lab's own chain.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from analysis.validation import MODEL_TO_REALITY
from benchmarks import cmu_real

SHORT = {"hip_flexion_deg": "hip flex", "hip_adduction_deg": "hip add",
         "hip_internal_rotation_deg": "hip IR", "pelvic_drop_deg": "pelvis"}


def _print(frame: pd.DataFrame) -> None:
    with pd.option_context("display.width", 200, "display.max_columns", 30):
        print("  " + frame.to_string(index=False).replace("\n", "\n  "))


def run() -> None:
    root = cmu_real.data_root()
    if root is None:
        print(f"skipped: set {cmu_real.ENV} to a local clone of CMU-MBL/IMU_Exercise_Prediction")
        return
    acceptance = os.environ.get("STEPDOWN_CMU_ACCEPTANCE") == "1"
    trials = cmu_real.HELD_OUT if acceptance else cmu_real.DEVELOPMENT
    print(f"{'ACCEPTANCE (held-out step-downs)' if acceptance else 'development trials'}: "
          f"{', '.join(trials)}; subject {cmu_real.SUBJECT}; standing from the Pose trial")
    runs = cmu_real.run_all(root, trials)
    rows = [row for run in runs for row in cmu_real.rep_rows(run)]
    table = cmu_real.table(rows).assign(measure=lambda f: f.measure.map(SHORT))
    _print(table.round(2))
    print("checklist item rates (reps with the item present / reps assessed):")
    _print(cmu_real.item_rates(rows))
    refused = {(r.trial, r.sensor_set): r.refused for r in rows if r.refused}
    for (trial, sset), why in refused.items():
        print(f"  {trial} [{sset}] refused: {why}")
    if acceptance:
        return
    term_rows = [r for r in rows if r.trial in cmu_real.TERM_TRIALS]
    for sensor_set, leg_frames in cmu_real.LEG_FRAMES.items():
        _print_terms(term_rows, sensor_set, leg_frames)
    _print_hip_flexion_parts(root, [r for r in runs if r.trial in cmu_real.TERM_TRIALS])
    _print_sacral_model(root, [r for r in runs if r.trial in cmu_real.TERM_TRIALS])
    _print_device_tilt(root, [r for r in runs if r.trial in cmu_real.TERM_TRIALS])
    _print_knee_estimates([r for r in runs if r.sensor_set == cmu_real.FULL_SET])


STANDING_TRIALS = ("HeelRaise", "Walk")
"""Development trials with samples where the athlete stands as in the Pose trial: the
standing baseline of the hip flexion parts."""


def _fold_means(folds: pd.DataFrame) -> dict[str, float]:
    """Every figure of leave-one-exercise-out folds (peak_*, exc_*, gain) averaged over the
    folds weighted by their reps (``n``): the figure over all the reps held out."""
    w = folds.n.to_numpy(float)
    return {c: float(np.average(folds[c], weights=w)) for c in folds.columns
            if c.startswith(("peak", "exc", "gain"))}


def _print_hip_flexion_parts(root, runs: list[cmu_real.TrialRun]) -> None:
    """Why hip flexion reads high: its error split into the pelvis's tilt, the thigh's
    inclination and the rest, per exercise and sensor set, and the standing baseline."""
    parts = pd.concat([cmu_real.hip_flexion_parts(run) for run in runs])
    print("hip flexion error (ours - reference, deg) at the deepest sample = pelvis tilt + "
          "thigh inclination + rest; *_upright at the least flexed sample:")
    cols = ["peak_error", "pelvis", "thigh", "rest", "pelvis_upright", "thigh_upright",
            "ref_hip_flexion", "ref_pelvis_tilt"]
    _print(parts.groupby(["sensor_set", "trial"], sort=False)[cols].mean().round(1).reset_index())
    print("hip flexion excursion error = peak_error - start_error; at the file's start: pelvis "
          "tilt + thigh inclination + rest, the sensor's tilt there (the sacral ramp's 15°) and "
          "the excess taken out at the start and at the deepest:")
    parts = parts.assign(exc_error=parts.peak_error - parts.start_error)
    cols = ["exc_error", "start_error", "pelvis_start", "thigh_start", "pelvis", "thigh",
            "sensor_tilt_start", "sacral_start", "sacral"]
    _print(parts.groupby(["sensor_set", "trial"], sort=False)[cols].mean().round(1).reset_index())
    print("standing baseline: median error where the reference stands as in the Pose trial:")
    for trial in STANDING_TRIALS:
        near = cmu_real.near_pose_errors(cmu_real.run_trial(root, trial, "pelvis+thigh"))
        print(f"  {trial:10s} samples {near['samples']:4d}  pelvis tilt {near['pelvis']:+5.1f}  "
              f"thigh inclination {near['thigh']:+5.1f}")


def _print_sacral_model(root, runs: list[cmu_real.TrialRun]) -> None:
    """The sacral soft-tissue model (hip flexion), left one exercise out, and beyond the
    single-leg exercises; pelvic drop is the pelvis's mediolateral axis, which the model
    does not turn (the table above is its figure before and after)."""
    loeo = cmu_real.sacral_model_loeo(runs)
    print(f"sacral soft-tissue model (excess = gain * min(1, tilt / {cmu_real.SACRAL_RAMP_DEG:g}°)), "
          "left one exercise out: hip flexion peak and excursion vs the reference, before / after "
          "(pelvic drop unchanged):")
    _print(loeo.round(2))
    for sset, g in loeo.groupby("sensor_set", sort=False):
        m = _fold_means(g)
        print(f"  {sset}: {int(g.n.sum())} reps, peak MAE {m['peak_mae_before']:.2f} -> "
              f"{m['peak_mae_after']:.2f}, bias {m['peak_bias_before']:+.2f} -> "
              f"{m['peak_bias_after']:+.2f}; excursion MAE {m['exc_mae_before']:.2f} -> "
              f"{m['exc_mae_after']:.2f}")
    for sset in cmu_real.SENSOR_SETS:
        own = [r for r in runs if r.sensor_set == sset]
        simulated = cmu_real.simulated_uncertainty([row for r in own for row in cmu_real.rep_rows(r)])
        nested = cmu_real.sacral_term_loeo(own, simulated["hip_flexion_deg"])
        print(f"  {sset}: hip flexion interval left one exercise out, gain and term both from the "
              f"other six: {nested.covered.sum()}/{nested.reps.sum()} covered (terms "
              f"{nested.term.min():.1f}-{nested.term.max():.1f})")
    _print_sacral_fall(runs)
    other = [cmu_real.run_trial(root, t, s) for t in cmu_real.DOUBLE_LEG_TRIALS
             for s in cmu_real.SENSOR_SETS]
    print("fitted on all of them, on the double-leg squats:")
    _print(cmu_real.sacral_model_outside(runs, other).round(2))


def _print_sacral_fall(runs: list[cmu_real.TrialRun]) -> None:
    """The shipped shape (the ramp times a fall with the thigh's inclination) against the
    ramp alone, both refitted left one exercise out, on hip flexion peaks and excursions."""
    samples = pd.concat([cmu_real.pelvis_tilt_samples(r) for r in runs if r.sensor_set == "pelvis+thigh"])
    d = cmu_real.excess_by_direction(samples)
    print(f"sacral excess tilting forward - tilting back at the same tilt (5° bins, pelvis+thigh): "
          f"{d.difference.min():+.1f}..{d.difference.max():+.1f}°, median {d.difference.median():+.2f}°")
    print("median sacral excess (deg) by the thigh's inclination from standing (10° bins, pelvis+thigh):")
    _print(cmu_real.excess_by_thigh(samples).round(1).reset_index())
    loeo = cmu_real.sacral_fall_loeo(runs)
    print("sacral excess shape, left one exercise out: the ramp alone vs the ramp falling with "
          "the thigh's inclination (cmu_real.SacralFall; shipped), hip flexion MAE / bias:")
    cols = ["sensor_set", "held_out", "n", "from_deg", "per_deg", "gain", "peak_mae_ramp",
            "peak_mae_fall", "exc_mae_ramp", "exc_mae_fall", "exc_bias_ramp", "exc_bias_fall"]
    _print(loeo[cols].round(3))
    for sset, g in loeo.groupby("sensor_set", sort=False):
        mean = _fold_means(g)
        print(f"  {sset}: {int(g.n.sum())} reps; peak MAE / bias ramp {mean['peak_mae_ramp']:.2f} / "
              f"{mean['peak_bias_ramp']:+.2f}, fall {mean['peak_mae_fall']:.2f} / "
              f"{mean['peak_bias_fall']:+.2f}; excursion ramp {mean['exc_mae_ramp']:.2f} / "
              f"{mean['exc_bias_ramp']:+.2f}, fall {mean['exc_mae_fall']:.2f} / {mean['exc_bias_fall']:+.2f}")


LEVELLED = {"pelvis levelled too": ("pelvis",)}
"""The candidate beside what ships (the analysis levels the legs' device orientation): the
pelvis's levelled too (cmu_real.run_trial_levelled's placements)."""


def _print_device_tilt(root, runs: list[cmu_real.TrialRun]) -> None:
    """The standing baseline's source (device orientation, accelerometer, ours) on still
    samples, and the pelvis's device orientation levelled as the legs' are (a candidate):
    the standing baseline, peaks left one exercise out with the ramp and the fall, and the
    other measures' peaks."""
    print("standing baseline on still heel-raise samples (median error vs the lab, deg; "
          "cmu_real.standing_sources):")
    _print(pd.concat([cmu_real.standing_sources(cmu_real.run_trial(root, "HeelRaise", "pelvis+thigh",
                                                                   leg))
                      for leg in ("right", "left")]).round(2))
    tilt = pd.concat([cmu_real.device_tilt_by_file(r) for r in runs if r.sensor_set == "pelvis+thigh"])
    print("levelling the device's orientation to its accelerometer turns it by (deg, per rep "
          "file, the segment's sagittal and frontal planes; cmu_real.device_tilt_by_file):")
    reps = tilt[~tilt.file.str.startswith("Pose")]
    _print(reps.groupby(["trial", "placement"], sort=False)[["sagittal", "frontal"]]
           .agg(["mean", "std"]).round(2).reset_index())
    pose = tilt[tilt.file.str.startswith("Pose")].groupby("placement").sagittal
    print(f"  Pose trial, sagittal: {pose.min().round(2).to_dict()} .. {pose.max().round(2).to_dict()}")
    for what, placements in LEVELLED.items():
        for leg in ("right", "left"):
            near = cmu_real.near_pose_errors(cmu_real.run_trial_levelled(
                root, "HeelRaise", "pelvis+thigh", leg, placements))
            print(f"  {what}, HeelRaise {leg}: pelvis tilt {near['pelvis']:+5.2f}  "
                  f"thigh inclination {near['thigh']:+5.2f}  ({near['samples']} samples)")
    variants = {"shipped": runs} | {
        what: [cmu_real.run_trial_levelled(root, r.trial, r.sensor_set, None, placements)
               for r in runs] for what, placements in LEVELLED.items()}
    for what, those in variants.items():
        for sset, g in cmu_real.sacral_fall_loeo(those).groupby("sensor_set", sort=False):
            m = _fold_means(g)
            print(f"  {what:14s} {sset}: LOEO hip flexion peak MAE ramp {m['peak_mae_ramp']:.2f} "
                  f"fall {m['peak_mae_fall']:.2f}; excursion ramp {m['exc_mae_ramp']:.2f} "
                  f"fall {m['exc_mae_fall']:.2f}; fall gain {m['gain']:.2f}")
        rows = [row for r in those for row in cmu_real.rep_rows(r)]
        t = cmu_real.table(rows, group=("sensor_set",))
        for _, r in t[t.measure.isin(["pelvic_drop_deg", "hip_adduction_deg"])].iterrows():
            print(f"  {what:14s} {r.sensor_set}: {r.measure} peak MAE {r.peak_mae:.2f} "
                  f"bias {r.peak_bias:+.2f}")
        if what != "shipped":
            print(f"{what} (the analysis's sacral excess as shipped):")
            for sensor_set, leg_frames in cmu_real.LEG_FRAMES.items():
                _print_terms(rows, sensor_set, leg_frames)

def _print_knee_estimates(runs: list[cmu_real.TrialRun]) -> None:
    """The thigh + pelvis knee model against the shank's knee, per exercise (cm)."""
    print("knee medial displacement (cm): thigh + pelvis model vs the shank (same analysis, full "
          "set); rep peak relative to standing, excursion from the rep's start, and the lab "
          "chain's peaks (knee vs hip, vs ankle; mean):")
    out = []
    for run in runs:
        knee = cmu_real.knee_estimates(run)
        if knee.empty:
            continue
        a = cmu_real.agreement(knee.thigh_model.to_numpy(float), knee.shank.to_numpy(float))
        e = cmu_real.agreement(knee.thigh_model_exc.to_numpy(float), knee.shank_exc.to_numpy(float))
        out.append({"trial": run.trial, "reps": a["n"],
                    "shank": f"{knee.shank.min():+.1f}..{knee.shank.max():+.1f}",
                    "thigh model": f"{knee.thigh_model.min():+.1f}..{knee.thigh_model.max():+.1f}",
                    "mae": a["mae"], "bias": a["bias"], "r": a["r"], "slope": a["slope"],
                    "exc shank": f"{knee.shank_exc.min():+.1f}..{knee.shank_exc.max():+.1f}",
                    "exc thigh": f"{knee.thigh_model_exc.min():+.1f}..{knee.thigh_model_exc.max():+.1f}",
                    "exc mae": e["mae"], "exc bias": e["bias"], "exc r": e["r"],
                    "lab vs hip": knee.lab_vs_hip.mean(), "lab vs ankle": knee.lab_vs_ankle.mean()})
    _print(pd.DataFrame(out).round(2))


def _print_terms(term_rows: list[cmu_real.RepRow], sensor_set: str, leg_frames: str) -> None:
    """The model-to-reality term of one sensor set (its leg-frame calibration) against the
    shipped one, and its leave-one-exercise-out coverage."""
    errors = cmu_real.peak_errors(term_rows, sensor_set)
    simulated = cmu_real.simulated_uncertainty([r for r in term_rows if r.sensor_set == sensor_set])
    shipped = MODEL_TO_REALITY[leg_frames]
    print(f"model-to-reality term ({cmu_real.QUANTILE:.0%} for an exercise not seen, trials "
          f"{', '.join(cmu_real.TERM_TRIALS)}, {sensor_set}: {leg_frames}) vs shipped:")
    for k, g in errors.groupby("measure"):
        if k in shipped and k in simulated:
            term = cmu_real.reality_term(g, simulated[k])
            print(f"  {SHORT[k]:8s} reps {len(g):3d}  term {term:6.2f}  shipped {shipped[k]:6.2f}")
    loeo = cmu_real.leave_one_exercise_out(errors, {k: v for k, v in simulated.items()
                                                    if k in shipped})
    print("leave-one-exercise-out coverage of the 90 % interval:")
    _print(loeo.assign(measure=lambda f: f.measure.map(SHORT)).round(2))
    total = loeo.groupby("measure")[["covered", "reps"]].sum()
    for k, r in total.iterrows():
        print(f"  {SHORT[k]:8s} {int(r.covered)}/{int(r.reps)} = {r.covered / r.reps:.0%}")
