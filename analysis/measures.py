"""Per-sample measure series and per-rep peaks (the analysis contract's measures).

One code path for live and offline: both call :func:`measure_series` on a
:class:`analysis.segment_motion.Motion` and :func:`rep_measures` per rep.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property, lru_cache

import numpy as np
from scipy.signal import butter, sosfiltfilt

from analysis import kinematics as kin
from analysis import quat, registry
from analysis.config import KINEMATICS_CUTOFF_HZ, MAX_GAP_S
from analysis.hip_shift import hip_medial_shift_m
from analysis.segment_motion import Motion
from analysis.soft_tissue import without_sacral_excess
from calibration.standing import time_slice
from sensor_io.anthropometry import Body
from sensor_io.vectors import row_norms

MEASURES = ("knee_medial_cm", "hip_adduction_deg", "hip_internal_rotation_deg",
            "hip_flexion_deg", "pelvic_drop_deg", "trunk_lean_deg")
EXTRA = ("wrist_motion_deg", "descent_drop_ratio", "impact_ms2")
HIP_SHIFT_MEASURED = "thigh+pelvis, hip shift measured"
"""``knee_source`` of the knee from the thigh plus the hip's shift the pelvis sensor
measured (:mod:`analysis.hip_shift`)."""


@dataclass
class MeasureSeries:
    """Series on the motion grid, relative to standing."""

    t: np.ndarray
    """(N,) the motion's grid, s."""
    depth_rad: np.ndarray
    """(N,) the test thigh's inclination from vertical relative to standing, rad."""
    series: dict[str, np.ndarray | None]
    """Measure name -> (N,) series in the unit of its name (angles deg, knee cm); None
    where no sensor gives it."""
    impact_ms2: np.ndarray
    """(N,) high-passed (> 4 Hz) specific-force magnitude, max over the pelvis and leg
    sensors, m/s²."""
    knee_source: str | None
    """How the knee displacement was obtained: "shank", "thigh+pelvis model" (the hip taken
    as staying over the foot) or :data:`HIP_SHIFT_MEASURED`; None where it was not."""

    @cached_property
    def peak_table(self) -> tuple[tuple[str, ...], np.ndarray]:
        """(names, (N, K) array) of the present series as their per-rep peak is taken: the
        trunk lean by magnitude. Built on first use, so each rep is one max over its rows."""
        names = tuple(k for k, v in self.series.items() if v is not None)
        columns = [np.abs(self.series[k]) if registry.by_magnitude(k) else self.series[k]
                   for k in names]
        return names, np.column_stack(columns) if columns else np.zeros((len(self.t), 0))


def _wrist_motion_rad(motion: Motion, ref_q: np.ndarray, wrist_q: np.ndarray) -> np.ndarray:
    """Rotation of the wrist away from its standing pose relative to the pelvis (rad).

    A resting forearm follows a share of the trunk's turn on the pelvis (the elbow rides
    with the trunk; docs/simulator.md): ~0.2-0.5 of a 10-30° trunk flexion stays well
    under the rule's 25°, while an arm leaving the waist turns 35-70°.

    The two sensors' facing frames differ by an unknown turn c about the vertical
    (their headings were aligned on different axes); c is the one that keeps the
    wrist most rigidly attached to the reference (the hand rests on the waist most
    of the time): a 1-D search on the median residual.
    """
    st = motion.standing
    idx = np.arange(0, len(motion.t), max(1, len(motion.t) // 600))
    ref_idx = _standing_sample(idx, st)

    def residual(c: float) -> np.ndarray:
        """(N,) the wrist's angle from its standing pose at every sample, turned by c."""
        turn = quat.from_rotvec(np.array([0.0, 0.0, c]))
        rel = quat.qrel(ref_q, quat.qmul(turn, wrist_q))
        ref = quat.from_scipy(quat.to_scipy(rel[st]).mean())
        return quat.angle(quat.qrel(ref, rel))

    def best(cs: np.ndarray) -> float:
        """The turn of ``cs`` with the least median residual, all turns in one batch."""
        return float(cs[int(np.argmin(_median_residuals(cs, ref_q, wrist_q, idx, ref_idx)))])

    c0 = best(np.radians(np.arange(0.0, 360.0, 3.0)))
    c = best(c0 + np.radians(np.arange(-3.0, 3.01, 0.25)))
    return residual(c)


def _median_residuals(cs: np.ndarray, ref_q: np.ndarray, wrist_q: np.ndarray, idx: np.ndarray,
                      ref_idx: np.ndarray) -> np.ndarray:
    """(C,) median over the samples ``idx`` of the wrist's angle (rad) from its standing pose
    relative to the reference, for each turn of ``cs`` (C,) rad about the vertical.

    The standing pose is the chordal mean of the relative orientations at ``ref_idx`` (the
    eigenvector of the largest eigenvalue of sum q q^T, as scipy's Rotation.mean), for all
    turns at once: one batch instead of a loop of scipy calls per turn.
    """
    n_c = len(cs)
    turns = quat.from_rotvec(np.column_stack([np.zeros(n_c), np.zeros(n_c), cs]))

    # qrel(a, b) is qmul(qinv(a), b) row by row: each inverse is taken once, then repeated
    def rel(rows: np.ndarray) -> np.ndarray:  # (C * len(rows), 4), turn by turn
        turned = quat.qmul(np.repeat(turns, len(rows), axis=0), np.tile(wrist_q[rows], (n_c, 1)))
        return quat.qmul(np.tile(quat.qinv(ref_q[rows]), (n_c, 1)), turned)

    at_st = rel(ref_idx).reshape(n_c, len(ref_idx), 4)
    pose = np.linalg.eigh(np.einsum("cmi,cmj->cij", at_st, at_st))[1][..., -1]  # (C, 4)
    inv_pose = quat.qinv(np.ascontiguousarray(pose))  # as the repeated rows' (einsum's sums
    # of a strided view may round otherwise)
    angles = quat.angle(quat.qmul(np.repeat(inv_pose, len(idx), axis=0), rel(idx)))
    return np.median(angles.reshape(n_c, len(idx)), axis=1)


MIN_REFERENCE_SAMPLES = 40
"""Standing samples a thinned search keeps for its reference pose at the least."""


def _standing_sample(idx: np.ndarray, standing: np.ndarray) -> np.ndarray:
    """Indices of the standing samples a search over the thinned samples ``idx`` takes its
    reference from: those among ``idx`` while they are at least MIN_REFERENCE_SAMPLES;
    else the standing window thinned on its own (thinning a long recording to ~600 samples
    would leave few or none of its few seconds of standing: the wrist crash of issue 22)."""
    ref = idx[standing[idx]]
    if len(ref) >= MIN_REFERENCE_SAMPLES:
        return ref
    st = np.flatnonzero(standing)
    return st[::max(1, len(st) // MIN_REFERENCE_SAMPLES)]


def _impact_series(motion: Motion) -> np.ndarray:
    """High-passed (>4 Hz) specific-force magnitude, max over pelvis and leg sensors, m/s²."""
    dt = float(np.median(np.diff(motion.t)))
    sos = _butter_sos(2, 4.0, "highpass", round(1.0 / dt, 6))
    norms = np.column_stack([row_norms(m.acc_facing) for p, m in motion.segments.items()
                             if p.startswith(("pelvis", "thigh", "shank"))])
    return np.abs(sosfiltfilt(sos, norms, axis=0)).max(axis=1)


def measure_series(motion: Motion, test_leg: str, body: Body,
                   depth: np.ndarray | None = None,
                   cutoff_hz: float = KINEMATICS_CUTOFF_HZ,
                   hip_spans: list[tuple[float, float]] | None = None,
                   sacral_excess_deg: float = 0.0,
                   pieces: list[slice] | None = None) -> MeasureSeries:
    """Every measure the sensors allow, per sample, relative to standing.

    Parameters
    ----------
    motion : Motion
        The segments' motion, facing frame.
    test_leg : str
        ``left`` or ``right``.
    body : Body
        Segment lengths, m.
    depth : numpy.ndarray, optional
        :func:`depth_rad` of this motion when already computed (it ignores heading, so the
        one found before the heading drift correction serves); computed when None.
    cutoff_hz : float
        Low-pass cut-off of the series, Hz.
    hip_spans : list of (float, float), optional
        (start_s, end_s) of the reps, in time order, over which the pelvis sensor measures
        the hip's sideways shift for the knee without a shank (:mod:`analysis.hip_shift`);
        None: the hip is taken as staying over the foot.
    sacral_excess_deg : float
        The sacral sensor's excess anterior tilt taken out of the pelvis's orientation
        before any measure uses it (:func:`analysis.soft_tissue.without_sacral_excess`), deg;
        0 leaves the pelvis as its sensor reads it.
    pieces : list of slice, optional
        The runs of ``motion.t`` with data (:func:`analysis.recording_pieces.data_pieces`),
        each low-passed on its own (:func:`lowpass_pieces`); None: the whole series as one.

    Returns
    -------
    MeasureSeries
        The series, with those of measures added to the registry at run time.
    """
    st = motion.standing
    sensor_pelvis = motion.get("pelvis", test_leg)  # as the sacral sensor reads it
    thigh = motion.get("thigh", test_leg)
    pelvis = replace(sensor_pelvis, q_facing_seg=without_sacral_excess(
        sensor_pelvis.q_facing_seg, st, sacral_excess_deg, thigh.q_facing_seg))
    shank = motion.get("shank", test_leg)
    trunk = motion.get("trunk", test_leg)
    wrist = motion.get("wrist", test_leg)
    s: dict[str, np.ndarray | None] = dict.fromkeys(MEASURES + ("wrist_motion_deg",))
    rel = kin.relative_to
    s["pelvic_drop_deg"] = np.degrees(rel(kin.pelvic_drop_rad(pelvis.q_facing_seg, test_leg), st))
    hip = np.degrees(rel(kin.hip_angles_rad(pelvis.q_facing_seg, thigh.q_facing_seg, test_leg), st))
    s["hip_flexion_deg"], s["hip_adduction_deg"], s["hip_internal_rotation_deg"] = hip.T
    if shank is not None:
        knee = kin.knee_medial_from_shank_m(shank.q_facing_seg, body.shank_m, test_leg)
        source = "shank"
    else:
        knee = rel(kin.knee_medial_from_thigh_m(thigh.q_facing_seg, body.thigh_m, test_leg), st)
        source = "thigh+pelvis model"
        if hip_spans is not None:
            # the sensor-to-hip lever is bone: it turns with the pelvis, not with the
            # excess tilt of the skin under the sensor (which moves the sensor's frame, not
            # its place over the hip; as simulator.virtual_imu places it)
            knee = knee + hip_medial_shift_m(motion.t, pelvis.acc_facing, pelvis.q_facing_seg,
                                             -knee, st, hip_spans, body, test_leg, pelvis.gap)
            source = HIP_SHIFT_MEASURED
    s["knee_medial_cm"] = 100.0 * rel(knee, st)
    if trunk is not None:
        s["trunk_lean_deg"] = np.degrees(rel(kin.trunk_inclination_rad(trunk.q_facing_seg), st))
    if wrist is not None:
        # The hand rests on the waist, i.e. on the pelvis: against the trunk, a hand that
        # stays put would seem to move whenever the trunk flexes or leans on the pelvis.
        s["wrist_motion_deg"] = np.degrees(_wrist_motion_rad(motion, pelvis.q_facing_seg,
                                                             wrist.q_facing_seg))
    s.update({m.name: m.series(motion, test_leg) for m in registry.MEASURES if m.series})
    present = [k for k, v in s.items() if v is not None]
    smooth = lowpass_pieces(np.column_stack([s[k] for k in present]), motion.t,  # one call
                            pieces, cutoff_hz)
    s.update({k: smooth[:, i] for i, k in enumerate(present)})
    if depth is None:
        depth = depth_rad(motion, test_leg)
    return MeasureSeries(motion.t, depth, s, _impact_series(motion), source)


def lowpass(x: np.ndarray, t: np.ndarray, cutoff_hz: float = KINEMATICS_CUTOFF_HZ) -> np.ndarray:
    """Zero-phase Butterworth low-pass.

    Parameters
    ----------
    x : numpy.ndarray
        (N,) or (N, K) series, any unit.
    t : numpy.ndarray
        (N,) sample times, s, uniform.
    cutoff_hz : float
        Cut-off, Hz.

    Returns
    -------
    numpy.ndarray
        The filtered series (unchanged when shorter than 16 samples or the cut-off is at
        or above Nyquist).
    """
    fs = 1.0 / float(t[1] - t[0]) if len(t) > 1 else 0.0
    if len(x) < 16 or cutoff_hz >= fs / 2:
        return x
    return sosfiltfilt(_butter_sos(2, cutoff_hz, "lowpass", round(fs, 6)), x, axis=0)


def lowpass_pieces(x: np.ndarray, t: np.ndarray, pieces: list[slice] | None,
                   cutoff_hz: float = KINEMATICS_CUTOFF_HZ) -> np.ndarray:
    """:func:`lowpass` within each piece of data, never across a gap between pieces.

    A zero-phase filter run across a gap mixes the gap's stand-in values (an orientation
    interpolated over seconds of silence) into the samples on both sides: on per-rep files
    (CMU-MBL SUB22, docs/real_data.md) it moved hip flexion at a rep file's first sample by
    up to 10°. Samples outside every piece keep their values.

    Parameters
    ----------
    x : numpy.ndarray
        (N,) or (N, K) series, any unit.
    t : numpy.ndarray
        (N,) sample times, s, uniform.
    pieces : list of slice or None
        Slices of ``t``; None: one piece, the whole series.
    cutoff_hz : float
        Cut-off, Hz.

    Returns
    -------
    numpy.ndarray
        The filtered series, same shape.
    """
    if pieces is None:
        return lowpass(x, t, cutoff_hz)
    out = np.array(x, dtype=float, copy=True)
    for piece in pieces:
        out[piece] = lowpass(out[piece], t[piece], cutoff_hz)
    return out


@lru_cache(maxsize=32)
def _butter_sos(order: int, cutoff_hz: float, btype: str, fs_hz: float) -> np.ndarray:
    """Butterworth second-order sections, designed once per (order, cutoff, type, rate)."""
    return butter(order, cutoff_hz, btype, fs=fs_hz, output="sos")


def depth_rad(motion: Motion, test_leg: str) -> np.ndarray:
    """The rep depth signal.

    Parameters
    ----------
    motion : Motion
        The segments' motion.
    test_leg : str
        ``left`` or ``right``.

    Returns
    -------
    numpy.ndarray
        (N,) the test thigh's inclination from vertical relative to standing, rad.
    """
    thigh = motion.get("thigh", test_leg)
    return kin.relative_to(kin.inclination_rad(thigh.q_facing_seg), motion.standing)


def descent_drop_ratio(t: np.ndarray, depth: np.ndarray, start_s: float, bottom_s: float) -> float:
    """Peak descent speed in the last 40 % of the descent over that of the first 60 %.

    A controlled (smooth, bell-shaped) descent is fastest mid-way: ratio < 1.
    A sudden drop late in the descent gives a ratio well above 1.

    Parameters
    ----------
    t : numpy.ndarray
        (N,) sample times, s.
    depth : numpy.ndarray
        (N,) depth signal, rad.
    start_s : float
        The rep's start, s.
    bottom_s : float
        Its bottom, s.

    Returns
    -------
    float
        The ratio (no unit); NaN for a descent of fewer than 6 samples or no early speed.
    """
    m = time_slice(t, start_s, bottom_s)
    if m.stop - m.start < 6:
        return float("nan")
    v = np.gradient(depth[m], t[m])
    k = int(0.6 * len(v))
    early = np.max(v[:k]) if k > 0 else np.nan
    late = np.max(v[k:])
    return float(late / early) if early > 0 else float("nan")


# Which sensors each measure needs; a measure is dropped for a rep when one of them was
# silent for longer than MAX_GAP_S during it (interpolated values are not measurements;
# the short gaps of a normal BLE link are bridged).
NEEDS = registry.measure_needs()


def drop_measures_in_gaps(measures: dict, motion: Motion, test_leg: str, start_s: float,
                          end_s: float, max_gap_s: float = MAX_GAP_S) -> list[str]:
    """Set to None the measures of one rep that rest on a sensor silent during it.

    Parameters
    ----------
    measures : dict
        The rep's measures by name; changed in place.
    motion : Motion
        The segments' motion (their gap masks).
    test_leg : str
        ``left`` or ``right``.
    start_s : float
        The rep's start, s.
    end_s : float
        Its end, s.
    max_gap_s : float
        Longest silence a measure may rest on, s.

    Returns
    -------
    list of str
        The sensors (placements) silent for longer than ``max_gap_s`` within the rep.
    """
    m = time_slice(motion.t, start_s, end_s)
    if m.stop <= m.start:
        return []
    dt = float(motion.t[1] - motion.t[0])
    silent = {seg for seg in ("pelvis", "thigh", "shank", "trunk", "wrist")
              if (sm := motion.get(seg, test_leg)) is not None
              and _longest_run(sm.gap[m]) * dt > max_gap_s}
    for name, segs in registry.measure_needs().items():
        if name in measures and silent.intersection(segs):
            measures[name] = None
    return sorted(motion.get(seg, test_leg).placement for seg in silent)


def _longest_run(mask: np.ndarray) -> int:
    """Length of the longest run of True in a bool array."""
    if not mask.any():
        return 0
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return int(np.max(np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)))


def rep_measures(ms: MeasureSeries, start_s: float, bottom_s: float, end_s: float) -> dict:
    """Peaks over one rep (start to end) of every measure, plus the descent features.

    Parameters
    ----------
    ms : MeasureSeries
        The measure series.
    start_s : float
        The rep's start, s.
    bottom_s : float
        Its bottom, s (the impact and descent ratio are taken around it).
    end_s : float
        Its end, s.

    Returns
    -------
    dict
        Measure name -> peak in the unit of its name (the trunk lean by magnitude), None
        where not measured.
    """
    m = time_slice(ms.t, start_s, end_s)
    out: dict[str, float | None] = dict.fromkeys(ms.series)
    if m.stop > m.start:
        names, table = ms.peak_table
        out.update(zip(names, (round(v, 2) for v in table[m].max(axis=0).tolist()), strict=True))
    near = time_slice(ms.t, bottom_s - 0.6, min(bottom_s + 0.3, end_s))
    out["impact_ms2"] = (round(float(np.max(ms.impact_ms2[near])), 2) if near.stop > near.start
                         else None)
    ratio = descent_drop_ratio(ms.t, ms.depth_rad, start_s, bottom_s)
    out["descent_drop_ratio"] = None if np.isnan(ratio) else round(ratio, 3)
    return out
