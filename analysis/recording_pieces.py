"""Recordings made of segments, a standing pose from elsewhere, and what a rep cannot know.

- :func:`with_standing` puts a separate standing recording (a static trial, the first
  set of a session) in front of a recording on its clock, with a gap between them, so
  the calibration and every "relative to standing" measure come from it. The gap is
  never bridged (:func:`analysis.orientation.piecewise_orientation`).
- :func:`piece_tracks` hands the calibration every piece's movement (the knee hinge).
- :func:`data_pieces` finds the stretches where the sensors a step-down needs all have
  data; reps are segmented inside each (a rep never spans a gap).
- :func:`align_leg_headings` gives the leg segments, in a piece without the standing pose,
  the heading of the segment above them by the joint's flexion axis.
- :func:`check_rep` says, per measure of one rep, why it is "not measured": a gap
  inside or next to the rep, an orientation started without the standing pose and
  with no heading of its own, a value outside what a step-down can produce.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from analysis import quat
from analysis.config import MAX_BRIDGE_S
from analysis.measures import NEEDS
from analysis.segment_motion import Motion, SensorOrientation
from calibration import CalibrationError, StandingLimits, StandingWindow, standing_window
from calibration.joint_heading import SensorTrack
from calibration.standing import time_slice
from sensor_io.recording import Recording, SensorStream

STANDING_GAP_S = 1.0
"""Time put between the end of a separate standing recording and the recording."""
EDGE_S = 0.05
"""A rep whose start or end lies this close to a gap was cut by it."""

PLAUSIBLE = {  # peak over a step-down rep, relative to standing (wide physiological bounds)
    "hip_flexion_deg": (-15.0, 120.0), "hip_adduction_deg": (-30.0, 35.0),
    "hip_internal_rotation_deg": (-45.0, 45.0), "pelvic_drop_deg": (-20.0, 20.0),
    "knee_medial_cm": (-10.0, 20.0), "trunk_lean_deg": (0.0, 45.0),
}
"""Beyond these a number is an artefact, not a movement: hip 0-120° flexion, ±30-35°
adduction and ±45° rotation span and exceed the passive range of healthy hips (Roaas &
Andersson, Acta Orthop Scand 53, 1982); pelvic drop ±20° is twice the largest seen on the
real development reps (8°, docs/thresholds.md); knee medial displacement and trunk lean
bounds are the geometry of a 0.45 m shank tilted 25° and a trunk leaning 45°."""

HEADING_MEASURES = ("hip_adduction_deg", "hip_internal_rotation_deg",
                    "knee_medial_cm", "hip_flexion_deg")
"""Measures that need each segment's heading (not only its inclination)."""
HIP_FROM_ALIGNMENT = ("hip_flexion_deg", "hip_adduction_deg")  # pelvis-relative
"""Measures that the thigh's heading aligned to the pelvis's (:func:`align_leg_headings`)
gives without knowing which way the pelvis faced."""


def with_standing(rec: Recording, standing: Recording, limits: StandingLimits | None = None
                  ) -> tuple[Recording, StandingWindow]:
    """The recording with a standing pose from another file put in front of it.

    Parameters
    ----------
    rec : Recording
        The recording of the test.
    standing : Recording
        A recording of the standing pose with the same sensors (placements); its
        calibration window is found as in any recording.
    limits : StandingLimits, optional
        What counts as standing (default: the defaults).

    Returns
    -------
    tuple of (Recording, StandingWindow)
        ``rec`` with the standing window's samples put STANDING_GAP_S before its start on
        its clock, and that window (s, on ``rec``'s clock); CalibrationError (one line)
        for other sensors or no standing window.
    """
    if set(standing.streams) != set(rec.streams):
        raise CalibrationError(
            f"--standing: the standing recording has sensors {', '.join(sorted(standing.streams))} "
            f"but the recording has {', '.join(sorted(rec.streams))}; give a standing pose "
            "recorded with the same sensors")
    window = _standing_window_of(standing, limits)
    start = min(float(s.t[0]) for s in rec.streams.values())
    shift = start - STANDING_GAP_S - window.t1
    streams = {p: _join(_shifted(standing.streams[p], window, shift), s)
               for p, s in rec.streams.items()}
    moved = replace(window, t0=window.t0 + shift, t1=window.t1 + shift)
    out = Recording(streams, rec.test_leg, rec.step_height_m, rec.athlete, rec.sensors_meta,
                    rec.pain_nrs, rec.started_at, rec.extra)
    return out, moved


def _standing_window_of(standing: Recording, limits: StandingLimits | None) -> StandingWindow:
    """The standing recording's calibration window (the calibration's own search, which
    takes a short static trial too), or CalibrationError saying what it holds instead."""
    try:
        return standing_window(standing, limits)
    except CalibrationError as err:
        raise CalibrationError(f"--standing: {err}") from None


def _shifted(s: SensorStream, window: StandingWindow, shift: float) -> SensorStream:
    part = s.slice_time(window.t0, window.t1 + 1e-9)
    return SensorStream(part.t + shift, part.acc, part.gyr, part.mag, part.quat)


def _join(a: SensorStream, b: SensorStream) -> SensorStream:
    def cat(x: np.ndarray | None, y: np.ndarray | None) -> np.ndarray | None:
        return None if x is None or y is None else np.concatenate([x, y])

    return SensorStream(np.concatenate([a.t, b.t]), np.concatenate([a.acc, b.acc]),
                        np.concatenate([a.gyr, b.gyr]), cat(a.mag, b.mag), cat(a.quat, b.quat))


def piece_tracks(orientations: dict[str, SensorOrientation]) -> dict[str, list[SensorTrack]]:
    """The pieces of each sensor's orientation as tracks for the knee hinge.

    With the standing pose in a file of its own, the movement that gives the knee's axis
    is in the other pieces (the reps), never in the standing one.

    Parameters
    ----------
    orientations : dict of str to SensorOrientation
        Placement -> its orientation over the recording.

    Returns
    -------
    dict of str to list of SensorTrack
        Per placement, one :class:`calibration.joint_heading.SensorTrack` per piece (each
        with one heading of its own), for :func:`calibration.calibrate`.
    """
    out = {}
    for placement, o in orientations.items():
        tracks = []
        for t0, t1 in o.spans:
            m = slice(int(np.searchsorted(o.t_u, t0, side="left")),
                      int(np.searchsorted(o.t_u, t1, side="right")))  # t_u ascends
            tracks.append(SensorTrack(o.t_u[m], o.q_world_sensor[m], *o.signals(m)))
        out[placement] = tracks
    return out


def data_pieces(motion: Motion, test_leg: str, max_bridge_s: float = MAX_BRIDGE_S
                ) -> list[slice]:
    """The runs of samples where the test thigh, whose inclination finds the reps, has data.

    A gap of another sensor inside a rep drops the measures resting on it, see
    :func:`analysis.measures.drop_measures_in_gaps`.

    Parameters
    ----------
    motion : Motion
        The segments' motion on one time grid.
    test_leg : str
        ``left`` or ``right``.
    max_bridge_s : float
        The thigh's gaps up to this long, s, were bridged by its orientation: they cut no
        piece (a BLE link's short losses did, and lost the rep around them).

    Returns
    -------
    list of slice
        Slices of ``motion.t``. The standing samples stay in the piece that goes on from
        them (a first rep may start inside the standing window: a piece starting at the
        window's end cuts its descent off, and the rep was lost whenever any sensor had a
        gap); a standing pose from another file is a piece of its own, after a gap.
    """
    thigh = motion.get("thigh", test_leg)
    gap = thigh.gap.copy() if thigh is not None else np.zeros(len(motion.t), dtype=bool)
    edges = np.diff(np.concatenate([[0], gap.astype(np.int8), [0]]))
    dt = float(motion.t[1] - motion.t[0]) if len(motion.t) > 1 else 0.0
    for a, b in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True):
        if (b - a + 1) * dt <= max_bridge_s:  # samples around it to samples around it
            gap[a:b] = False
    edges = np.diff(np.concatenate([[1], gap.astype(np.int8), [1]]))
    starts, stops = np.flatnonzero(edges == -1), np.flatnonzero(edges == 1)
    return [slice(int(a), int(b)) for a, b in zip(starts, stops, strict=True) if b - a > 1]


@dataclass(frozen=True)
class RepContext:
    """Where a rep lies in the recording's pieces of data."""

    piece_s: tuple[float, float]
    """Its data piece's (t0, t1), s."""
    heading_guessed: frozenset[str] = frozenset()
    """The segments whose heading in the rep could only be guessed (orientation started
    afresh after a gap, without the standing pose, a still moment, a magnetometer or the
    device's own orientation)."""
    hip_aligned: bool = False
    """The thigh's heading in the rep's piece was set from the pelvis's
    (:func:`align_leg_headings`), so hip rotation there is an assumption, not a measure."""


def heading_guessed_in(motion: Motion, start_s: float, end_s: float) -> frozenset[str]:
    """The segments whose heading is guessed somewhere in a span.

    Parameters
    ----------
    motion : Motion
        The segments' motion.
    start_s : float
        Start of the span, s.
    end_s : float
        End of the span, s.

    Returns
    -------
    frozenset of str
        Segment names (pelvis, thigh, ...).
    """
    m = time_slice(motion.t, start_s, end_s)
    return frozenset(p.partition("_")[0] for p, sm in motion.segments.items()
                     if sm.heading_guessed is not None and sm.heading_guessed[m].any())


def check_rep(measures: dict, ctx: RepContext) -> dict[str, str]:
    """The measures of one rep that cannot be trusted, set to None.

    A heading-dependent measure resting on a sensor whose heading is guessed there, hip
    rotation where the thigh's heading was aligned to the pelvis's, and any value outside
    what a step-down can produce (:data:`PLAUSIBLE`).

    Parameters
    ----------
    measures : dict
        The rep's measures (unit in each name); the ones named are set to None in place, so
        no checklist item uses them.
    ctx : RepContext
        Where the rep lies.

    Returns
    -------
    dict of str to str
        Measure -> the reason it is "not measured" (empty when none is).
    """
    reasons: dict[str, str] = {}
    for k in HEADING_MEASURES:
        guessed = ctx.heading_guessed.intersection(NEEDS.get(k, ()))
        if ctx.hip_aligned and k in HIP_FROM_ALIGNMENT:
            guessed = guessed - {"pelvis", "thigh"}  # the thigh's heading is the pelvis's
        if measures.get(k) is not None and guessed:
            reasons[k] = (f"{', '.join(sorted(guessed))} orientation started after a gap with no "
                          "standing pose, still moment or heading reference in its piece")
    if ctx.hip_aligned and measures.get("hip_internal_rotation_deg") is not None:
        reasons["hip_internal_rotation_deg"] = (
            "the thigh's heading in this piece (no standing pose in it) was aligned to the "
            "pelvis's by taking the hip's rotation where it is least flexed as its standing one")
    for k, (lo, hi) in PLAUSIBLE.items():
        v = measures.get(k)
        if v is not None and k not in reasons and not lo <= v <= hi:
            reasons[k] = f"{v:g} is outside what a step-down can produce ({lo:g} to {hi:g})"
    for k in reasons:
        measures[k] = None
    return reasons


def cut_by_gap(start_s: float, end_s: float, ctx: RepContext) -> list[str]:
    """Which ends of a rep lie on a gap in the data.

    The movement before or after is missing there: the rep's peaks still stand (they are
    inside), its timing is the data's edge.

    Parameters
    ----------
    start_s : float
        The rep's start, s.
    end_s : float
        The rep's end, s.
    ctx : RepContext
        Its data piece.

    Returns
    -------
    list of str
        "start" and/or "end".
    """
    return [side for side, edge, at in (("start", ctx.piece_s[0], start_s),
                                       ("end", ctx.piece_s[1], end_s)) if abs(at - edge) <= EDGE_S]


def face_as_in_recording(motion: Motion, test_leg: str) -> Motion:
    """Turn every segment, outside the standing samples, so the pelvis faces +x on
    average over the recording's data.

    With the standing pose from another file (:func:`with_standing`) the athlete may
    face another way in this set (the CMU trials turn by 90° and 180° between sets):
    the pelvis's mean heading over the set is where the athlete faced. Joint angles
    (relative rotations) are unchanged; pelvic drop, trunk lean and knee displacement,
    taken in the facing frame, then use this set's facing.

    Parameters
    ----------
    motion : Motion
        The segments' motion, orientations in the facing frame (z up).
    test_leg : str
        ``left`` or ``right``.

    Returns
    -------
    Motion
        The motion turned about the vertical; unchanged without pelvis data.
    """
    pelvis = motion.get("pelvis", test_leg)
    if pelvis is None:
        return motion
    data = ~motion.standing & ~pelvis.gap
    if not data.any():
        return motion
    heading = quat.axis_heading(pelvis.q_facing_seg[data], 0)
    turn = np.where(motion.standing, 0.0, -float(np.angle(np.mean(np.exp(1j * heading)))))
    out = {p: replace(m, q_facing_seg=quat.turn_about_z(turn, m.q_facing_seg),
                      acc_facing=quat.rotate_about_z(turn, m.acc_facing))
           for p, m in motion.segments.items()}
    return Motion(motion.t, out, motion.standing)


@dataclass(frozen=True)
class LegAlignment:
    """The turn given to a leg segment in one data piece to agree with its proximal
    neighbour (:func:`align_leg_headings`)."""

    piece_s: tuple[float, float]
    """The piece's (t0, t1), s."""
    placement: str
    """The sensor's placement (``thigh_left``, ...)."""
    turn_deg: float
    """The turn about the vertical, degrees."""


def align_leg_headings(motion: Motion, test_leg: str, max_bridge_s: float = MAX_BRIDGE_S
                       ) -> tuple[Motion, list[LegAlignment]]:
    """In every data piece that does not hold the standing pose, turn the test thigh about
    the vertical so that the hip's internal rotation, where the hip is least flexed in the
    piece, is what it was standing; and the shank so that its flexion (z) axis heads as the
    thigh's does on average (the knee is a hinge).

    Without the standing pose in the piece, the heading between two sensors is the one
    their own orientation outputs give (magnetometer-based: the device's filter, vqf 9D),
    and indoors it differs from where the standing pose was taken: on the CMU trials the
    thigh-to-shank turn found from the knee's joint-centre acceleration varied from +15°
    to -41° between exercises, and the hip read 30-55° of internal rotation at the start
    of the reps of two of them, which at 45° of hip flexion became 20° of adduction.
    Near the least flexion a turn of the thigh reads as rotation, hardly as adduction
    (with the hip flexed by f, a turn d moves rotation by ~d cos f and adduction by
    ~d sin f), so the anchor is the rotation there; making the flexion axes' headings
    equal instead would take the adduction of a deep squat out with the rotation. The
    cost: a hip that really rotates where it is least flexed moves that into adduction
    (3.4° on a simulated rep with 7° of rotation). Hip internal rotation is then an
    assumption: not measured there (:func:`check_rep`).

    Pieces whose 6D heading was anchored where the leg stood still and upright are left
    as they are; 6D pieces with no such moment (their headings guessed) are aligned too,
    which gives their hip flexion and adduction (relative to the pelvis, whatever way it
    faced) though not the measures that need the facing direction.

    Parameters
    ----------
    motion : Motion
        The segments' motion, orientations in the facing frame.
    test_leg : str
        ``left`` or ``right``.
    max_bridge_s : float
        The gaps the orientation bridged, s (:func:`data_pieces`).

    Returns
    -------
    tuple of (Motion, list of LegAlignment)
        The motion with the legs turned, and each turn given.
    """
    segs = dict(motion.segments)
    chain = [(p, d) for p, d in (("pelvis", f"thigh_{test_leg}"),
                                 (f"thigh_{test_leg}", f"shank_{test_leg}"))
             if p in segs and d in segs]
    done: list[LegAlignment] = []
    thigh = segs.get(f"thigh_{test_leg}")
    for sl in data_pieces(motion, test_leg, max_bridge_s):
        if motion.standing[sl].any():
            continue  # the piece that holds the standing pose: its headings are anchored
        if thigh is not None and thigh.heading_guessed is not None \
                and not thigh.heading_guessed[sl].any():
            continue  # a 6D piece anchored where the leg stood still and upright
        for prox, dist in chain:
            if prox == "pelvis":
                turn = _turn_for_no_hip_rotation(segs[prox].q_facing_seg, segs[dist].q_facing_seg,
                                                 sl, motion.standing, test_leg)
            else:
                turn = _mean_heading(segs[prox].q_facing_seg[sl]) - _mean_heading(
                    segs[dist].q_facing_seg[sl])
            turn = float(np.angle(np.exp(1j * turn)))
            done.append(LegAlignment((float(motion.t[sl][0]), float(motion.t[sl][-1])), dist,
                                     float(np.degrees(turn))))
            m = segs[dist]
            q, a = m.q_facing_seg.copy(), m.acc_facing.copy()
            q[sl] = quat.turn_about_z(turn, q[sl])
            a[sl] = quat.rotate_about_z(turn, a[sl])
            segs[dist] = replace(m, q_facing_seg=q, acc_facing=a)
    return Motion(motion.t, segs, motion.standing), done


def hip_aligned_at(aligned: list[LegAlignment], t_s: float) -> bool:
    """Was the thigh's heading aligned to the pelvis's in the piece holding a moment?

    Parameters
    ----------
    aligned : list of LegAlignment
        The turns :func:`align_leg_headings` gave.
    t_s : float
        The moment, s.

    Returns
    -------
    bool
        Whether a thigh was turned in the piece holding ``t_s``.
    """
    return any(a.piece_s[0] <= t_s <= a.piece_s[1] and a.placement.startswith("thigh")
               for a in aligned)


LOW_FLEXION_BAND_DEG = 10.0
"""The piece's samples within this much of its least hip flexion anchor the thigh's
heading: there a turn of the thigh is read as rotation, hardly as adduction."""


def _turn_for_no_hip_rotation(q_pelvis: np.ndarray, q_thigh: np.ndarray, sl: slice,
                              standing: np.ndarray, test_leg: str) -> float:
    """The turn (rad) of the thigh about the vertical in the piece ``sl`` after which the hip's
    internal rotation averages, over the piece, what it was standing. (Not the flexion
    axes' headings made equal: with the hip flexed, adduction turns the thigh's axis about
    the vertical too, and would be taken out with the rotation.)"""
    from analysis.kinematics import hip_angles_rad

    rot_standing = float(np.mean(hip_angles_rad(q_pelvis[standing], q_thigh[standing],
                                                test_leg)[:, 2])) if standing.any() else 0.0
    qp, qt = q_pelvis[sl], q_thigh[sl]
    flex = hip_angles_rad(qp, qt, test_leg)[:, 0]
    low = flex <= flex.min() + np.radians(LOW_FLEXION_BAND_DEG)
    qp, qt = qp[low], qt[low]

    def excess(turn: float) -> float:
        return float(np.mean(hip_angles_rad(qp, quat.turn_about_z(turn, qt), test_leg)[:, 2])
                     ) - rot_standing

    turn = _mean_heading(qp) - _mean_heading(qt)  # start from the axes' headings
    for _ in range(6):  # Newton's method on a smooth, monotonic function of the turn
        f = excess(turn)
        slope = (excess(turn + 1e-3) - f) / 1e-3
        if abs(slope) < 1e-6:
            break
        turn -= f / slope
        if abs(f) < 1e-5:
            break
    return turn


def _mean_heading(q_facing_seg: np.ndarray) -> float:
    """Circular mean heading (rad) of a segment's z axis over samples (N,4)."""
    return float(np.angle(np.mean(np.exp(1j * quat.axis_heading(q_facing_seg, 2)))))
