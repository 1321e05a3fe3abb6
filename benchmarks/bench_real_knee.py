"""Real data: the knee without a shank, with the hip's shift measured, against the shank's knee.

On the CMU-MBL SUB22 development trials (:mod:`benchmarks.cmu_real`; never the held-out
step-downs) every rep is analysed with pelvis, thigh and shank sensors: the knee hinge
gives the thigh a frame free of the balance tilt (what the guided knee bends give it
without a shank), and the shank measures the knee against the foot.  From the same
analysis the knee is also computed without the shank, as the analysis does after the
guided bends: the thigh's long axis from the hip (the body model) plus the hip's
sideways shift over the foot that the pelvis sensor's acceleration measures
(:mod:`analysis.hip_shift`), and the body model alone (the hip taken as over the foot).

The dataset's rep files are cut around each rep: the pauses that anchor the hip's
integration are only the parts of a file before the rep's start and after its end
(``pause_s``: the longer of the two, median per trial); a rep with neither pause of
MIN_PAUSE_S gets no measured shift (``anchored`` counts the reps that get one).
Prints, per trial, the mean peak (cm) of each knee and the MAE and correlation of the
two shank-free knees against the shank's.  The dataset has no knee reference of its
own: the shank's knee is a second measurement, not truth.

What it showed (this branch, December 2026): the rep files hold 0.05-0.1 s of standing
around a rep, so no squat, step-up or split squat rep gets a measured shift (only the
lunge's files hold more, and a lunge steps: its pauses are no stance on a fixed foot);
the hip-shift method cannot be checked on this dataset, it needs recordings that run
on through the pauses between reps.  And the two knees disagree by 8-28 cm: the shank
reads 4-11 cm lateral on the squats, the thigh model 12-20 cm medial.  In deep knee
flexion the knee travels 20-30 cm forward of the ankle and the hip 10-20 cm behind the
knee: a few degrees of error in a leg segment's facing heading turn that travel into
centimetres sideways.  That, not the hip's shift, is the first error of both on real
people (docs/accuracy.md).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis import kinematics as kin
from analysis.hip_shift import MIN_PAUSE_S, hip_medial_shift_m
from analysis.measures import lowpass_pieces
from analysis.recording_pieces import data_pieces
from benchmarks import cmu_real
from sensor_io.errors import InputError

FULL = "full (+shank, trunk, wrist)"


def trial_reps(root, trial: str) -> list[dict]:
    """Per rep found in a rep file: peak knee (cm) from the shank, from the body model, and
    from the body model plus the measured hip shift; the pauses around it (s)."""
    from stepdown.commands.analyze import run_analysis

    files = cmu_real._rep_files(cmu_real.trial_dir(root, trial))
    leg = cmu_real.stance_leg([cmu_real.read_reference(cmu_real.reference_file(root, f))
                               for f in files])
    try:
        result = run_analysis(cmu_real.trial_dir(root, trial),
                              standing=cmu_real.standing_file(root),
                              placement=cmu_real.placement_arg(FULL, leg), test_leg=leg)
    except InputError as err:  # refused (as in bench_real): no reps to compare
        print(f"  {trial}: refused ({str(err).rsplit(': ', 1)[-1]})")
        return []
    motion, body, t = result.motion, result.body, result.motion.t
    thigh, pelvis = motion.get("thigh", leg), motion.get("pelvis", leg)
    model = kin.relative_to(kin.knee_medial_from_thigh_m(thigh.q_facing_seg, body.thigh_m, leg),
                            motion.standing)
    spans = [(r.start_s, r.end_s) for r in result.reps]
    shift = hip_medial_shift_m(t, pelvis.acc_facing, pelvis.q_facing_seg, -model,
                               motion.standing, spans, body, leg, pelvis.gap)
    pieces = data_pieces(motion, leg)  # filtered as the analysis filters its measures
    model_cm, with_shift_cm = (100.0 * lowpass_pieces(x, t, pieces) for x in (model, model + shift))
    shank_cm = result.series.series["knee_medial_cm"]
    rows = []
    for f in files:
        t_file = pd.read_csv(f, header=None, skiprows=3, usecols=[1]).iloc[:, 0].to_numpy()
        rep = next((r for r in result.reps if t_file[0] <= r.bottom_s <= t_file[-1]), None)
        if rep is None:
            continue
        m = (t >= rep.start_s) & (t <= rep.end_s)
        rows.append({"trial": trial, "shank": float(shank_cm[m].max()),
                     "model": float(model_cm[m].max()),
                     "model + hip shift": float(with_shift_cm[m].max()),
                     "pause_s": max(rep.start_s - t_file[0], t_file[-1] - rep.end_s)})
    return rows


def summary(rows: pd.DataFrame) -> pd.DataFrame:
    """Per trial: reps, median pause, mean peaks, and MAE / r of the shank-free knees
    against the shank's."""
    out = []
    for trial, g in rows.groupby("trial", sort=False):
        row = {"trial": trial, "reps": len(g), "pause_s": g.pause_s.median(),
               "anchored": int((g.pause_s >= MIN_PAUSE_S).sum()), "shank": g.shank.mean()}
        for k in ("model", "model + hip shift"):
            row[k] = g[k].mean()
            row[f"MAE {k}"] = (g[k] - g.shank).abs().mean()
            row[f"r {k}"] = np.corrcoef(g[k], g.shank)[0, 1] if len(g) > 2 else np.nan
        out.append(row)
    return pd.DataFrame(out)


def run() -> None:
    root = cmu_real.data_root()
    if root is None:
        print(f"skipped: set {cmu_real.ENV} to a clone of CMU-MBL/IMU_Exercise_Prediction")
        return
    rows = pd.DataFrame([r for trial in cmu_real.DEVELOPMENT for r in trial_reps(root, trial)])
    print("CMU SUB22 development trials, peak knee medial displacement (cm) per rep: the shank's "
          "against the thigh + pelvis knee with and without the hip's measured shift")
    with pd.option_context("display.width", 200):
        print("  " + summary(rows).round(2).to_string(index=False).replace("\n", "\n  "))
