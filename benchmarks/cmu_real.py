"""Real recordings: the CMU-MBL exercise dataset (Xsens, per-rep CSV) against its lab reference.

Data: a local clone of the public GitHub repository CMU-MBL/IMU_Exercise_Prediction
(subject SUB22; V. Phan et al., "Seven Things to Know about Exercise Classification
with Inertial Sensing Wearables", IEEE JBHI 28(6), 2024, doi:10.1109/JBHI.2024.3368042),
named by the environment variable ``STEPDOWN_CMU_DATA``. The dataset has no licence:
it is read from the clone and nothing of it is copied anywhere. 10 Xsens MTw at 100 Hz;
one CSV per rep; a 1.45 s static ``Pose`` trial; reference joint angles per rep (a
model-based lab pipeline; same rows as the IMU file).

Every trial goes through the public path (:func:`stepdown.commands.analyze.run_analysis`:
the Xsens import, ``--placement``, ``--standing`` the Pose trial), then each rep file is
matched to the rep found inside it and compared with the reference, relative to the
reference's own Pose values:

- hip flexion = HipAngle X; hip adduction = HipAngle Y (right), -Y (left); hip internal
  rotation = HipAngle Z (right), -Z (left); pelvic drop = the elevation of the pelvis's
  mediolateral axis (:func:`pelvis_obliquity_deg`), + for a right stance leg, - for a
  left one (the swing side lower). These conventions are the dataset's as they show on
  the development trials (a right single-leg squat adducts the right hip: +Y), fixed
  once, the same for every trial.
- the test (stance) leg of a trial is the one whose reference knee flexes most.

``HELD_OUT`` (the step-downs) is the acceptance set: excluded unless asked for.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.spatial.transform import Rotation

from analysis import quat
from analysis.orientation import levelled_device
from analysis.soft_tissue import (
    SACRAL_EXCESS_DEG,
    SACRAL_FALL_FROM_DEG,
    SACRAL_FALL_PER_DEG,
    SACRAL_RAMP_DEG,
    pelvis_tilt_rad,
    sacral_excess_deg,
    thigh_inclination_rad,
    without_sacral_excess,
)
from calibration.standing import time_slice
from sensor_io.errors import InputError

ENV = "STEPDOWN_CMU_DATA"
SUBJECT = "SUB22"
DEVELOPMENT = ("SqSL", "SqHalfSL", "Lunge", "BulgSq", "DeclineSq", "SpainSq", "StepUpH",
               "StepUpL")
HELD_OUT = ("StepDnH", "StepDnL")
SENSORS = {"Pelvis": "pelvis", "{Side}Thigh": "thigh_{side}", "{Side}Shank": "shank_{side}",
           "Chest": "trunk", "{Side}Wrist": "wrist_{side}"}
FULL_SET = "full (+shank, trunk, wrist)"
SENSOR_SETS = {"pelvis+thigh": ("Pelvis", "{Side}Thigh"),
               FULL_SET: tuple(SENSORS)}
LEG_FRAMES = {"pelvis+thigh": "functional axis", FULL_SET: "knee hinge"}
"""The leg-frame calibration each sensor set gets (``analysis.validation.MODEL_TO_REALITY``'s
keys): the knee hinge needs a shank."""
REF_COLUMNS = ("LeftAnkle X", "LeftAnkle Y", "LeftAnkle Z", "LeftHip X", "LeftHip Y",
               "LeftHip Z", "LeftKnee X", "Pelvis X", "Pelvis Y", "Pelvis Z", "RightAnkle X",
               "RightAnkle Y", "RightAnkle Z", "RightHip X", "RightHip Y", "RightHip Z",
               "RightKnee X")
COMPARED = ("hip_flexion_deg", "hip_adduction_deg", "hip_internal_rotation_deg",
            "pelvic_drop_deg")


def data_root() -> Path | None:
    """The clone's folder from STEPDOWN_CMU_DATA, or None when unset or absent."""
    value = os.environ.get(ENV)
    if not value:
        return None
    root = Path(value)
    return root if (root / "data" / "parsed_h5_csv" / SUBJECT).is_dir() else None


def trial_dir(root: Path, trial: str) -> Path:
    return root / "data" / "parsed_h5_csv" / SUBJECT / trial


def standing_file(root: Path) -> Path:
    return trial_dir(root, "Pose") / "Pose_01_rep1.csv"


def read_reference(path: Path) -> pd.DataFrame:
    """One reference file: the REF_COLUMNS in degrees, one row per IMU sample, with its
    Euler-wrap glitches repaired (:func:`repair_wraps`)."""
    table = pd.read_csv(path, header=None, skiprows=3, index_col=0)
    if table.shape[1] != len(REF_COLUMNS):
        raise ValueError(f"{path}: {table.shape[1]} reference columns, expected {len(REF_COLUMNS)}")
    table.columns = list(REF_COLUMNS)
    return repair_wraps(table)


WRAP_STEP_DEG = 20.0
"""A step between two reference samples (10 ms) larger than this is not movement (2000°/s;
the pelvis turns at most a few hundred °/s in the development trials' jumps and cuts)."""


def repair_wraps(table: pd.DataFrame) -> pd.DataFrame:
    """The reference angles (deg) with their smoothed ±180° wraps taken out.

    The reference's pelvis heading angle (Pelvis Z) sweeps 185 -> 29 -> -185° within
    0.1 s where the athlete faces that way (the step-ups): an Euler angle filtered across
    its wrap, so the samples between the two sides are neither, and the heading-free
    pelvic obliquity read up to 20° of drop there. Each run of steps above
    :data:`WRAP_STEP_DEG` whose net change is a whole number of turns is removed: the
    samples after it shifted back by those turns, the samples inside interpolated."""
    out = table.copy()
    for col in out.columns:
        x = out[col].to_numpy(dtype=float).copy()
        fast = np.abs(np.diff(x)) > WRAP_STEP_DEG
        i = 0
        while i < len(fast):
            if not fast[i]:
                i += 1
                continue
            j = i
            while j < len(fast) and fast[j]:
                j += 1
            turns = round((x[j] - x[i]) / 360.0)  # samples i (before) and j (after the run)
            if turns:
                # the filter's smoothing spreads the wrap beyond the fast run by about as
                # many samples again on each side
                lo, hi = max(i - (j - i), 0), min(j + (j - i), len(x) - 1)
                x[j:] -= 360.0 * turns
                x[lo + 1:hi] = np.interp(np.arange(lo + 1, hi), [lo, hi], [x[lo], x[hi]])
            i = j
        out[col] = x
    return out


def reference_file(root: Path, rep_file: Path) -> Path:
    return (root / "data" / "parsed_joint_angles_all" / SUBJECT / rep_file.parent.name
            / rep_file.name)


def pelvis_obliquity_deg(ref: pd.DataFrame) -> np.ndarray:
    """(N,) deg: elevation of the pelvis's mediolateral axis from the reference's pelvis
    angles, heading-free. The pelvis angles are global Euler angles (extrinsic X-Y-Z, y up,
    the mediolateral axis the pelvis's x): their Y alone mixes forward tilt into obliquity
    once the athlete faces another way than in the Pose trial (the CMU sets turn by 90°
    and 180°). Found on the development trials as the reading that is the same whichever
    way the athlete faces."""
    angles = ref[["Pelvis X", "Pelvis Y", "Pelvis Z"]].to_numpy(dtype=float).reshape(-1, 3)
    ml = Rotation.from_euler("XYZ", angles, degrees=True).apply([1.0, 0.0, 0.0])
    return np.degrees(np.arcsin(np.clip(ml[:, 1], -1.0, 1.0)))


def reference_measures(ref: pd.DataFrame, pose: pd.Series, leg: str) -> dict[str, np.ndarray]:
    """The compared measures' reference series (deg), relative to the Pose values."""
    side, sign = ("Right", 1.0) if leg == "right" else ("Left", -1.0)
    rel = ref - pose
    obliquity = pelvis_obliquity_deg(ref) - pelvis_obliquity_deg(pose.to_frame().T)[0]
    return {"hip_flexion_deg": rel[f"{side}Hip X"].to_numpy(),
            "hip_adduction_deg": sign * rel[f"{side}Hip Y"].to_numpy(),
            "hip_internal_rotation_deg": sign * rel[f"{side}Hip Z"].to_numpy(),
            "pelvic_drop_deg": sign * obliquity}


def stance_leg(refs: list[pd.DataFrame]) -> str:
    """The leg whose reference knee flexion spans more over the trial's reps."""
    span = {leg: sum(float(r[f"{leg.title()}Knee X"].max() - r[f"{leg.title()}Knee X"].min())
                     for r in refs) for leg in ("left", "right")}
    return max(span, key=span.get)


def placement_arg(sensor_set: str, leg: str) -> str:
    side = leg.title()
    return ",".join(f"{name.format(Side=side)}={SENSORS[name].format(side=leg)}"
                    for name in SENSOR_SETS[sensor_set])


@dataclass
class RepRow:
    """One rep file against the rep found in it."""

    trial: str
    sensor_set: str
    file: str
    found: bool
    start_err_s: float
    end_err_s: float
    ours: dict[str, float | None]
    ref: dict[str, float]
    ours_exc: dict[str, float | None]
    ref_exc: dict[str, float]
    bound: dict[str, float]
    items: dict[str, int | None]
    not_measured: dict[str, str]
    refused: str = ""
    simulated: dict[str, float] = field(default_factory=dict)  # the analysis' simulated part


def _rep_files(folder: Path) -> list[Path]:
    files = [p for p in folder.iterdir() if p.suffix == ".csv"]
    return sorted(files, key=lambda p: float(pd.read_csv(p, header=None, skiprows=3,
                                                         nrows=1).iloc[0, 1]))


@dataclass
class TrialRun:
    """One trial analysed through the CLI path, with what it is compared against: the
    rep files (in time order), their reference tables, the reference's Pose values, the
    test leg. ``result`` is the :class:`analysis.pipeline.Analysis` (None when refused,
    ``refused`` then says why)."""

    trial: str
    sensor_set: str
    leg: str
    files: list[Path]
    refs: list[pd.DataFrame]
    pose: pd.Series
    result: Any = None
    refused: str = ""
    doc: dict = field(default_factory=dict)  # result.to_json(), made once

    def file_times(self, i: int) -> np.ndarray:
        """(N,) s: the common-clock times of rep file ``i``'s samples (its Time column)."""
        return pd.read_csv(self.files[i], header=None, skiprows=3, usecols=[1]).iloc[:, 0].to_numpy()

    def file_span(self, t: np.ndarray) -> np.ndarray:
        """(N,) bool on the analysis grid: the samples of the file sampled at ``t`` that hold
        data (inside a data piece, :func:`analysis.recording_pieces.data_pieces`; a grid
        sample a rounding error outside the file lies in the gap and holds a stand-in)."""
        g = self.result.series.t
        return (g >= t[0] - 1e-6) & (g <= t[-1] + 1e-6) & self.with_data

    @cached_property
    def with_data(self) -> np.ndarray:
        """(N,) bool on the analysis grid: inside a data piece."""
        mask = np.zeros(len(self.result.motion.t), dtype=bool)
        for piece in self.pieces:
            mask[piece] = True
        return mask

    @cached_property
    def pieces(self) -> list[slice]:
        """The analysis's data pieces (slices of the grid), as its measures were filtered."""
        from analysis.recording_pieces import data_pieces

        return data_pieces(self.result.motion, self.leg)

    def rep_in(self, t: np.ndarray) -> dict | None:
        """The first rep found whose bottom lies inside the file sampled at ``t``."""
        inside = [r for r in self.doc["reps"]
                  if t[0] - 0.01 <= r["bottom_s"] <= t[-1] + 0.01]
        return inside[0] if inside else None

    def found_reps(self) -> Iterator[tuple[pd.DataFrame, np.ndarray, np.ndarray]]:
        """Per rep file whose rep is found: its reference table, its samples' times (s) and
        which of them lie within the rep found (bool)."""
        for i, ref in enumerate(self.refs):
            t = self.file_times(i)
            rep = self.rep_in(t)
            if rep is not None:
                yield ref, t, (t >= rep["start_s"]) & (t <= rep["end_s"])


def run_trial(root: Path, trial: str, sensor_set: str, leg: str | None = None) -> TrialRun:
    """Analyse one trial through the CLI path (``--placement``, ``--standing`` the Pose
    trial); ``leg`` the test leg (default the trial's stance leg, :func:`stance_leg`)."""
    from stepdown.commands.analyze import run_analysis

    files = _rep_files(trial_dir(root, trial))
    refs = [read_reference(reference_file(root, f)) for f in files]
    pose = read_reference(reference_file(root, standing_file(root))).mean()
    run = TrialRun(trial, sensor_set, leg or stance_leg(refs), files, refs, pose)
    try:
        run.result = run_analysis(trial_dir(root, trial), standing=standing_file(root),
                                  placement=placement_arg(sensor_set, run.leg), test_leg=run.leg)
        run.doc = run.result.to_json()
    except InputError as err:  # a refusal is a result too: every file counts as not found
        run.refused = str(err).rsplit(": ", 1)[-1]
    return run


def analyse_trial(root: Path, trial: str, sensor_set: str, leg: str | None = None
                  ) -> list[RepRow]:
    """Analyse one trial through the CLI path and compare every rep file with its reference
    (:func:`run_trial`, :func:`rep_rows`)."""
    return rep_rows(run_trial(root, trial, sensor_set, leg))


def rep_rows(run: TrialRun) -> list[RepRow]:
    """Every rep file of an analysed trial against the rep found inside it."""
    if run.result is None:
        return [RepRow(run.trial, run.sensor_set, f.name, False, np.nan, np.nan,
                       dict.fromkeys(COMPARED), {}, dict.fromkeys(COMPARED), {}, {}, {}, {},
                       refused=run.refused) for f in run.files]
    doc = run.doc
    series = run.result.series
    bounds = doc["uncertainty"]["measures"]
    rows = []
    for i, (f, ref) in enumerate(zip(run.files, run.refs, strict=True)):
        t = run.file_times(i)
        rep = run.rep_in(t)
        ref_m = reference_measures(ref, run.pose, run.leg)
        # the reference's peak over the samples of the rep found (ours is its peak there):
        # where the rep found holds less than the file (a foot that steps or lands), the
        # file's other movement is not compared
        span = (t >= rep["start_s"] - 0.005) & (t <= rep["end_s"] + 0.005) if rep else t == t
        ours, ours_exc = {}, {}
        m = run.file_span(t)
        for k in COMPARED:
            value = None if rep is None else rep["measures"].get(k)
            ours[k] = value
            s = series.series.get(k)
            if rep is None or value is None or s is None:
                ours_exc[k] = None
                continue
            ours_exc[k] = float(np.max(s[m]) - s[m][0]) if m.any() else None
        # the reference's excursion from the same instant as ours (the first grid sample
        # with data in the file, which can lie a sample after the file's first)
        t0 = series.t[m][0] if m.any() else t[0]
        rows.append(RepRow(
            run.trial, run.sensor_set, f.name, rep is not None,
            np.nan if rep is None else rep["start_s"] - t[0],
            np.nan if rep is None else rep["end_s"] - t[-1], ours,
            {k: float(np.max(v[span] if span.any() else v)) for k, v in ref_m.items()}, ours_exc,
            {k: float(np.max(v) - np.interp(t0, t, v)) for k, v in ref_m.items()},
            {k: bounds[k] for k in COMPARED if k in bounds},
            {} if rep is None else dict(rep["items"]),
            {} if rep is None else dict(rep.get("not_measured", {})),
            simulated=dict(doc["uncertainty"].get("simulated", {}))))
    return rows


def pelvis_tilt_deg(q_facing_pelvis: np.ndarray) -> np.ndarray:
    """(N,) deg: the pelvis's anterior tilt in its own sagittal plane (the anterior axis
    below horizontal, + forward), heading-free; from (N, 4) facing-frame orientations."""
    return np.degrees(pelvis_tilt_rad(q_facing_pelvis))


def thigh_inclination_deg(q_facing_thigh: np.ndarray) -> np.ndarray:
    """(N,) deg: the thigh's forward inclination in its own sagittal plane (the knee end
    forward, +), heading-free; hip flexion is about this plus the pelvis's tilt."""
    return np.degrees(thigh_inclination_rad(q_facing_thigh))


def reference_pelvis_tilt_deg(ref: pd.DataFrame) -> np.ndarray:
    """(N,) deg: the reference pelvis's anterior tilt, heading-free: its frame has x
    mediolateral, y anteroposterior, z superior in a lab frame with y up (read off the
    Pose trial: z within 13° of up, y 13° below horizontal, growing in a squat)."""
    angles = ref[["Pelvis X", "Pelvis Y", "Pelvis Z"]].to_numpy(dtype=float).reshape(-1, 3)
    rot = Rotation.from_euler("XYZ", angles, degrees=True)
    ap, up = rot.apply([0.0, 1.0, 0.0]), rot.apply([0.0, 0.0, 1.0])
    return np.degrees(np.arctan2(-ap[:, 1], up[:, 1]))


def _tilts(run: TrialRun, sacral: bool = False) -> np.ndarray:
    """(N, 2) deg on the analysis grid: the pelvis's tilt and the test thigh's inclination,
    low-passed as the measures are, relative to the standing window. The pelvis as its
    sensor reads it, or (``sacral``) with the excess the analysis took out
    (its ``sacral_excess_deg``, :mod:`analysis.soft_tissue`)."""
    from analysis.measures import lowpass_pieces

    motion = run.result.motion
    q_pelvis = motion.get("pelvis", run.leg).q_facing_seg
    if sacral:
        q_pelvis = without_sacral_excess(q_pelvis, motion.standing, _sacral_gain(run),
                                         motion.get("thigh", run.leg).q_facing_seg)
    ours = lowpass_pieces(np.column_stack([
        pelvis_tilt_deg(q_pelvis),
        thigh_inclination_deg(motion.get("thigh", run.leg).q_facing_seg)]), motion.t, run.pieces)
    return ours - ours[motion.standing].mean(axis=0)


def _sacral_gain(run: TrialRun) -> float:
    """The sacral excess (deg) the run's analysis took out of its pelvis."""
    return float(run.doc["config"].get("sacral_excess_deg", 0.0))


NEAR_POSE_DEG = 5.0
"""A sample is near the standing pose when the reference's hip flexion and pelvic tilt are
both within this of their Pose values."""


def hip_flexion_parts(run: TrialRun) -> pd.DataFrame:
    """Why our hip flexion differs from the reference's, per rep file (deg, ours - reference,
    both relative to the Pose trial): hip flexion is about the thigh's forward inclination
    plus the pelvis's anterior tilt, so its error splits into

    - ``pelvis``: the sacrum sensor's tilt, less the excess the analysis takes out of it
      (``sacral``, :mod:`analysis.soft_tissue`), against the reference pelvis's,
    - ``thigh``: the thigh's inclination against the reference's (hip flexion - pelvis tilt),
    - ``rest``: what the two do not explain (the peak's timing, the joint angle against two
      plane angles),

    at the reference's deepest sample of the rep found (``peak_error`` = pelvis + thigh +
    rest), and ``pelvis_upright``/``thigh_upright`` at its least flexed sample. With
    :func:`near_pose_errors` (the standing baseline) this says which part is ours.

    The excursion's error (peak less the value at the file's start, :func:`rep_rows`) is
    ``peak_error - start_error``: ``start_error`` = ``pelvis_start`` + ``thigh_start`` + rest at
    the file's first sample with data, where ``sensor_tilt_start`` is how far up the sacral
    model's ramp the sensor already is and ``sacral_start`` the excess taken out there."""
    if run.result is None:
        return pd.DataFrame()
    motion, ours, sensor = run.result.motion, _tilts(run, sacral=True), _tilts(run)
    pose_tilt = reference_pelvis_tilt_deg(run.pose.to_frame().T)[0]
    out = []
    for i, (f, ref) in enumerate(zip(run.files, run.refs, strict=True)):
        t = run.file_times(i)
        rep = run.rep_in(t)
        hf = rep and rep["measures"].get("hip_flexion_deg")
        if hf is None:
            continue
        span = (t >= rep["start_s"] - 0.005) & (t <= rep["end_s"] + 0.005)
        hf_ref = reference_measures(ref, run.pose, run.leg)["hip_flexion_deg"]
        tilt_ref = reference_pelvis_tilt_deg(ref) - pose_tilt
        tilt = np.interp(t, motion.t, ours[:, 0])
        sacral = np.interp(t, motion.t, sensor[:, 0]) - tilt
        thigh = np.interp(t, motion.t, ours[:, 1])
        deep = np.flatnonzero(span)[np.argmax(hf_ref[span])]
        low = np.flatnonzero(span)[np.argmin(hf_ref[span])]
        pelvis = tilt[deep] - tilt_ref[deep]
        thigh_err = thigh[deep] - (hf_ref[deep] - tilt_ref[deep])
        peak_error = hf - hf_ref[deep]
        t0 = motion.t[run.file_span(t)][0]  # the excursion's start, as rep_rows takes it
        hf0 = np.interp(t0, motion.t, run.result.series.series["hip_flexion_deg"])

        def at0(x: np.ndarray, t0: float = t0, t: np.ndarray = t) -> float:
            return float(np.interp(t0, t, x))
        out.append({"trial": run.trial, "sensor_set": run.sensor_set, "file": f.name,
                    "peak_error": peak_error, "pelvis": pelvis, "sacral": sacral[deep],
                    "thigh": thigh_err,
                    "rest": peak_error - pelvis - thigh_err,
                    "pelvis_upright": tilt[low] - tilt_ref[low],
                    "thigh_upright": thigh[low] - (hf_ref[low] - tilt_ref[low]),
                    "ref_hip_flexion": hf_ref[deep], "ref_pelvis_tilt": tilt_ref[deep],
                    "start_error": hf0 - at0(hf_ref),
                    "pelvis_start": at0(tilt - tilt_ref), "thigh_start": at0(thigh - hf_ref + tilt_ref),
                    "sacral_start": at0(sacral), "sensor_tilt_start": at0(tilt + sacral),
                    "sacral_peak": sacral[deep], "sensor_tilt_peak": tilt[deep] + sacral[deep]})
    return pd.DataFrame(out)


def near_pose_errors(run: TrialRun) -> dict[str, float]:
    """The standing baseline: over every sample of the trial's rep files where the reference
    stands as in the Pose trial (:data:`NEAR_POSE_DEG`), the median error (deg, ours -
    reference) of the pelvis's tilt and the thigh's inclination, and the samples used. Zero
    when the Pose trial is a sound zero for this trial; the reps need not be found."""
    if run.result is None:
        return {"samples": 0, "pelvis": np.nan, "thigh": np.nan}
    motion, ours = run.result.motion, _tilts(run)
    pose_tilt = reference_pelvis_tilt_deg(run.pose.to_frame().T)[0]
    pelvis, thigh = [], []
    for i, ref in enumerate(run.refs):
        t = run.file_times(i)
        hf_ref = reference_measures(ref, run.pose, run.leg)["hip_flexion_deg"]
        tilt_ref = reference_pelvis_tilt_deg(ref) - pose_tilt
        near = ((np.abs(hf_ref) < NEAR_POSE_DEG) & (np.abs(tilt_ref) < NEAR_POSE_DEG)
                & (t >= motion.t[0]) & (t <= motion.t[-1]))
        pelvis += list(np.interp(t[near], motion.t, ours[:, 0]) - tilt_ref[near])
        thigh += list(np.interp(t[near], motion.t, ours[:, 1]) - (hf_ref - tilt_ref)[near])
    return {"samples": len(pelvis), "pelvis": float(np.median(pelvis)) if pelvis else np.nan,
            "thigh": float(np.median(thigh)) if thigh else np.nan}



STILL_RAD_S = 0.1
"""A rep-file sample is still when its sensor turns slower than this (rad/s, 6 °/s): there
the accelerometer reads gravity's reaction alone, to a few hundredths of g."""


def _sensor_name(placement: str, leg: str) -> str:
    """The dataset's sensor (CSV column group) worn at ``placement``."""
    for name, pl in SENSORS.items():
        if pl.format(side=leg) == placement:
            return name.format(Side=leg.title())
    raise KeyError(placement)


def _device_and_acc(path: Path, sensor: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(N, 4) the device's own quaternion [w x y z], (N, 3) acc m/s², (N, 3) gyro rad/s of
    one sensor of a rep file."""
    from sensor_io.xsens_csv import read_xsens_file

    cols = read_xsens_file(path).sensors[sensor]

    def col(prefix: str) -> np.ndarray:
        return cols[next(k for k in cols if k.lower().startswith(prefix))]
    return col("orient"), col("accel"), col("gyro")


def _inclination_from_up_deg(up_sensor: np.ndarray, r_sensor_seg: np.ndarray,
                             placement: str) -> np.ndarray:
    """(N,) deg: the segment's inclination in its own sagittal plane (the thigh's forward
    inclination, :func:`thigh_inclination_deg`; the pelvis's anterior tilt,
    :func:`pelvis_tilt_deg`) from the global up direction in sensor coordinates (N, 3)."""
    up = up_sensor / np.linalg.norm(up_sensor, axis=1, keepdims=True)
    x_up, y_up = up @ r_sensor_seg[:, 0], up @ r_sensor_seg[:, 1]   # the axes' vertical parts
    sign = -1.0 if placement == "pelvis" else 1.0
    return np.degrees(np.arctan2(sign * x_up, y_up))


def standing_sources(run: TrialRun) -> pd.DataFrame:
    """Which inclination source the standing baseline's error follows, per placement
    (pelvis, test thigh): over the rep-file samples where the reference stands as in the
    Pose trial (:data:`NEAR_POSE_DEG`) and the sensor is still (:data:`STILL_RAD_S`), the
    median error (deg, against the reference, everything relative to the Pose trial) of

    - ``ours``: the analysis's (no sacral model),
    - ``device``: the device's own quaternion's vertical, in the analysis's segment frame,
    - ``accelerometer``: the accelerometer's direction (gravity alone where still),

    and ``pose_device_minus_acc``: in the Pose trial, the device quaternion's inclination
    less the accelerometer's, in the segment's sagittal plane (the analysis's frame takes
    its vertical from the accelerometer there; measures are relative to the standing
    mean, so this offset cancels in them as long as it stays what it was in the Pose), and
    ``pose_change`` how much that moved from the Pose trial's first half to its second (a
    device filter still converging in the 1.45 s trial would show here)."""
    if run.result is None:
        return pd.DataFrame()
    root = run.files[0].parents[4]   # <root>/data/parsed_h5_csv/SUB22/<trial>/<file>
    motion, ours_all = run.result.motion, _tilts(run)
    pose_tilt = reference_pelvis_tilt_deg(run.pose.to_frame().T)[0]
    out = []
    for col, placement in enumerate(("pelvis", f"thigh_{run.leg}")):
        sensor = _sensor_name(placement, run.leg)
        r_ss = run.result.calibration.sensors[placement].R_sensor_seg
        q_pose, acc_pose, _ = _device_and_acc(standing_file(root), sensor)
        device_in_pose = _inclination_from_up_deg(_up_of_device(q_pose), r_ss, placement)
        acc_in_pose = _inclination_from_up_deg(acc_pose, r_ss, placement)
        pose_device, pose_acc = device_in_pose.mean(), acc_in_pose.mean()
        pose_diff, half = device_in_pose - acc_in_pose, len(device_in_pose) // 2
        err = []
        for i, ref in enumerate(run.refs):
            t = run.file_times(i)
            q_dev, acc, gyr = _device_and_acc(run.files[i], sensor)
            hf_ref = reference_measures(ref, run.pose, run.leg)["hip_flexion_deg"]
            tilt_ref = reference_pelvis_tilt_deg(ref) - pose_tilt
            lab = tilt_ref if placement == "pelvis" else hf_ref - tilt_ref
            keep = ((np.abs(hf_ref) < NEAR_POSE_DEG) & (np.abs(tilt_ref) < NEAR_POSE_DEG)
                    & (np.linalg.norm(gyr, axis=1) < STILL_RAD_S)
                    & (t >= motion.t[0]) & (t <= motion.t[-1]))
            if not keep.any():
                continue
            err.append(np.column_stack([
                np.interp(t, motion.t, ours_all[:, col]),
                _inclination_from_up_deg(_up_of_device(q_dev), r_ss, placement) - pose_device,
                _inclination_from_up_deg(acc, r_ss, placement) - pose_acc])[keep] - lab[keep, None])
        e = np.concatenate(err) if err else np.full((0, 3), np.nan)
        med = np.median(e, axis=0) if len(e) else np.full(3, np.nan)
        out.append({"trial": run.trial, "leg": run.leg, "placement": placement,
                    "samples": len(e), "ours": med[0], "device": med[1], "accelerometer": med[2],
                    "pose_device_minus_acc": pose_device - pose_acc,
                    "pose_change": pose_diff[half:].mean() - pose_diff[:half].mean()})
    return pd.DataFrame(out)


def _up_of_device(q_global_sensor: np.ndarray) -> np.ndarray:
    """(N, 3): the global up direction in sensor coordinates, from (N, 4) q_global_sensor."""
    return quat.qrotate(quat.qinv(q_global_sensor), np.array([0.0, 0.0, 1.0]))



def device_tilt_by_file(run: TrialRun) -> pd.DataFrame:
    """Per rep file and placement (pelvis, test thigh): how far :func:`levelled_device`
    turns the device's orientation (deg), split in the segment's own planes: ``sagittal``
    (+ the segment's inclination, :func:`standing_sources`'s sign, reads that much less
    once levelled) and ``frontal``, with the Pose trial's as the first row. A device filter
    whose inclination is off by one amount per trial gives corrections that cluster within
    a trial; the stretch's own mean linear acceleration scatters them."""
    if run.result is None:
        return pd.DataFrame()
    root = run.files[0].parents[4]
    out = []
    for placement in ("pelvis", f"thigh_{run.leg}"):
        sensor = _sensor_name(placement, run.leg)
        r_ss = run.result.calibration.sensors[placement].R_sensor_seg
        for path in [standing_file(root), *run.files]:
            q_dev, acc, _ = _device_and_acc(path, sensor)
            q_lev = levelled_device(q_dev, acc)
            up_dev, up_lev = _up_of_device(q_dev), _up_of_device(q_lev)
            sag = (_inclination_from_up_deg(up_dev, r_ss, placement)
                   - _inclination_from_up_deg(up_lev, r_ss, placement)).mean()
            frontal = np.degrees(np.arcsin(np.clip(
                np.cross(up_dev, up_lev) @ r_ss[:, 0], -1.0, 1.0))).mean()
            out.append({"trial": run.trial, "placement": placement, "file": path.name,
                        "sagittal": sag, "frontal": frontal})
    return pd.DataFrame(out)


def run_trial_levelled(root: Path, trial: str, sensor_set: str, leg: str | None = None,
                       placements: tuple[str, ...] | None = None) -> TrialRun:
    """:func:`run_trial` with every data piece's device orientation levelled to its own
    accelerometer (:func:`levelled_device`) before the analysis uses it: what taking the
    device filter's inclination out would do (the standing Pose piece is still, so levelled
    exactly; a rep file over its few seconds). The analysis levels the legs' itself
    (:data:`analysis.segment_motion.LEVELLED_DEVICE_SEGMENTS`; levelling twice changes
    nothing), so this is a candidate for the others. ``placements``: only these sensors'
    (default every sensor's)."""
    from dataclasses import replace
    from unittest import mock

    from analysis import orientation, pipeline

    def levelled_streams(rec, *args, **kw):
        streams = dict(rec.streams)
        for placement, s in rec.streams.items():
            if s.quat is None or (placements is not None and placement not in placements):
                continue
            q = np.array(s.quat, dtype=float)
            for r in orientation.pieces(s.t, kw.get("max_bridge_s", orientation.MAX_BRIDGE_S)):
                q[r] = levelled_device(q[r], np.asarray(s.acc[r], dtype=float))
            streams[placement] = replace(s, quat=q)
        return orientations(replace(rec, streams=streams), *args, **kw)

    orientations = pipeline.sensor_orientations
    with mock.patch.object(pipeline, "sensor_orientations", levelled_streams):
        return run_trial(root, trial, sensor_set, leg)


HIP_SEQUENCE = "XYZ"
"""The reference's hip angles as intrinsic rotations of the thigh from the pelvis frame:
flexion about the pelvis's mediolateral x, adduction about the floating anteroposterior y,
rotation about the femur's z (the joint coordinate system of Grood & Suntay, Wu et al.
2002). The dataset does not say. Intrinsic Z-X-Y and X-Z-Y put the knee 17-46 cm medial
of the ankle on a squat (not a human knee); extrinsic x-y-z gives the knee 1-19 cm medial
of the hip and 8-14 cm lateral of the ankle, the same picture as X-Y-Z (a stance hip
moving 11-28 cm sideways over the foot, against 13-23 cm) with other figures."""


def reference_knee_m(ref: pd.DataFrame, leg: str, thigh_m: float, shank_m: float
                     ) -> tuple[np.ndarray, np.ndarray]:
    """The knee's medial position (m, + medial, (N,) each) by the reference's own chain
    (pelvis orientation, hip angles :data:`HIP_SEQUENCE`, knee flexion as a hinge about the
    thigh's x, the given segment lengths), in the pelvis's heading: relative to the hip
    (what the thigh + pelvis model measures) and relative to the ankle (what the shank
    measures). Absolute: subtract the Pose trial's values."""
    side, sign = ("Right", 1.0) if leg == "right" else ("Left", -1.0)
    pelvis = Rotation.from_euler("XYZ", ref[["Pelvis X", "Pelvis Y", "Pelvis Z"]].to_numpy(float),
                                 degrees=True)
    hip = ref[[f"{side}Hip X", f"{side}Hip Y", f"{side}Hip Z"]].to_numpy(float) * [1.0, sign, sign]
    thigh = pelvis * Rotation.from_euler(HIP_SEQUENCE, hip, degrees=True)
    shank = thigh * Rotation.from_euler("x", ref[[f"{side}Knee X"]].to_numpy(float), degrees=True)
    forward = pelvis.apply([0.0, 1.0, 0.0]) * [1.0, 0.0, 1.0]  # the lab's y is up
    forward /= np.linalg.norm(forward, axis=1, keepdims=True)
    medial = -sign * np.cross(forward, [0.0, 1.0, 0.0])      # forward x up = right
    long_thigh, long_shank = thigh.apply([0.0, 0.0, 1.0]), shank.apply([0.0, 0.0, 1.0])
    return (np.einsum("ij,ij->i", -thigh_m * long_thigh, medial),
            np.einsum("ij,ij->i", shank_m * long_shank, medial))


def knee_estimates(run: TrialRun) -> pd.DataFrame:
    """Both knee medial displacement estimates of every rep found (cm, + medial), from the
    same analysis and segment frames: ``shank`` from the shank sensor, ``thigh_model`` from
    the thigh + pelvis body model (what a user without a shank sensor gets), each through
    :func:`analysis.measures.measure_series` on the sensors it uses; the peak over the rep
    relative to standing, and ``*_exc`` the peak less the value at the rep's start (the
    athlete already on one leg); ``lab_vs_hip``/``lab_vs_ankle`` the peaks of the same two
    quantities by the reference's own chain (:func:`reference_knee_m`) over the rep, relative
    to the Pose trial. NaN where the run has no shank or no rep file holds the rep. Callable
    on any run: the knee model and the shank measure the same thing."""
    from analysis.measures import measure_series, rep_measures
    from analysis.segment_motion import Motion

    if run.result is None:
        return pd.DataFrame()
    motion, body = run.result.motion, run.result.body

    def knee_series(parts: tuple[str, ...]):
        segments = {p: m for p, m in motion.segments.items()
                    if p == "pelvis" or p in tuple(f"{part}_{run.leg}" for part in parts)}
        return measure_series(Motion(motion.t, segments, motion.standing), run.leg, body,
                              run.result.series.depth_rad, pieces=run.pieces)

    def peak_and_start(series, rep: dict) -> tuple[float, float]:
        if series is None:
            return np.nan, np.nan
        peak = rep_measures(series, rep["start_s"], rep["bottom_s"], rep["end_s"])["knee_medial_cm"]
        return peak, float(np.interp(rep["start_s"], series.t, series.series["knee_medial_cm"]))

    has_shank = motion.get("shank", run.leg) is not None
    thigh = knee_series(("thigh",))
    shank = knee_series(("thigh", "shank")) if has_shank else None
    pose = reference_knee_m(run.pose.to_frame().T, run.leg, body.thigh_m, body.shank_m)
    lab = []
    for i, ref in enumerate(run.refs):
        vs_hip, vs_ankle = reference_knee_m(ref, run.leg, body.thigh_m, body.shank_m)
        lab.append((run.file_times(i), 100 * (vs_hip - pose[0]), 100 * (vs_ankle - pose[1])))
    out = []
    for rep in run.doc["reps"]:
        (t_peak, t_start), (s_peak, s_start) = peak_and_start(thigh, rep), peak_and_start(shank, rep)
        row = {"trial": run.trial, "sensor_set": run.sensor_set, "rep": rep["index"],
               "thigh_model": t_peak, "shank": s_peak,
               "thigh_model_exc": t_peak - t_start, "shank_exc": s_peak - s_start,
               "lab_vs_hip": np.nan, "lab_vs_ankle": np.nan}
        for t, vs_hip, vs_ankle in lab:
            span = (t >= rep["start_s"] - 0.005) & (t <= rep["end_s"] + 0.005)
            if t[0] - 0.01 <= rep["bottom_s"] <= t[-1] + 0.01 and span.any():
                row["lab_vs_hip"], row["lab_vs_ankle"] = vs_hip[span].max(), vs_ankle[span].max()
                break
        out.append(row)
    return pd.DataFrame(out)


def simulated_uncertainty(rows: list[RepRow]) -> dict[str, float]:
    """Per measure, the simulated uncertainty the analyses of ``rows`` stated (it depends
    on their calibration case; the largest where cases differ): what a model-to-reality
    term is added to."""
    out: dict[str, float] = {}
    for r in rows:
        for k, v in r.simulated.items():
            out[k] = max(out.get(k, 0.0), v)
    return out


def run_all(root: Path, trials: tuple[str, ...] = DEVELOPMENT) -> list[TrialRun]:
    """Every trial analysed with every sensor set (:func:`rep_rows` compares each)."""
    return [run_trial(root, trial, sensor_set) for trial in trials for sensor_set in SENSOR_SETS]


def agreement(ours: np.ndarray, ref: np.ndarray) -> dict[str, float]:
    """n, MAE, bias (ours - ref), Pearson r and slope of ours on ref; NaN pairs left out."""
    ok = np.isfinite(ours) & np.isfinite(ref)
    o, r = ours[ok], ref[ok]
    out: dict[str, Any] = {"n": int(ok.sum())}
    if len(o) == 0:
        return out | {"mae": np.nan, "bias": np.nan, "r": np.nan, "slope": np.nan}
    err = o - r
    varied = len(o) > 2 and np.std(r) > 0 and np.std(o) > 0
    return out | {"mae": float(np.mean(np.abs(err))), "bias": float(np.mean(err)),
                  "r": float(np.corrcoef(o, r)[0, 1]) if varied else np.nan,
                  "slope": float(np.polyfit(r, o, 1)[0]) if varied else np.nan}


def table(rows: list[RepRow], group: tuple[str, ...] = ("trial", "sensor_set")) -> pd.DataFrame:
    """Per group and compared measure: reps found of files, timing, agreement of peak and
    excursion with the reference, and the share of reps inside the stated interval."""
    frame = pd.DataFrame([r.__dict__ for r in rows])
    out = []
    for key, g in frame.groupby(list(group), sort=False):
        key = key if isinstance(key, tuple) else (key,)
        for k in COMPARED:
            ours = np.array([np.nan if d[k] is None else d[k] for d in g.ours], float)
            ref = np.array([d.get(k, np.nan) for d in g.ref], float)
            exc_o = np.array([np.nan if d[k] is None else d[k] for d in g.ours_exc], float)
            exc_r = np.array([d.get(k, np.nan) for d in g.ref_exc], float)
            bound = np.array([d.get(k, np.nan) for d in g.bound], float)
            inside = np.abs(ours - ref) <= bound
            covered = np.isfinite(ours) & np.isfinite(bound)
            peak, exc = agreement(ours, ref), agreement(exc_o, exc_r)
            out.append(dict(zip(group, key, strict=True)) | {
                "measure": k, "reps": f"{int(g.found.sum())}/{len(g)}",
                "start_s": float(np.nanmean(g.start_err_s)) if g.found.any() else np.nan,
                "end_s": float(np.nanmean(g.end_err_s)) if g.found.any() else np.nan,
                "n": peak["n"], "peak_mae": peak["mae"], "peak_bias": peak["bias"],
                "peak_r": peak["r"], "peak_slope": peak["slope"],
                "exc_mae": exc["mae"], "exc_r": exc["r"], "exc_slope": exc["slope"],
                "coverage": float(inside[covered].mean()) if covered.any() else np.nan,
                "not_measured": int(sum(k in d for d in g.not_measured))})
    return pd.DataFrame(out)


def item_rates(rows: list[RepRow]) -> pd.DataFrame:
    """Per trial and sensor set: the share of found reps with each checklist item present."""
    frame = pd.DataFrame([r.__dict__ for r in rows if r.found])
    out = []
    for (trial, sset), g in frame.groupby(["trial", "sensor_set"], sort=False):
        rates = {}
        for item in ("arm", "trunk", "pelvis", "knee", "descent"):
            vals = [d.get(item) for d in g["items"] if d.get(item) is not None]
            rates[item] = f"{sum(v > 0 for v in vals)}/{len(vals)}" if vals else "—"
        out.append({"trial": trial, "sensor_set": sset} | rates)
    return pd.DataFrame(out)


TERM_TRIALS = ("SqSL", "SqHalfSL", "BulgSq", "DeclineSq", "Lunge", "StepUpH", "StepUpL")
"""Development trials the model-to-reality term is estimated on: one leg bears the body
through one lowering and rising with its foot on the ground, as in a step-down. Since the
reference peak is taken over the rep found (:func:`rep_rows`), the lunges and step-ups
count (before, the whole file's peak was compared and they were left out). Left out: the
jumps and landings (a flight and an impact that a step-down has not; the analysis finds
a landing as a rep and its hip adduction reads 40° off), the double-leg squats, and the
static Spanish squat (no rep to find). The four squats alone gave a pelvic-drop term of
2.8°, which held their own reps leaving one out (18/18) but none of the step-ups' reps."""
QUANTILE = 0.9


def peak_errors(rows: list[RepRow], sensor_set: str = "pelvis+thigh") -> pd.DataFrame:
    """One row per rep and compared measure: trial, measure, error (ours - reference, deg)."""
    out = []
    for r in rows:
        if r.sensor_set != sensor_set or not r.found:
            continue
        for k in COMPARED:
            if r.ours.get(k) is not None and k in r.ref:
                out.append({"trial": r.trial, "measure": k, "error": r.ours[k] - r.ref[k]})
    return pd.DataFrame(out, columns=["trial", "measure", "error"])


def trial_offsets(rows: list[RepRow], sensor_set: str, trials: tuple[str, ...] = TERM_TRIALS
                  ) -> pd.DataFrame:
    """Per trial and compared measure: the offset of the median rep peak, ours - the
    reference's (deg), over the reps found, as a retest compares medians.

    The trials are one subject's, strapped once, calibrated on the one Pose trial: what is
    constant for the person and the straps is the same in every offset, so the spread of
    the offsets between trials is how a change between two tests moves (the held-out trials
    are never among ``trials``)."""
    out = []
    for r in rows:
        if r.sensor_set != sensor_set or not r.found or r.trial not in trials:
            continue
        assert r.trial not in HELD_OUT
        for k in COMPARED:
            if r.ours.get(k) is not None and k in r.ref:
                out.append({"trial": r.trial, "measure": k, "ours": r.ours[k], "ref": r.ref[k]})
    frame = pd.DataFrame(out, columns=["trial", "measure", "ours", "ref"])
    g = frame.groupby(["measure", "trial"], sort=False)
    return pd.DataFrame({"reps": g.size(), "offset": g.ours.median() - g.ref.median()}).reset_index()


def exercise_bound(errors: pd.DataFrame, q: float = QUANTILE) -> float:
    """The half-width (deg) that holds q of a new exercise's rep errors, from the rep errors
    (columns trial, error) of the exercises seen.

    Each exercise brings a bias of its own (the reference's angle definition, soft tissue,
    the sensors' heading in that part of the lab), so the reps of one exercise are not
    independent draws: a quantile of the pooled errors held 72-78 % of a held-out
    exercise's reps. Model: error = b_exercise + w, b ~ N(0, tau²) with tau² the mean
    square of the k exercises' mean errors less their reps' share sigma²/n, w ~ N(0, sigma²)
    with sigma² the pooled within-exercise variance; the bound is Student's t (k degrees of freedom, for tau
    estimated from k exercises) times sqrt(tau² + sigma²)."""
    from scipy import stats

    g = errors.groupby("trial").error
    k = g.ngroups
    if k == 0:
        return float("nan")
    dev = errors.error - errors.trial.map(g.mean())
    dof = len(errors) - k
    sigma2 = float(np.sum(dev ** 2) / dof) if dof > 0 else 0.0
    # an exercise's mean error holds sigma²/n of its reps' scatter besides its bias
    tau2 = max(float(np.mean(g.mean() ** 2 - sigma2 / g.size())), 0.0)
    return float(stats.t.ppf(0.5 + q / 2, k) * np.sqrt(tau2 + sigma2))


def reality_term(errors: pd.DataFrame, simulated: float, q: float = QUANTILE) -> float:
    """The term r that, added in quadrature to the simulated uncertainty, gives
    :func:`exercise_bound`: sqrt(max(bound² - simulated², 0))."""
    need = exercise_bound(errors, q)
    if not np.isfinite(need):
        return float("nan")
    return float(np.sqrt(max(need * need - simulated * simulated, 0.0)))


def leave_one_exercise_out(errors: pd.DataFrame, simulated: dict[str, float]) -> pd.DataFrame:
    """Per measure and held-out exercise: the term from the other exercises and the share of
    the held-out exercise's reps inside sqrt(simulated² + term²)."""
    out = []
    for k, g in errors.groupby("measure"):
        if k not in simulated:
            continue
        for trial in g.trial.unique():
            train, test = g[g.trial != trial], g[g.trial == trial]
            term = reality_term(train, simulated[k])
            bound = float(np.hypot(simulated[k], term))
            out.append({"measure": k, "held_out": trial, "reps": len(test), "term": term,
                        "bound": bound,
                        "covered": int((np.abs(test.error) <= bound).sum())})
    return pd.DataFrame(out)


def pelvis_tilt_samples(run: TrialRun) -> pd.DataFrame:
    """Every sample of the reps found (one row each): ``tilt`` our pelvis's anterior tilt and
    ``excess`` ours minus the reference pelvis's, both relative to the Pose trial, and
    ``thigh`` our thigh's inclination relative to standing (deg, on the rep files' samples),
    ``rate`` the tilt's rate (deg/s); what :func:`fit_sacral_gain` and :func:`fit_sacral_fall`
    fit."""
    if run.result is None:
        return pd.DataFrame(columns=["trial", "tilt", "excess", "thigh", "rate"])
    motion, ours = run.result.motion, _tilts(run)
    pose_tilt = reference_pelvis_tilt_deg(run.pose.to_frame().T)[0]
    out = []
    for ref, t, span in run.found_reps():
        tilt = np.interp(t[span], motion.t, ours[:, 0])
        out.append(pd.DataFrame({"trial": run.trial, "tilt": tilt,
                                 "excess": tilt - (reference_pelvis_tilt_deg(ref)[span] - pose_tilt),
                                 "thigh": np.interp(t[span], motion.t, ours[:, 1]),
                                 "rate": np.gradient(tilt, t[span])}))
    return (pd.concat(out, ignore_index=True) if out
            else pd.DataFrame(columns=["trial", "tilt", "excess", "thigh", "rate"]))


def fit_sacral_gain(samples: pd.DataFrame, ramp_deg: float = SACRAL_RAMP_DEG) -> float:
    """The gain (deg) of :func:`analysis.soft_tissue.sacral_excess_deg` that fits the
    samples' ``excess`` on their ``tilt`` best (least squares; every sample weighs alike)."""
    x = np.clip(samples.tilt.to_numpy(float) / ramp_deg, 0.0, 1.0)
    return float(x @ samples.excess.to_numpy(float) / (x @ x))


FALL_FROM_DEG = (20.0, 30.0, 40.0, 50.0)
FALL_PER_DEG = tuple(np.round(np.arange(0.0, 0.0301, 0.002), 3))
"""The grid :func:`fit_sacral_fall` searches: the thigh inclination (deg, from standing) where
the excess starts to fall, and the share it loses per degree beyond it."""


@dataclass(frozen=True)
class SacralFall:
    """A shape of the sacral excess (the analysis's is :data:`SHIPPED_FALL`): the ramp times a
    fall with the thigh's inclination, ``gain * min(1, tilt / 15°) * clip(1 - per_deg *
    max(0, thigh - from_deg), 0, 1)``, deg. On the real exercises the excess over the lab
    pelvis falls once the thigh inclines past 30-40° (the lab pelvis tilts on where the sacral
    sensor stops: Bulgarian squat 9° at 30-40° of thigh inclination, 0.2° at 80-90°)."""

    gain_deg: float
    from_deg: float
    per_deg: float

    def excess_deg(self, tilt_deg: np.ndarray, thigh_deg: np.ndarray) -> np.ndarray:
        """(N,) deg from the sensor's tilt and the thigh's inclination (N,), deg, from standing."""
        return sacral_excess_deg(tilt_deg, self.gain_deg, SACRAL_RAMP_DEG, thigh_deg,
                                 self.from_deg, self.per_deg)


SHIPPED_FALL = SacralFall(SACRAL_EXCESS_DEG, SACRAL_FALL_FROM_DEG, SACRAL_FALL_PER_DEG)
"""The shape the analysis takes out (:mod:`analysis.soft_tissue`)."""


def fit_sacral_fall(samples: pd.DataFrame) -> SacralFall:
    """The :class:`SacralFall` that fits the samples' ``excess`` best (least squares): the gain
    in closed form for every (from_deg, per_deg) of the grid."""
    tilt, thigh, y = (samples[c].to_numpy(float) for c in ("tilt", "thigh", "excess"))
    best = None
    for from_deg in FALL_FROM_DEG:
        for per_deg in FALL_PER_DEG:
            x = SacralFall(1.0, from_deg, per_deg).excess_deg(tilt, thigh)
            gain = float(x @ y / (x @ x))
            sse = float(np.sum((y - gain * x) ** 2))
            if best is None or sse < best[0]:
                best = (sse, SacralFall(gain, from_deg, float(per_deg)))
    return best[1]


def hip_flexion_with_sacral_model(run: TrialRun, gain_deg: float) -> pd.DataFrame:
    """Per rep file whose rep is found: hip flexion peak and excursion (deg, as
    :func:`rep_rows` takes them) with a sacral excess of ``gain_deg`` taken out of the
    pelvis (:func:`analysis.soft_tissue.without_sacral_excess`, as the analysis does with
    its own), and the reference's. Hip flexion is the first angle about the pelvis's
    mediolateral axis, so turning the pelvis back about that axis lowers it by exactly the
    excess and leaves pelvic drop (that axis's elevation) as it was. ``gain_deg`` 0: the
    pelvis as its sensor reads it; the analysis's own gain gives :func:`rep_rows`' figures."""
    if run.result is None:
        return pd.DataFrame()
    motion = run.result.motion
    return hip_flexion_with_excess(run, without_sacral_excess(
        motion.get("pelvis", run.leg).q_facing_seg, motion.standing, gain_deg))


def hip_flexion_with_sacral_fall(run: TrialRun, fall: SacralFall) -> pd.DataFrame:
    """:func:`hip_flexion_with_sacral_model` with the candidate :class:`SacralFall` shape: its
    excess from the pelvis sensor's tilt and the thigh's inclination (both unfiltered,
    relative to standing, as the analysis takes the tilt) turned out of the pelvis."""
    from analysis import kinematics as kin

    if run.result is None:
        return pd.DataFrame()
    motion = run.result.motion
    q_pelvis = motion.get("pelvis", run.leg).q_facing_seg
    tilt = np.degrees(kin.relative_to(pelvis_tilt_rad(q_pelvis), motion.standing))
    thigh = thigh_inclination_deg(motion.get("thigh", run.leg).q_facing_seg)
    excess = fall.excess_deg(tilt, thigh - thigh[motion.standing].mean())
    return hip_flexion_with_excess(run, quat.qmul(q_pelvis, quat.about_z(np.radians(excess))))


def hip_flexion_with_excess(run: TrialRun, q_facing_pelvis: np.ndarray) -> pd.DataFrame:
    """Per rep file whose rep is found: hip flexion peak and excursion (deg, as
    :func:`rep_rows` takes them) from the given pelvis orientation (N, 4) on the analysis
    grid (an excess already turned out of it) and the test thigh's, and the reference's."""
    from analysis import kinematics as kin
    from analysis.measures import lowpass_pieces

    motion = run.result.motion
    hip = kin.hip_angles_rad(q_facing_pelvis, motion.get("thigh", run.leg).q_facing_seg,
                             run.leg)[:, 0]
    hf = lowpass_pieces(np.degrees(kin.relative_to(hip, motion.standing)), motion.t, run.pieces)
    out = []
    for i, ref in enumerate(run.refs):
        t = run.file_times(i)
        rep = run.rep_in(t)
        if rep is None or rep["measures"].get("hip_flexion_deg") is None:
            continue
        ref_hf = reference_measures(ref, run.pose, run.leg)["hip_flexion_deg"]
        found = (t >= rep["start_s"] - 0.005) & (t <= rep["end_s"] + 0.005)
        in_rep = time_slice(motion.t, rep["start_s"], rep["end_s"])
        in_file = run.file_span(t)
        out.append({"trial": run.trial, "sensor_set": run.sensor_set, "file": run.files[i].name,
                    "ours": float(np.max(hf[in_rep])), "ref": float(np.max(ref_hf[found])),
                    "ours_exc": float(np.max(hf[in_file]) - hf[in_file][0]),
                    "ref_exc": float(np.max(ref_hf) - np.interp(motion.t[in_file][0], t, ref_hf))})
    return pd.DataFrame(out)


def _exercise_folds(runs: list[TrialRun]):
    """Leave one exercise out: (the held-out run, the pelvis tilt samples of the same sensor
    set's other exercises) for every analysed run."""
    samples = {(r.trial, r.sensor_set): pelvis_tilt_samples(r) for r in runs}
    for run in runs:
        if run.result is not None:
            yield run, pd.concat([s for (trial, sset), s in samples.items()
                                  if sset == run.sensor_set and trial != run.trial])


def sacral_model_loeo(runs: list[TrialRun]) -> pd.DataFrame:
    """The sacral soft-tissue model left one exercise out: per sensor set and exercise, the
    gain fitted on the pelvis tilt samples of the *other* exercises, and the held-out
    exercise's hip flexion peak and excursion agreement (n, MAE, bias, slope) without
    (``*_before``) and with the model (``*_after``)."""
    out = []
    for run, train in _exercise_folds(runs):
        gain = fit_sacral_gain(train)
        row = {"sensor_set": run.sensor_set, "held_out": run.trial, "gain": gain}
        for when, g in (("before", 0.0), ("after", gain)):
            f = hip_flexion_with_sacral_model(run, g)
            peak, exc = agreement(f.ours.to_numpy(), f.ref.to_numpy()), agreement(
                f.ours_exc.to_numpy(), f.ref_exc.to_numpy())
            row |= {"n": peak["n"], f"peak_mae_{when}": peak["mae"],
                    f"peak_bias_{when}": peak["bias"], f"peak_slope_{when}": peak["slope"],
                    f"exc_mae_{when}": exc["mae"], f"exc_bias_{when}": exc["bias"]}
        out.append(row)
    return pd.DataFrame(out)


def excess_by_direction(samples: pd.DataFrame, bin_deg: float = 5.0, min_samples: int = 10
                        ) -> pd.DataFrame:
    """The sacral excess (deg) where the sensor tilts forward against where it tilts back, at
    the same tilt: per trial and ``bin_deg`` tilt bin with ``min_samples`` of each, the median
    excess of each direction and their difference (forward - back). Skin that slides over the
    bone and lags it would read less excess tilting forward than tilting back."""
    d = samples.assign(bin=np.floor(samples.tilt / bin_deg) * bin_deg,
                       forward=samples.rate > 0)
    g = d.groupby(["trial", "bin", "forward"]).excess.agg(["median", "size"]).unstack("forward")
    g = g[(g["size"] >= min_samples).all(axis=1)]
    return pd.DataFrame({"forward": g["median"][True], "back": g["median"][False],
                         "difference": g["median"][True] - g["median"][False]}).reset_index()


def excess_by_thigh(samples: pd.DataFrame, bin_deg: float = 10.0) -> pd.DataFrame:
    """The median sacral excess (deg) per ``bin_deg`` bin of the thigh's inclination (rows,
    the bin's lower edge) and trial (columns), from :func:`pelvis_tilt_samples`."""
    return (samples.assign(bin=np.floor(samples.thigh / bin_deg) * bin_deg)
            .pivot_table(index="bin", columns="trial", values="excess", aggfunc="median"))


def sacral_fall_loeo(runs: list[TrialRun]) -> pd.DataFrame:
    """The shipped ramp and the candidate :class:`SacralFall` shape, each left one exercise
    out: per sensor set and held-out exercise, both fitted on the *other* exercises' pelvis
    tilt samples, and the held-out exercise's hip flexion peak and excursion agreement with
    each (``*_ramp``, ``*_fall``), with the fall's fitted parameters."""
    out = []
    for run, train in _exercise_folds(runs):
        fall = fit_sacral_fall(train)
        row = {"sensor_set": run.sensor_set, "held_out": run.trial, "gain": fall.gain_deg,
               "from_deg": fall.from_deg, "per_deg": fall.per_deg}
        for shape, f in (("ramp", hip_flexion_with_sacral_model(run, fit_sacral_gain(train))),
                         ("fall", hip_flexion_with_sacral_fall(run, fall))):
            peak = agreement(f.ours.to_numpy(), f.ref.to_numpy())
            exc = agreement(f.ours_exc.to_numpy(), f.ref_exc.to_numpy())
            row |= {"n": peak["n"]} | {f"{what}_{k}_{shape}": a[k] for what, a in
                                        (("peak", peak), ("exc", exc)) for k in ("mae", "bias", "r", "slope")}
        out.append(row)
    return pd.DataFrame(out)


DOUBLE_LEG_TRIALS = ("SqDL", "SqHalfDL", "SumoSq")
"""Development trials outside the single-leg exercises the sacral model is fitted on: both
legs flex alike (the test leg is the one whose knee flexes more), two of them deeper than
110° of hip flexion; where the model is checked beyond its exercises."""


def sacral_model_outside(fit_runs: list[TrialRun], other_runs: list[TrialRun]) -> pd.DataFrame:
    """The sacral model fitted on every one of ``fit_runs`` (per sensor set), applied to
    ``other_runs``: per trial and sensor set the gain and the hip flexion peak agreement
    before and after (:func:`hip_flexion_with_sacral_model`)."""
    out = []
    for run in other_runs:
        gain = fit_sacral_gain(pd.concat([pelvis_tilt_samples(r) for r in fit_runs
                                          if r.sensor_set == run.sensor_set]))
        row = {"sensor_set": run.sensor_set, "trial": run.trial, "gain": gain}
        for when, g in (("before", 0.0), ("after", gain)):
            f = hip_flexion_with_sacral_model(run, g)
            a = agreement(f.ours.to_numpy(), f.ref.to_numpy())
            row |= {"n": a["n"], f"peak_mae_{when}": a["mae"], f"peak_bias_{when}": a["bias"],
                    "ref_peak": float(f.ref.mean())}
        out.append(row)
    return pd.DataFrame(out)


def sacral_term_loeo(runs: list[TrialRun], simulated_deg: float) -> pd.DataFrame:
    """Hip flexion's stated interval left one exercise out *with* the sacral model, nested:
    for each held-out exercise the shipped shape (:class:`SacralFall`: gain, start and slope
    of the fall) is fitted on the other exercises' pelvis tilt samples, their hip flexion
    peak errors with it give the model-to-reality term (:func:`reality_term`, on top of
    ``simulated_deg``), and the held-out exercise's reps (with the same fit) are counted
    inside sqrt(simulated² + term²). ``runs``: one sensor set's."""
    samples = {r.trial: pelvis_tilt_samples(r) for r in runs if r.result is not None}
    out = []
    for held in samples:
        fall = fit_sacral_fall(pd.concat([s for t, s in samples.items() if t != held]))
        gain = fall.gain_deg
        f = pd.concat([hip_flexion_with_sacral_fall(r, fall) for r in runs if r.trial in samples])
        errors = pd.DataFrame({"trial": f.trial, "error": f.ours - f.ref})
        term = reality_term(errors[errors.trial != held], simulated_deg)
        bound = float(np.hypot(simulated_deg, term))
        test = errors[errors.trial == held]
        out.append({"held_out": held, "gain": gain, "reps": len(test), "term": term,
                    "bound": bound, "covered": int((test.error.abs() <= bound).sum())})
    return pd.DataFrame(out)
