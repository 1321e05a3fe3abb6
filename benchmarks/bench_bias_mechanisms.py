"""Are the small held-out biases of pelvic drop and hip flexion real? Large development batches.

The held-out batches (tests/conftest.py) hold 12-16 tests per sensor set, and a test's
reps share its athlete and its sensors' mounting: a batch's bias has the standard error
of a mean of 12-16 per-test errors, not of ~70 reps.  This benchmark measures each bias
on a batch of development tests large enough to tell a mechanism from a draw, and
decomposes the per-rep error with the simulator's truth:

- **pelvic drop** (pelvis + thigh + trunk, default world; pelvis + thigh with the guided
  bends in the shifted world): bias ± standard error over tests; the part of each rep's
  error that the pelvis frame alone gives (the true pelvis orientation seen through the
  estimated sensor-to-segment frame), against its prediction ``-side * psi * tilt``: the
  frame's heading error ``psi`` (the sacral strap tilted sideways, up to 5 deg; with
  the guided bends, what is left of it once fused with the bends' heading,
  :mod:`calibration.pelvis_heading`, beside the skin normal's alone) turns the pelvis's
  anterior tilt at the peak into obliquity; the standing window's choice; and what is
  left (orientation filter, peak picking);
- **hip flexion** (pelvis + thigh with the guided bends): bias ± standard error; the
  parts the thigh's and the pelvis's frames give; the thigh's soft-tissue rotation at
  the peak against the series' error there; the slope on the knees' turn in the bends;
- **knee medial displacement** (pelvis + thigh with the guided bends, shifted world):
  bias ± standard error and slope; the slope of each part of the error on the truth
  (the hip's measured sideways shift and, of it, the sacrum-to-hip lever's model; the
  same shift anchored in the pauses on the true hip path; the thigh's assumed length; the
  thigh's frame), with the simulated sensor errors and with ideal sensors;
  the thigh frame's error against the weight's drift to one foot in the bends.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
from scipy.spatial.transform import Rotation

from analysis import kinematics
from analysis.evaluation import match_reps
from analysis.hip_shift import hip_medial_shift_m, sacrum_to_hip_m
from analysis.pipeline import Analysis, analyze
from calibration.segment_frames import frame_from_normal
from simulator.single_test import Simulation, simulate_batch
from simulator.truth import side_sign, truth_series
from simulator.virtual_imu import MIRROR_SEGMENT, mounts, sacral_tissue

N_TESTS = 100
N_FLEXION_TESTS = 60
# development seeds: neither a training seed nor a held-out batch (tests/conftest.py)
DROP_SEED, DROP_SHIFTED_SEED, FLEXION_SEED, KNEE_SEED = 901, 902, 905, 906
SHIFTED = dict(sway_scale=1.6, limb_scale=(1.06, 0.94),
               rates_hz=dict.fromkeys(("pelvis", "thigh", "shank", "trunk", "wrist"), 60.0))


def _seen_through(sim: Simulation, analysis: Analysis, placement: str,
                  segment: str, skin: np.ndarray | None = None) -> np.ndarray:
    """(N, 3, 3) the true segment orientation (with ``skin``, (N, 3, 3) the skin site's
    rotation on it, else no soft tissue) seen through the estimated sensor-to-segment
    frame, on the simulator's 1 kHz grid."""
    error = sim.sensors[placement].R_seg_sensor @ analysis.calibration.sensors[placement].R_sensor_seg
    R = sim.kinematics.R[segment]
    return (R if skin is None else R @ skin) @ error


def _standing(sim: Simulation) -> np.ndarray:
    t = sim.kinematics.t
    return (t >= 0.3) & (t < sim.scenario.standing_s - 0.2)  # the truth's own window


def pelvic_drop_parts(sim: Simulation, analysis: Analysis) -> list[dict]:
    """Per matched rep: the pelvic-drop error (deg) and its parts (see module docstring)."""
    kin = sim.kinematics
    side = side_sign(kin.test_leg)
    grid, window = analysis.motion.t, analysis.motion.standing
    true = np.interp(grid, kin.t, truth_series(kin)["pelvic_drop_deg"])
    # the sacral skin's excess tilt (virtual_imu.sacral_tissue) turns about the pelvis's
    # true lateral axis, so the strap's heading error lets it into obliquity as it does the
    # bone's tilt (the analysis turns it back about the estimated axis, which does not)
    skin = sacral_tissue(kin.R["pelvis"])
    frame_only = np.interp(grid, kin.t, side * np.degrees(np.arcsin(np.clip(
        (_seen_through(sim, analysis, "pelvis", "pelvis", skin))[:, 2, 2], -1, 1))))
    frame_only -= frame_only[window].mean()
    sensor_pelvis = kin.R["pelvis"] @ skin
    tilt = np.interp(grid, kin.t, np.degrees(np.arcsin(np.clip(-sensor_pelvis[:, 2, 0], -1, 1))))
    tilt -= tilt[window].mean()
    R_cal = analysis.calibration.sensors["pelvis"].R_sensor_seg
    psi = _heading_error(sim, R_cal)
    # what the skin normal alone gave (with the guided bends the frame is turned from it)
    psi_normal = _heading_error(sim, frame_from_normal(R_cal[:, 1], -1.0).R_sensor_seg)
    measured = analysis.series.series["pelvic_drop_deg"]
    base_truth = truth_series(kin)["pelvic_drop_deg"][_standing(sim)].mean()
    rows = []
    for i, j in match_reps(analysis.reps, sim.truth["reps"]):
        rep, truth = analysis.reps[i], sim.truth["reps"][j]
        span = np.flatnonzero((grid >= rep.start_s) & (grid <= rep.end_s))
        k = span[np.argmax(measured[span])]
        rel_true = true[k] - true[window].mean()
        rows.append({
            "err": rep.measures.get("pelvic_drop_deg") - truth["measures"]["pelvic_drop_deg"],
            "window": base_truth - true[window].mean(),
            "frame": frame_only[k] - rel_true,
            "predicted": -side * np.sin(psi) * tilt[k],
            "psi_deg": np.degrees(psi), "psi_normal_deg": np.degrees(psi_normal),
            "tilt_deg": tilt[k],
            "series": measured[k] - rel_true})
    return rows


def _heading_error(sim: Simulation, R_sensor_seg: np.ndarray) -> float:
    """The estimated pelvis frame's lateral axis turned forward against the true one, rad."""
    error = sim.sensors["pelvis"].R_seg_sensor @ R_sensor_seg
    return float(np.arctan2(error[0, 2], error[2, 2]))


def _hip_flexion_deg(R_pelvis: np.ndarray, R_thigh: np.ndarray) -> np.ndarray:
    rel = np.einsum("nji,njk->nik", R_pelvis, R_thigh)
    return np.degrees(Rotation.from_matrix(rel).as_euler("ZXY")[:, 0])


def hip_flexion_parts(sim: Simulation, analysis: Analysis) -> list[dict]:
    """Per matched rep: the hip-flexion error (deg), the parts the thigh's and the
    pelvis's estimated frames give, the series' error at the measured peak and the
    thigh's soft-tissue rotation about its flexion axis there (deg)."""
    kin = sim.kinematics
    thigh = f"thigh_{kin.test_leg}"
    st = _standing(sim)
    flex = {
        "true": _hip_flexion_deg(kin.R["pelvis"], kin.R["thigh"]),
        "thigh_frame": _hip_flexion_deg(kin.R["pelvis"], _seen_through(sim, analysis, thigh, "thigh")),
        "pelvis_frame": _hip_flexion_deg(_seen_through(sim, analysis, "pelvis", "pelvis"), kin.R["thigh"]),
    }
    flex = {k: v - v[st].mean() for k, v in flex.items()}
    vs = sim.sensors[thigh]
    skin = np.einsum("nji,njk->nik", kin.R["thigh"], vs.R_global_sensor) @ vs.R_seg_sensor.T
    grid, window = analysis.motion.t, analysis.motion.standing
    tissue = np.interp(grid, kin.t, np.degrees(skin[:, 1, 0]))
    tissue -= tissue[window].mean()
    true = np.interp(grid, kin.t, flex["true"])
    measured = analysis.series.series["hip_flexion_deg"]
    rows = []
    for i, j in match_reps(analysis.reps, sim.truth["reps"]):
        rep, truth = analysis.reps[i], sim.truth["reps"][j]
        m = (kin.t >= truth["start_s"]) & (kin.t <= truth["end_s"])
        span = np.flatnonzero((grid >= rep.start_s) & (grid <= rep.end_s))
        k = span[np.argmax(measured[span])]
        rows.append({
            "err": rep.measures.get("hip_flexion_deg") - truth["measures"]["hip_flexion_deg"],
            "thigh_frame": flex["thigh_frame"][m].max() - flex["true"][m].max(),
            "pelvis_frame": flex["pelvis_frame"][m].max() - flex["true"][m].max(),
            "series": measured[k] - (true[k] - true[window].mean()),
            "tissue": tissue[k],
            "bends_valgus_deg": sim.truth["calibration_movement"]["valgus_deg"]})
    return rows


def knee_parts(sim: Simulation, analysis: Analysis) -> list[dict]:
    """Per matched rep: the knee error (cm) and its parts at the measured peak: the hip's
    measured sideways shift, the thigh's assumed length and the thigh's frame (the knee
    relative to the hip), and the weight's drift in the bends (cm)."""
    kin, body = sim.kinematics, analysis.body
    side = side_sign(kin.test_leg)
    grid, window = analysis.motion.t, analysis.motion.standing

    def on_grid(x: np.ndarray) -> np.ndarray:
        y = np.interp(grid, kin.t, x)
        return y - y[window].mean()

    hip_true = on_grid(side * (kin.p["thigh"][:, 1] - kin.p["shank"][:, 1]))  # hip over the ankle
    # the sacral sensor-to-hip lever: Bell's regression (the analysis) against the simulator's mount
    flip = MIRROR_SEGMENT if kin.test_leg == "left" else np.eye(3)
    sensor = kin.p["pelvis"] + kin.R["pelvis"] @ (flip @ mounts(sim.body)["pelvis"].pos_m)
    lever_err = on_grid(side * (kin.R["pelvis"] @ sacrum_to_hip_m(body, kin.test_leg))[:, 1]
                        - side * (kin.p["thigh"] - sensor)[:, 1])
    knee_true = on_grid(kin.knee_medial_m)
    thigh_true = knee_true - hip_true
    pelvis = analysis.motion.get("pelvis", kin.test_leg)
    thigh = analysis.motion.get("thigh", kin.test_leg)
    from_thigh = kinematics.knee_medial_from_thigh_m(thigh.q_facing_seg, body.thigh_m, kin.test_leg)
    from_thigh = from_thigh - from_thigh[window].mean()

    def hip_shift(hip_over_knee: np.ndarray) -> np.ndarray:
        h = hip_medial_shift_m(grid, pelvis.acc_facing, pelvis.q_facing_seg, hip_over_knee, window,
                               [(r.start_s, r.end_s) for r in analysis.reps], body,
                               kin.test_leg, pelvis.gap)
        return h - h[window].mean()

    hip = hip_shift(-from_thigh)
    # the same anchored in the pauses on the true hip path instead of the thigh's pendulum
    hip_true_anchor = hip_shift(hip_true * body.thigh_m / (body.thigh_m + body.shank_m))
    measured = analysis.series.series["knee_medial_cm"]
    length_share = body.thigh_m / sim.body.thigh_m - 1.0
    rows = []
    for i, j in match_reps(analysis.reps, sim.truth["reps"]):
        rep, truth = analysis.reps[i], sim.truth["reps"][j]
        span = np.flatnonzero((grid >= rep.start_s) & (grid <= rep.end_s))
        k = span[np.argmax(measured[span])]
        err = rep.measures.get("knee_medial_cm") - truth["measures"]["knee_medial_cm"]
        hip_err, thigh_err = 100 * (hip[k] - hip_true[k]), 100 * (from_thigh[k] - thigh_true[k])
        length = 100 * length_share * thigh_true[k]
        rows.append({"err": err, "truth": truth["measures"]["knee_medial_cm"],
                     "hip_shift": hip_err, "of_it_lever": 100 * lever_err[k],
                     "hip_shift_true_anchor": 100 * (hip_true_anchor[k] - hip_true[k]),
                     "thigh_length": length,
                     "thigh_frame": thigh_err - length, "rest": err - hip_err - thigh_err,
                     "bends_drift_cm": sim.truth["calibration_movement"]["shift_cm"]})
    return rows


def collect(sims: Iterable[Simulation], parts) -> pd.DataFrame:
    """``parts(sim, analysis)`` rows of every test, each row tagged with its test."""
    rows = []
    for n, sim in enumerate(sims):
        rows += [dict(r, test=n) for r in parts(sim, analyze(sim.recording, classify=False))]
    return pd.DataFrame(rows)


def per_test_summary(rows: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    """Per column: mean over tests ± its standard error, and the sd of the test means."""
    means = rows.groupby("test")[list(columns)].mean()
    n = len(means)
    return pd.DataFrame({"mean": means.mean(), "se": means.std() / np.sqrt(n),
                         "sd_of_tests": means.std(), "tests": n})


def _print_drop(title: str, rows: pd.DataFrame) -> None:
    print(f"\n{title}: {rows.test.nunique()} tests, {len(rows)} reps, MAE "
          f"{rows.err.abs().mean():.3f} deg, rep bias {rows.err.mean():+.3f} deg")
    print(per_test_summary(rows, ("err", "window", "frame", "series")).round(3).to_string())
    r = np.corrcoef(rows.frame, rows.predicted)[0, 1]
    slope = np.polyfit(rows.predicted, rows.frame, 1)[0]
    print(f"frame part vs -side*sin(psi)*tilt: r {r:.3f}, slope {slope:.3f}, residual sd "
          f"{(rows.frame - rows.predicted).std():.3f} deg; psi sd "
          f"{rows.groupby('test').psi_deg.first().std():.2f} deg (the skin normal alone "
          f"{rows.groupby('test').psi_normal_deg.first().std():.2f} deg), anterior tilt at the peak "
          f"{rows.tilt_deg.mean():.1f} ± {rows.tilt_deg.std():.1f} deg")


def run() -> None:
    sets = (("pelvis", "thigh", "trunk"),)
    _print_drop("Pelvic drop, pelvis+thigh+trunk, default world (seed 901)", collect(
        simulate_batch(N_TESTS, seed=DROP_SEED, sensor_sets=sets), pelvic_drop_parts))
    guided = dict(sensor_sets=(("pelvis", "thigh"),), calibration_movement=True)
    _print_drop("Pelvic drop, pelvis+thigh, guided bends, shifted world (seed 902)", collect(
        simulate_batch(N_TESTS, seed=DROP_SHIFTED_SEED, **guided, **SHIFTED), pelvic_drop_parts))
    rows = collect(simulate_batch(N_FLEXION_TESTS, seed=FLEXION_SEED, **guided), hip_flexion_parts)
    print(f"\nHip flexion, pelvis+thigh, guided bends (seed 905): {rows.test.nunique()} tests, "
          f"{len(rows)} reps, MAE {rows.err.abs().mean():.3f} deg, rep bias {rows.err.mean():+.3f} deg")
    parts = ("err", "thigh_frame", "pelvis_frame", "series", "tissue")
    print(per_test_summary(rows, parts).round(3).to_string())
    print(f"series error vs thigh soft tissue at the peak: r "
          f"{np.corrcoef(rows.series, rows.tissue)[0, 1]:.2f}; "
          f"error per degree of the knees' turn in the bends: "
          f"{np.polyfit(rows.bends_valgus_deg, rows.err, 1)[0]:+.3f} deg/deg "
          f"(r {np.corrcoef(rows.bends_valgus_deg, rows.err)[0, 1]:.2f})")
    for sensors, ideal in (("simulated sensor errors", False), ("ideal sensors", True)):
        rows = collect(simulate_batch(N_FLEXION_TESTS, seed=KNEE_SEED, ideal_sensors=ideal,
                                      **guided, **SHIFTED), knee_parts)
        slope = np.polyfit(rows.truth, rows.truth + rows.err, 1)[0]
        print(f"\nKnee, pelvis+thigh, guided bends, shifted world, {sensors} (seed 906): "
              f"{rows.test.nunique()} tests, {len(rows)} reps, MAE {rows.err.abs().mean():.3f} cm, "
              f"rep bias {rows.err.mean():+.3f} cm, slope {slope:.3f}")
        parts = ("err", "hip_shift", "of_it_lever", "hip_shift_true_anchor", "thigh_length",
                 "thigh_frame", "rest")
        table = per_test_summary(rows, parts)
        table["slope_on_truth"] = [np.polyfit(rows.truth, rows[c], 1)[0] for c in parts]
        print(table.round(3).to_string())
        print(f"thigh frame's part per cm of the weight's drift in the bends: "
              f"{np.polyfit(rows.bends_drift_cm, rows.thigh_frame, 1)[0]:+.3f} cm/cm "
              f"(r {np.corrcoef(rows.bends_drift_cm, rows.thigh_frame)[0, 1]:.2f})")
