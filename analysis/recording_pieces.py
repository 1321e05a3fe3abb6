"""Recordings made of segments, a standing pose from elsewhere, and what a rep cannot know.

- :func:`with_standing` puts a separate standing recording (a static trial, the first
  set of a session) in front of a recording on its clock, with a gap between them, so
  the calibration and every "relative to standing" measure come from it. The gap is
  never bridged (:func:`analysis.orientation.piecewise_orientation`).
- :func:`data_pieces` finds the stretches where the sensors a step-down needs all have
  data; reps are segmented inside each (a rep never spans a gap).
- :func:`check_rep` says, per measure of one rep, why it is "not measured": a gap
  inside or next to the rep, an orientation started without the standing pose and
  with no heading of its own, a value outside what a step-down can produce.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from analysis import quat
from analysis.measures import NEEDS
from analysis.segment_motion import Motion
from calibration import CalibrationError, StandingWindow, standing_window
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

HEADING_MEASURES = ("hip_adduction_deg", "hip_internal_rotation_deg", "pelvic_drop_deg",
                    "knee_medial_cm", "hip_flexion_deg")
"""Measures that need each segment's heading (not only its inclination)."""


def with_standing(rec: Recording, standing: Recording) -> tuple[Recording, StandingWindow]:
    """The recording with ``standing`` put in front of it on its clock, and the window.

    The standing recording must hold the same sensors (placements); its calibration
    window is found as in any recording. CalibrationError (one line) otherwise.
    """
    if set(standing.streams) != set(rec.streams):
        raise CalibrationError(
            f"--standing: the standing recording has sensors {', '.join(sorted(standing.streams))} "
            f"but the recording has {', '.join(sorted(rec.streams))}; give a standing pose "
            "recorded with the same sensors")
    window = _standing_window_of(standing)
    start = min(float(s.t[0]) for s in rec.streams.values())
    shift = start - STANDING_GAP_S - window.t1
    streams = {p: _join(_shifted(standing.streams[p], window, shift), s)
               for p, s in rec.streams.items()}
    moved = StandingWindow(window.t0 + shift, window.t1 + shift, window.gyr_std_rad_s,
                           window.acc_std_ms2)
    out = Recording(streams, rec.test_leg, rec.step_height_m, rec.athlete, rec.sensors_meta,
                    rec.pain_nrs, rec.started_at, rec.extra)
    return out, moved


def _standing_window_of(standing: Recording) -> StandingWindow:
    """The standing recording's calibration window (the calibration's own search, which
    takes a short static trial too), or CalibrationError saying what it holds instead."""
    try:
        return standing_window(standing)
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


def data_pieces(motion: Motion, test_leg: str) -> list[slice]:
    """Runs of grid samples (slices of motion.t) where the test thigh, whose inclination
    finds the reps, has data; the standing samples are left out. (A gap of another
    sensor inside a rep drops the measures resting on it, see
    :func:`analysis.measures.drop_measures_in_gaps`.)"""
    thigh = motion.get("thigh", test_leg)
    gap = motion.standing | (thigh.gap if thigh is not None else False)
    edges = np.diff(np.concatenate([[1], gap.astype(np.int8), [1]]))
    starts, stops = np.flatnonzero(edges == -1), np.flatnonzero(edges == 1)
    return [slice(int(a), int(b)) for a, b in zip(starts, stops, strict=True) if b - a > 1]


@dataclass(frozen=True)
class RepContext:
    """Where a rep lies: its data piece's (t0, t1) s, and the placements whose heading
    in the rep could only be guessed (orientation started afresh after a gap, without the
    standing pose, a still moment, a magnetometer or the device's own orientation)."""

    piece_s: tuple[float, float]
    heading_guessed: frozenset[str] = frozenset()


def heading_guessed_in(motion: Motion, start_s: float, end_s: float) -> frozenset[str]:
    """Segment names (pelvis, thigh, ...) whose heading is guessed somewhere in [start, end]."""
    m = (motion.t >= start_s) & (motion.t <= end_s)
    return frozenset(p.partition("_")[0] for p, sm in motion.segments.items()
                     if sm.heading_guessed is not None and sm.heading_guessed[m].any())


def check_rep(measures: dict, ctx: RepContext) -> dict[str, str]:
    """Per measure of one rep, the reason it is "not measured" (empty when none is).

    The measures named are set to None in ``measures`` (so no checklist item uses them):
    a heading-dependent measure resting on a sensor whose heading is guessed there, and
    any value outside what a step-down can produce (:data:`PLAUSIBLE`).
    """
    reasons: dict[str, str] = {}
    for k in HEADING_MEASURES:
        guessed = ctx.heading_guessed.intersection(NEEDS.get(k, ()))
        if measures.get(k) is not None and guessed:
            reasons[k] = (f"{', '.join(sorted(guessed))} orientation started after a gap with no "
                          "standing pose, still moment or heading reference in its piece")
    for k, (lo, hi) in PLAUSIBLE.items():
        v = measures.get(k)
        if v is not None and k not in reasons and not lo <= v <= hi:
            reasons[k] = f"{v:g} is outside what a step-down can produce ({lo:g} to {hi:g})"
    for k in reasons:
        measures[k] = None
    return reasons


def cut_by_gap(start_s: float, end_s: float, ctx: RepContext) -> list[str]:
    """Which ends of a rep ("start", "end") lie on a gap: the movement before or after
    is missing (its peaks still stand: they are inside; its timing is the data's edge)."""
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
    """
    pelvis = motion.get("pelvis", test_leg)
    if pelvis is None:
        return motion
    data = ~motion.standing & ~pelvis.gap
    if not data.any():
        return motion
    x = quat.axis_of(pelvis.q_facing_seg[data], 0)
    turn = np.where(motion.standing, 0.0,
                    -float(np.angle(np.mean(np.exp(1j * np.arctan2(x[:, 1], x[:, 0]))))))
    out = {p: replace(m, q_facing_seg=quat.turn_about_z(turn, m.q_facing_seg),
                      acc_facing=quat.rotate_about_z(turn, m.acc_facing))
           for p, m in motion.segments.items()}
    return Motion(motion.t, out, motion.standing)
