"""Per-rep features: one tidy row per rep, the classifier's input and the coach's review table.

:func:`rep_features` turns an analysed recording (:class:`AnalysedReps`, e.g. an
:class:`analysis.pipeline.Analysis`) into a
``pandas.DataFrame`` with one row per full rep. Units are in the column names
(degrees, cm, s, deg/s, deg/s³ at this edge; the series inside are SI). A
column whose sensor was not worn is NaN (e.g. ``trunk_lean_deg`` and
``trunk_gyr_rms_deg_s`` without a trunk sensor).

Columns, in groups (:data:`FEATURES` lists the numeric ones, in order):

- identity: ``rep``, ``start_s``, ``bottom_s``, ``end_s``, ``test_leg`` (not features)
- measures: the rep's peaks of the analysis contract plus ``wrist_motion_deg``,
  ``impact_ms2``, ``descent_drop_ratio`` (:mod:`analysis.measures`)
- timings: ``descent_s`` (start to bottom), ``ascent_s`` (bottom to end),
  ``rep_s``, ``bottom_hold_s`` (time within 5 % of the rep's peak depth), and
  ``<measure>_time_to_peak_s`` from the rep's start for the pelvis, knee, hip
  adduction and trunk measures
- depth: ``depth_deg``, peak inclination of the test thigh from its standing pose
- smoothness: ``depth_jerk_rms_deg_s3`` (RMS third derivative of the depth over the
  rep), ``descent_sparc`` / ``ascent_sparc`` (spectral arc length of the thigh's
  angular speed in each phase, :func:`sparc`; closer to 0 is smoother)
- sway: ``pelvis_gyr_rms_deg_s``, ``trunk_gyr_rms_deg_s``: RMS angular speed of
  the segment over the rep (gyro magnitude, frame-free)
- variability: ``<measure>_from_median_<unit>`` the rep's value minus the
  test's median rep, and ``depth_curve_rmsd_deg`` the RMS difference between the
  rep's time-normalised depth curve and the test's median curve

:data:`FEATURE_VERSION` changes whenever a column's meaning changes; a
classifier trained on another version is refused (:mod:`analysis.classifier`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
import pandas as pd
from scipy.signal import savgol_filter

from analysis import registry
from analysis.measures import EXTRA, MEASURES, MeasureSeries
from analysis.result import MeasuredRep
from analysis.segment_motion import Motion
from sensor_io.recording import Recording

__all__ = ["FEATURES", "FEATURE_VERSION", "ID_COLUMNS", "features_table", "rep_features", "sparc"]

FEATURE_VERSION = 1

ID_COLUMNS = ("rep", "start_s", "bottom_s", "end_s", "test_leg")
MEASURE_COLUMNS = MEASURES + EXTRA
PEAK_TIMED = ("pelvic_drop_deg", "knee_medial_cm", "hip_adduction_deg", "trunk_lean_deg")
VARIABILITY = ("knee_medial_cm", "hip_adduction_deg", "hip_internal_rotation_deg",
               "hip_flexion_deg", "pelvic_drop_deg", "trunk_lean_deg", "depth_deg", "descent_s")
SWAY_SEGMENTS = ("pelvis", "trunk")
CURVE_POINTS = 101


def _stem_unit(col: str) -> tuple[str, str]:
    stem, _, unit = col.rpartition("_")
    return stem, unit


def _time_to_peak_col(col: str) -> str:
    return f"{_stem_unit(col)[0]}_time_to_peak_s"


def _from_median_col(col: str) -> str:
    stem, unit = _stem_unit(col)
    return f"{stem}_from_median_{unit}"


FEATURES: tuple[str, ...] = (
    *MEASURE_COLUMNS,
    "descent_s", "ascent_s", "rep_s", "bottom_hold_s",
    *(_time_to_peak_col(c) for c in PEAK_TIMED),
    "depth_deg", "depth_jerk_rms_deg_s3", "descent_sparc", "ascent_sparc",
    *(f"{s}_gyr_rms_deg_s" for s in SWAY_SEGMENTS),
    *(_from_median_col(c) for c in VARIABILITY), "depth_curve_rmsd_deg",
)
"""Numeric feature columns, in order (the classifier's input)."""


def sparc(speed: np.ndarray, fs_hz: float, pad_level: int = 4, fc_hz: float = 10.0,
          amp_threshold: float = 0.05) -> float:
    """Spectral arc length (SPARC) of a speed profile (Balasubramanian et al. 2015).

    The magnitude spectrum, zero-padded to 2**(ceil(log2 N) + pad_level) points
    and normalised to its peak, is cut at the last frequency below fc_hz where it
    still reaches amp_threshold; SPARC is minus the arc length of that curve with
    frequency normalised to the cut-off.

    Parameters
    ----------
    speed : numpy.ndarray
        (N,) speed samples (any unit, >= 0), uniformly sampled.
    fs_hz : float
        Sampling rate, Hz.
    pad_level : int
        Extra powers of two of zero padding.
    fc_hz : float
        Highest frequency considered, Hz.
    amp_threshold : float
        Share of the peak magnitude below which the spectrum's tail is cut.

    Returns
    -------
    float
        Dimensionless, <= -1; a single smooth bell gives about -1.4 to -1.6, intermittent
        (jerky) movement more negative. NaN for fewer than 4 samples or a zero profile.
    """
    speed = np.asarray(speed, dtype=float)
    if speed.ndim != 1 or len(speed) < 4 or not np.any(speed):
        return float("nan")
    nfft = int(2 ** (np.ceil(np.log2(len(speed))) + pad_level))
    f = np.fft.rfftfreq(nfft, d=1.0 / fs_hz)
    mag = np.abs(np.fft.rfft(speed, nfft))
    mag = mag / mag.max()
    keep = f <= fc_hz
    f, mag = f[keep], mag[keep]
    above = np.flatnonzero(mag >= amp_threshold)
    f, mag = f[above[0]: above[-1] + 1], mag[above[0]: above[-1] + 1]
    if len(f) < 2:
        return float("nan")
    df = np.diff(f) / (f[-1] - f[0])
    return float(-np.sum(np.sqrt(df ** 2 + np.diff(mag) ** 2)))


def _rep_rows(t: np.ndarray, start: np.ndarray, end: np.ndarray) -> list[slice]:
    """Each rep's samples start <= t <= end (t (N,) s ascending) as a slice: per rep, not a
    (reps, samples) mask (an hour's 170 reps x 360 k samples made the classifier's
    features take ~500 MB per mask and seconds of CPU)."""
    lo, hi = np.searchsorted(t, start, side="left"), np.searchsorted(t, end, side="right")
    return [slice(int(a), int(b)) for a, b in zip(lo, hi, strict=True)]


def _rms(rows: list[slice], x: np.ndarray, keep: np.ndarray | None = None) -> np.ndarray:
    """Per rep, the RMS of x (N,) over its rows (and where ``keep`` (N,) bool); NaN for none."""
    out = np.full(len(rows), np.nan)
    for k, sl in enumerate(rows):
        v = x[sl] if keep is None else x[sl][keep[sl]]
        if len(v):
            out[k] = np.sqrt(np.sum(v ** 2) / len(v))
    return out


def _time_to_peak(rows: list[slice], t: np.ndarray, x: np.ndarray | None,
                  start: np.ndarray) -> np.ndarray:
    if x is None:
        return np.full(len(start), np.nan)
    idx = [sl.start + int(np.argmax(x[sl])) if sl.stop > sl.start else 0 for sl in rows]
    return t[idx] - start


def _depth_curves(t: np.ndarray, depth: np.ndarray, start: np.ndarray,
                  end: np.ndarray) -> np.ndarray:
    """(K, CURVE_POINTS) depth (rad) of each rep on a 0-100 % time grid."""
    u = np.linspace(0.0, 1.0, CURVE_POINTS)
    return np.array([np.interp(s + u * (e - s), t, depth) for s, e in zip(start, end, strict=True)])


def _phase_sparc(t: np.ndarray, speed: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                 fs_hz: float) -> np.ndarray:
    return np.array([sparc(speed[sl], fs_hz) for sl in _rep_rows(t, lo, hi)])


class AnalysedReps(Protocol):
    """What :func:`rep_features` reads of an analysis (an :class:`analysis.pipeline.Analysis`
    has it): described by shape, so this module need not import the pipeline, which imports
    the classifier, which imports this module.

    Parameters
    ----------
    *args, **kwargs
        None: a protocol describes an object's attributes, it is not built.
    """

    recording: Recording
    motion: Motion
    series: MeasureSeries
    reps: list[MeasuredRep]


def rep_features(analysis: AnalysedReps) -> pd.DataFrame:
    """The classifier's features, one row per full rep.

    Works for every sensor set; columns of sensors not worn are NaN.

    Parameters
    ----------
    analysis : AnalysedReps
        An analysis (:class:`analysis.pipeline.Analysis`).

    Returns
    -------
    pandas.DataFrame
        One row per full rep (columns: see module docstring); an analysis without reps
        gives an empty table with all the columns.
    """
    return features_table(analysis.reps, analysis.series, analysis.motion,
                          analysis.recording.test_leg)


def features_table(reps: Sequence[MeasuredRep], ms: MeasureSeries, motion: Motion,
                   test_leg: str) -> pd.DataFrame:
    """:func:`rep_features` from the analysis' parts, for use inside the pipeline before
    the Analysis exists.

    Parameters
    ----------
    reps : Sequence of MeasuredRep
        The reps found, with their times (s) and measures.
    ms : MeasureSeries
        The measure series.
    motion : Motion
        The segments' motion, on the same time grid.
    test_leg : str
        ``left`` or ``right``.

    Returns
    -------
    pandas.DataFrame
        As :func:`rep_features`.
    """
    columns = [*ID_COLUMNS, *FEATURES]
    if not reps:
        return pd.DataFrame({c: pd.Series(dtype=float) for c in columns})
    t = ms.t
    fs = 1.0 / float(np.median(np.diff(t)))
    start = np.array([r.start_s for r in reps], dtype=float)
    bottom = np.array([r.bottom_s for r in reps], dtype=float)
    end = np.array([r.end_s for r in reps], dtype=float)
    rows = _rep_rows(t, start, end)

    out: dict[str, object] = {
        "rep": [r.index for r in reps], "start_s": start, "bottom_s": bottom,
        "end_s": end, "test_leg": test_leg,
    }
    for col in MEASURE_COLUMNS:
        out[col] = np.array([np.nan if (v := r.measures.get(col)) is None else v for r in reps],
                            dtype=float)

    depth = ms.depth_rad
    peak_depth = np.array([depth[sl].max(initial=-np.inf) for sl in rows])
    out["descent_s"], out["ascent_s"], out["rep_s"] = bottom - start, end - bottom, end - start
    out["bottom_hold_s"] = np.array([np.count_nonzero(depth[sl] >= 0.95 * p)
                                     for sl, p in zip(rows, peak_depth, strict=True)]) / fs
    for col in PEAK_TIMED:
        x = ms.series.get(col)
        out[_time_to_peak_col(col)] = _time_to_peak(
            rows, t, None if x is None else (np.abs(x) if registry.by_magnitude(col) else x), start)

    out["depth_deg"] = np.degrees(peak_depth)
    window = max(7, int(round(0.2 * fs)) | 1)
    jerk = savgol_filter(depth, window, 4, deriv=3, delta=1.0 / fs)
    out["depth_jerk_rms_deg_s3"] = np.degrees(_rms(rows, jerk))
    speed = np.abs(savgol_filter(depth, window, 3, deriv=1, delta=1.0 / fs))
    out["descent_sparc"] = _phase_sparc(t, speed, start, bottom, fs)
    out["ascent_sparc"] = _phase_sparc(t, speed, bottom, end, fs)

    for seg in SWAY_SEGMENTS:
        m = motion.get(seg, test_leg)
        if m is None:
            out[f"{seg}_gyr_rms_deg_s"] = np.full(len(reps), np.nan)
        else:
            out[f"{seg}_gyr_rms_deg_s"] = np.degrees(
                _rms(rows, np.linalg.norm(m.gyr, axis=1), ~m.gap))

    for col in VARIABILITY:
        v = np.asarray(out[col], dtype=float)
        out[_from_median_col(col)] = (v - np.nanmedian(v) if np.isfinite(v).any()
                                      else np.full(len(reps), np.nan))
    curves = _depth_curves(t, depth, start, end)
    out["depth_curve_rmsd_deg"] = np.degrees(
        np.sqrt(np.mean((curves - np.median(curves, axis=0)) ** 2, axis=1)))
    return pd.DataFrame(out, columns=columns)
