"""The pelvis frame's heading on real data: the sacral skin normal against a squat's.

CMU-MBL SUB22 (see :mod:`benchmarks.cmu_real`; development trials only, never the
step-downs). The pelvis frame's heading comes from the sacral sensor's skin normal; a
heading error psi lets the pelvis's anterior tilt into its obliquity, so each sample's
pelvic-drop error would follow ``-side * sin(psi) * tilt`` (docs/accuracy.md). Two checks:

1. :func:`leak_slope`: per trial, the slope of the per-sample pelvic-drop error (ours
   minus the lab's, over the reps found) on our pelvis's anterior tilt, and the heading
   error it implies, ``asin(-side * slope)``. The strap is the same in every trial, so a
   heading leak gives the same psi in every trial, whichever leg stands.
2. :func:`squat_heading`: the double-leg squat ``SqDL`` tilts the pelvis forward on two
   feet, as the guided bends do; :func:`calibration.pelvis_heading.heading_from_bends`
   finds the pelvis's anterior axis in it (as a separate file, as ``--standing`` is), and
   :func:`run_with_heading` re-analyses a trial with the pelvis frame turned to it (the
   trial's own calibration otherwise, through ``analyze``'s session reuse).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import quat
from analysis.pipeline import StepDownPipeline, analysis_config
from benchmarks.cmu_real import (
    DEVELOPMENT,
    ENV,
    TrialRun,
    agreement,
    data_root,
    pelvis_tilt_deg,
    placement_arg,
    reference_measures,
    rep_rows,
    run_trial,
    standing_file,
    trial_dir,
)
from calibration.pelvis_heading import (
    BendsHeading,
    bend_means,
    heading_from_bends,
    tilt_components,
    turned_about_vertical,
)

SQUAT = "SqDL"
"""The double-leg squat the pelvis's heading is taken from."""
SET = "pelvis+thigh"


def _read(folder: Path, leg: str):
    from stepdown.commands.analyze import read_input

    return read_input(folder, placement_arg(SET, leg), leg)


def pelvis_vertical(root: Path, trial: str, leg: str) -> np.ndarray:
    """(N, 3) the world vertical in the pelvis frame's coordinates (the skin normal's, from
    the Pose trial as the standing) over a trial, analysed through the public path."""
    pipeline = StepDownPipeline(analysis_config(classify=False))
    result = pipeline.analyze(_read(trial_dir(root, trial), leg),
                              standing=_read(standing_file(root), leg))
    return quat.axis_of(quat.qconj(result.motion.get("pelvis", leg).q_facing_seg), 2)


def squat_heading(root: Path, leg: str) -> BendsHeading | None:
    """The pelvis's anterior axis from the double-leg squat, as a turn of the skin-normal
    frame (the squat's vertical taken in that frame's coordinates)."""
    return heading_from_bends(np.eye(3), pelvis_vertical(root, SQUAT, leg))


def run_with_heading(root: Path, run: TrialRun, psi_rad: float) -> TrialRun:
    """The trial analysed again with its pelvis frame turned by ``psi_rad`` about the
    vertical (:func:`calibration.pelvis_heading.turned_about_vertical`), every other frame
    its own."""
    pipeline = StepDownPipeline(analysis_config(classify=False))
    rec = _read(trial_dir(root, run.trial), run.leg)
    standing = _read(standing_file(root), run.leg)
    session = pipeline.session_calibration(rec, standing)
    pelvis = session.sensors["pelvis"]
    turned = replace(pelvis, R_sensor_seg=turned_about_vertical(pelvis.R_sensor_seg, psi_rad))
    session = replace(session, sensors={**session.sensors, "pelvis": turned})
    result = pipeline.analyze(rec, standing=standing, session=session)
    return replace(run, result=result, doc=result.to_json())


def leak_slope(run: TrialRun) -> dict[str, float]:
    """Per-sample pelvic-drop error (ours - lab, deg) over the reps found against our
    pelvis's anterior tilt (deg, relative to standing): its slope and r, the heading error
    it implies (deg) and the tilt's spread (deg)."""
    motion = run.result.motion
    tilt = pelvis_tilt_deg(motion.get("pelvis", run.leg).q_facing_seg)
    tilt -= tilt[motion.standing].mean()
    ours = run.result.series.series["pelvic_drop_deg"]
    x, e = [], []
    for ref, t, span in run.found_reps():
        lab = reference_measures(ref, run.pose, run.leg)["pelvic_drop_deg"][span]
        x.append(np.interp(t[span], motion.t, tilt))
        e.append(np.interp(t[span], run.result.series.t, ours) - lab)
    x, e = np.concatenate(x), np.concatenate(e)
    slope, _ = np.polyfit(x, e, 1)
    side = 1.0 if run.leg == "right" else -1.0
    return {"leak_slope": float(slope), "leak_r": float(np.corrcoef(x, e)[0, 1]),
            "implied_psi_deg": float(np.degrees(np.arcsin(np.clip(-side * slope, -1, 1)))),
            "tilt_sd_deg": float(np.std(x))}


def peak_pairs(run: TrialRun) -> tuple[np.ndarray, np.ndarray]:
    """Pelvic drop's rep peaks, ours and the lab's (deg), of the reps found."""
    rows = [r for r in rep_rows(run) if r.found and r.ours.get("pelvic_drop_deg") is not None]
    return (np.array([r.ours["pelvic_drop_deg"] for r in rows], dtype=float),
            np.array([r.ref["pelvic_drop_deg"] for r in rows], dtype=float))


def compare(root: Path, trials: tuple[str, ...]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per development trial, with the skin normal's heading and with the squat's: pelvic
    drop's peak agreement and its per-sample leak slope; and every rep's peak pair."""
    headings: dict[str, BendsHeading | None] = {}
    per_trial, peaks = [], []
    for trial in trials:
        run = run_trial(root, trial, SET)
        if run.result is None:
            continue
        if run.leg not in headings:
            headings[run.leg] = squat_heading(root, run.leg)
        h = headings[run.leg]
        versions = [("skin normal", run, 0.0)]
        if h is not None:
            versions.append((f"{SQUAT} bends", run_with_heading(root, run, h.psi_rad),
                             float(np.degrees(h.psi_rad))))
        for label, r, turn in versions:
            ours, lab = peak_pairs(r)
            per_trial.append({"trial": trial, "leg": run.leg, "heading": label,
                              "turn_deg": turn, **agreement(ours, lab), **leak_slope(r)})
            peaks.append(pd.DataFrame({"trial": trial, "heading": label, "ours": ours,
                                       "lab": lab}))
    return pd.DataFrame(per_trial), pd.concat(peaks, ignore_index=True)


DOUBLE_LEG = ("SqDL", "SqHalfDL", "SumoSq")


def per_bend_headings(root: Path, trial: str, leg: str = "right") -> list[float]:
    """Each rep's own heading (deg) of a double-leg trial (as :func:`squat_heading` pools):
    how steady the pelvis's tilt axis is from rep to rep."""
    a, b = bend_means(*tilt_components(np.eye(3), pelvis_vertical(root, trial, leg)))
    return [float(d) for d in np.degrees(np.arctan2(b, a))]


def run() -> None:
    root = data_root()
    if root is None:
        print(f"skipped: set {ENV} to a local clone of CMU-MBL/IMU_Exercise_Prediction")
        return
    for trial in DOUBLE_LEG:
        turns = per_bend_headings(root, trial)
        print(f"{trial}: each rep's pelvis tilt axis from the skin normal's: "
              f"{', '.join(f'{d:+.1f}' for d in turns)} deg")
    per_trial, peaks = compare(root, DEVELOPMENT)
    print(f"pelvic drop ({SET}), development trials, the pelvis heading from the skin normal "
          f"and from {SQUAT}; leak = per-sample error on the pelvis's tilt, and the heading "
          "error it implies:")
    with pd.option_context("display.width", 200, "display.max_columns", 30):
        print("  " + per_trial.round(3).to_string(index=False).replace("\n", "\n  "))
    for label, g in peaks.groupby("heading", sort=False):
        a = agreement(g.ours.to_numpy(float), g.lab.to_numpy(float))
        print(f"  pooled, {label}: {a['n']} reps, MAE {a['mae']:.2f}, bias {a['bias']:+.2f}, "
              f"r {a['r']:.2f}, slope {a['slope']:.2f} deg")
