"""Do the guided knee bends help the thigh on a real person? (issues 12 and 21)

CMU-MBL SUB22 (see :mod:`benchmarks.cmu_real`; development trials only, never the
step-downs, never the acceptance run). Without a shank the thigh's flexion axis comes from
the reps (the functional axis), where the leg's balance tilt can leak into it; the
product's fix is the guided movement, slow knee bends on both feet, whose axis the
calibration uses instead (``calibration.calibrate``, method "gravity+guided knee bends").
The dataset's double-leg squats (``SqDL``, ``SqHalfDL``, ``SumoSq``) are that movement on
the same sensors and straps as the single-leg trials:

1. :func:`bends_calibration` reads a squat recording (a trial, or one rep file) with the
   Pose trial as its standing and the whole recording named as the guided movement (the
   metadata the recorder writes), and calibrates it by the shipped path
   (:meth:`analysis.pipeline.StepDownPipeline.session_calibration`, whose
   ``calibrate(movement=...)`` takes the legs' axes from the bends window).
   :func:`squat_headings`: the test thigh's heading about its long axis, per squat trial and
   rep file, against the pooled ``SqDL`` one; :func:`trial_headings`: each single-leg
   trial's functional axis (pelvis + thigh) and knee-hinge axis (full set) against it.
   The Pose trial is every frame's standing, so the frames share their long axis and differ
   by their heading alone.
2. :func:`with_thigh_frame`: each development trial analysed again (pelvis + thigh) with
   the thigh's frame turned to a squat's heading
   (:func:`benchmarks.long_axis_heading.turned_to_heading`), every other frame its own;
   :func:`compare` prints hip adduction and flexion peaks against the lab, per trial and
   pooled, for each heading. A reuse of the trial's own frames, unturned, must give the
   shipped peaks (printed as a check).

Evidence only: nothing of the shipped analysis is decided here.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.pipeline import StepDownPipeline, analysis_config
from benchmarks.cmu_real import (
    DEVELOPMENT,
    DOUBLE_LEG_TRIALS,
    ENV,
    FULL_SET,
    TrialRun,
    agreement,
    data_root,
    placement_arg,
    read_reference,
    reference_file,
    reference_measures,
    rep_rows,
    run_trial,
    standing_file,
    trial_dir,
)
from benchmarks.long_axis_heading import long_axis_heading_deg, turned_to_heading
from calibration import Calibration
from calibration.calibrate import GUIDED_METHOD
from sensor_io.recording import CALIBRATION_MOVEMENT_KEY, KNEE_BENDS, Recording

SQUAT = "SqDL"
"""The double-leg squat whose pooled heading the others are read against."""
SET = "pelvis+thigh"
MEASURES = ("hip_adduction_deg", "hip_flexion_deg")
SHIPPED = "functional axis (shipped)"
CONTROL = "own frames reused"
HINGE = "knee hinge"


def _pipeline() -> StepDownPipeline:
    return StepDownPipeline(analysis_config(classify=False))


def _read(path: Path, sensor_set: str, leg: str) -> Recording:
    from stepdown.commands.analyze import read_input

    return read_input(path, placement_arg(sensor_set, leg), leg)


def as_bends(rec: Recording) -> Recording:
    """The recording with all of it named as the guided calibration movement (the metadata
    :data:`sensor_io.recording.CALIBRATION_MOVEMENT_KEY` the recorder writes around the
    bends), from its first sample to its last (s, its clock)."""
    t0 = min(float(s.t[0]) for s in rec.streams.values())
    t1 = max(float(s.t[-1]) for s in rec.streams.values())
    return replace(rec, extra={**rec.extra, CALIBRATION_MOVEMENT_KEY: {
        "kind": KNEE_BENDS, "window_s": [t0, t1]}})


def bends_calibration(root: Path, path: Path, leg: str, sensor_set: str = SET) -> Calibration:
    """The calibration of a double-leg squat recording read as the guided knee bends.

    Parameters
    ----------
    root : Path
        The clone (:func:`benchmarks.cmu_real.data_root`).
    path : Path
        A squat trial's folder, or one of its rep files.
    leg : str
        The test leg (its placements are read).
    sensor_set : str
        A key of :data:`benchmarks.cmu_real.SENSOR_SETS`.

    Returns
    -------
    Calibration
        Its frames (the Pose trial as the standing); ``movement`` says whether the bends
        were used, the thigh's ``method`` whether its axis came from them.
    """
    return _pipeline().session_calibration(as_bends(_read(path, sensor_set, leg)),
                                           _read(standing_file(root), sensor_set, leg))


def _thigh(cal: Calibration, leg: str):
    return cal.sensors[f"thigh_{leg}"]


def squat_headings(root: Path, leg: str, ref: np.ndarray,
                   trials: tuple[str, ...] = DOUBLE_LEG_TRIALS) -> pd.DataFrame:
    """Per squat trial, pooled over its reps (``file`` "all") and per rep file: the test
    thigh's heading against ``ref`` (deg, :func:`long_axis_heading_deg`), the axis's share of
    the rotation and its angle to the standing vertical (deg), whether it came from the
    bends, and how deep the squat was: the lab's peak hip flexion (deg from the Pose; "all":
    the mean over the reps)."""
    pose = read_reference(reference_file(root, standing_file(root))).mean()
    out = []
    for trial in trials:
        folder = trial_dir(root, trial)
        files = sorted(p for p in folder.iterdir() if p.suffix == ".csv")
        depth = {p.stem: float(np.max(reference_measures(
            read_reference(reference_file(root, p)), pose, leg)["hip_flexion_deg"]))
            for p in files}
        for name, path in [("all", folder)] + [(p.stem, p) for p in files]:
            thigh = _thigh(bends_calibration(root, path, leg), leg)
            out.append({"trial": trial, "file": name,
                        "heading_deg": long_axis_heading_deg(ref, thigh.R_sensor_seg),
                        "share": thigh.axis_share, "to_vertical_deg": thigh.axis_gravity_deg,
                        "from_bends": thigh.method.startswith(GUIDED_METHOD),
                        "lab_hip_flexion_deg": (np.mean(list(depth.values())) if name == "all"
                                                else depth[name])})
    return pd.DataFrame(out)


def knee_hinge_frame(root: Path, trial: str, leg: str) -> np.ndarray | None:
    """(3, 3) the test thigh's frame the full sensor set's calibration of a trial finds (the
    knee hinge where it holds, :mod:`calibration.joint_heading`), None when it refuses."""
    from sensor_io.errors import InputError

    try:
        cal = _pipeline().session_calibration(_read(trial_dir(root, trial), FULL_SET, leg),
                                              _read(standing_file(root), FULL_SET, leg))
    except InputError:
        return None
    thigh = _thigh(cal, leg)
    return thigh.R_sensor_seg if thigh.method.startswith("gravity+knee hinge") else None


def with_thigh_frame(root: Path, run: TrialRun, R_ref_sensor_seg: np.ndarray) -> TrialRun:
    """The trial analysed again with its test thigh's frame turned about its long axis to the
    heading of ``R_ref_sensor_seg`` (3, 3), every other frame and setting its own (the
    trial's calibration reused, as ``--calibration-from`` reuses a set's)."""
    placement = f"thigh_{run.leg}"
    session = turned_to_heading(run.result.calibration, placement, R_ref_sensor_seg)
    result = _pipeline().analyze(_read(trial_dir(root, run.trial), SET, run.leg),
                                 standing=_read(standing_file(root), SET, run.leg),
                                 session=session)
    return replace(run, result=result, doc=result.to_json())


def peak_pairs(run: TrialRun) -> pd.DataFrame:
    """Per rep found: hip adduction and flexion peaks, ours and the lab's (deg, relative to
    the Pose trial; :func:`benchmarks.cmu_real.rep_rows`); NaN where ours is not measured."""
    return pd.DataFrame([{"trial": run.trial, "file": r.file,
                          **{f"{k}_ours": np.nan if r.ours[k] is None else r.ours[k]
                             for k in MEASURES},
                          **{f"{k}_lab": r.ref[k] for k in MEASURES}}
                         for r in rep_rows(run) if r.found])


def _agreements(peaks: pd.DataFrame) -> dict[str, float]:
    out: dict[str, float] = {}
    for k in MEASURES:
        a = agreement(peaks[f"{k}_ours"].to_numpy(float), peaks[f"{k}_lab"].to_numpy(float))
        out |= {f"{k.removesuffix('_deg')}_{s}": a[s] for s in ("n", "mae", "bias", "r", "slope")}
    return out


def compare(root: Path, trials: tuple[str, ...] = DEVELOPMENT,
            squats: tuple[str, ...] = DOUBLE_LEG_TRIALS) -> dict[str, pd.DataFrame]:
    """Everything the benchmark prints (see the module docstring).

    Returns
    -------
    dict of str to DataFrame
        ``squats``: :func:`squat_headings` (per leg, against that leg's pooled ``SQUAT``);
        ``headings``: per trial, its functional axis's and knee hinge's heading against each
        squat's pooled one (deg); ``peaks``: every rep's peaks per heading version;
        ``agreement``: per trial and version, and pooled (``trial`` "pooled"), MAE / bias /
        r / slope (deg); ``implied``: :func:`implied_heading`; ``control``: per trial the
        largest difference (deg) between the shipped peaks and those with its own frames
        reused.
    """
    frames: dict[str, dict[str, np.ndarray]] = {}
    squat_rows, heading_rows, peaks, control = [], [], [], []
    for trial in trials:
        run = run_trial(root, trial, SET)
        if run.result is None:
            continue
        if run.leg not in frames:
            pooled = {s: _thigh(bends_calibration(root, trial_dir(root, s), run.leg),
                                run.leg).R_sensor_seg for s in squats}
            frames[run.leg] = pooled
            squat_rows.append(squat_headings(root, run.leg, pooled[SQUAT], squats)
                              .assign(leg=run.leg))
        own = _thigh(run.result.calibration, run.leg).R_sensor_seg
        hinge = knee_hinge_frame(root, trial, run.leg)
        heading_rows.append({"trial": trial, "leg": run.leg} | {
            f"{what} vs {s}": (np.nan if R is None else
                               long_axis_heading_deg(frames[run.leg][s], R))
            for what, R in (("functional", own), (HINGE, hinge)) for s in squats})
        versions = {SHIPPED: run, CONTROL: with_thigh_frame(root, run, own)}
        versions |= {f"{s} bends": with_thigh_frame(root, run, R)
                     for s, R in frames[run.leg].items()}
        if hinge is not None:
            versions[HINGE] = with_thigh_frame(root, run, hinge)
        for label, r in versions.items():
            peaks.append(peak_pairs(r).assign(version=label))
        a, b = peak_pairs(run), peak_pairs(versions[CONTROL])
        control.append({"trial": trial, "max_diff_deg": float(np.nanmax(np.abs(
            a.filter(like="_ours").to_numpy(float) - b.filter(like="_ours").to_numpy(float))))})
    peaks_df = pd.concat(peaks, ignore_index=True)
    rows = [{"trial": t, "version": v, **_agreements(g)}
            for (t, v), g in peaks_df.groupby(["trial", "version"], sort=False)]
    rows += [{"trial": "pooled", "version": v, **_agreements(g)}
             for v, g in peaks_df.groupby("version", sort=False)]
    return {"squats": pd.concat(squat_rows, ignore_index=True),
            "headings": pd.DataFrame(heading_rows), "peaks": peaks_df,
            "agreement": pd.DataFrame(rows), "control": pd.DataFrame(control),
            "implied": implied_heading(peaks_df, pd.DataFrame(heading_rows))}


def implied_heading(peaks: pd.DataFrame, headings: pd.DataFrame) -> pd.DataFrame:
    """Per trial, the thigh heading (deg against the pooled :data:`SQUAT`) at which our hip
    adduction peaks would agree with the lab's: each rep's error fitted by a line on the
    heading of the versions that measured it (the functional axis's, each squat's, the
    knee hinge's; a version turned past the plausible range leaves the rep out), its zero;
    the mean and sd over the trial's reps, the mean slope (deg of adduction per deg of
    heading) and the largest residual of a line. A strap error alone would imply the same
    heading in every trial (the straps taken as not moved between one session's trials)."""
    out = []
    for trial, g in peaks[peaks.version != CONTROL].groupby("trial", sort=False):
        h = headings.set_index("trial").loc[trial]
        at = {SHIPPED: h[f"functional vs {SQUAT}"], HINGE: h[f"{HINGE} vs {SQUAT}"]}
        at |= {v: h[f"functional vs {SQUAT}"] - h[f"functional vs {v.removesuffix(' bends')}"]
               for v in g.version.unique() if v.endswith(" bends")}
        zeros, slopes, residual = [], [], 0.0
        for _, rep in g.assign(x=g.version.map(at)).groupby("file"):
            e = rep.hip_adduction_deg_ours - rep.hip_adduction_deg_lab
            ok = np.isfinite(e.to_numpy(float)) & np.isfinite(rep.x.to_numpy(float))
            if ok.sum() < 2:
                continue
            x, y = rep.x.to_numpy(float)[ok], e.to_numpy(float)[ok]
            slope, icpt = np.polyfit(x, y, 1)
            zeros.append(-icpt / slope)
            slopes.append(slope)
            residual = max(residual, float(np.max(np.abs(y - (slope * x + icpt)))))
        out.append({"trial": trial, "reps": len(zeros),
                    "implied_heading_deg": float(np.mean(zeros)),
                    "sd_over_reps_deg": float(np.std(zeros, ddof=1)) if len(zeros) > 1 else np.nan,
                    "shipped_heading_deg": float(at[SHIPPED]), "slope": float(np.mean(slopes)),
                    "max_residual_deg": residual})
    return pd.DataFrame(out)


def _print(df: pd.DataFrame) -> None:
    with pd.option_context("display.width", 220, "display.max_columns", 40):
        print("  " + df.round(2).to_string(index=False).replace("\n", "\n  "))


def run() -> None:
    root = data_root()
    if root is None:
        print(f"skipped: set {ENV} to a local clone of CMU-MBL/IMU_Exercise_Prediction")
        return
    out = compare(root)
    squats = out["squats"]
    print(f"1. the test thigh's flexion-axis heading about its long axis from the double-leg "
          f"squats read as the guided bends (calibration's own path), deg against the pooled "
          f"{SQUAT}:")
    _print(squats)
    for (leg, trial), g in squats[squats.file != "all"].groupby(["leg", "trial"], sort=False):
        h = g.heading_deg
        print(f"  {leg} {trial}: per rep mean {h.mean():+.2f}, sd {h.std(ddof=1):.2f}, "
              f"range {h.min():+.2f}..{h.max():+.2f} deg ({len(h)} reps)")
    print("   each single-leg trial's own thigh axes, heading against each squat's pooled "
          "(deg; + the trial's axis turned positively about the thigh's long axis):")
    _print(out["headings"])
    print(f"2. hip peaks against the lab ({SET}), per trial and pooled, the thigh's heading as "
          "shipped and turned to each squat's (and to the full set's knee hinge):")
    _print(out["agreement"])
    print(f"   the heading (deg against {SQUAT}'s) at which each trial's hip adduction bias "
          "against the lab would vanish (a line through the versions above):")
    _print(out["implied"])
    print(f"   check: the trial's own frames reused unturned give the shipped peaks within "
          f"{out['control'].max_diff_deg.max():.2g} deg")
