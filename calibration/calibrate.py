"""Calibration of a recording: standing window, gyro biases, sensor-to-segment frames.

``calibrate(rec)`` returns a :class:`Calibration` with quality figures, or raises
:class:`CalibrationError` (one clear line) when the result is not trustworthy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from calibration.joint_heading import SensorTrack, knee_hinge_pooled, lever_arms
from calibration.pelvis_heading import fuse_heading, heading_from_bends, turned_about_vertical
from calibration.segment_frames import (
    MIN_MOVING_RAD_S,
    SegmentFrame,
    anterior_sign_from_tilt,
    frame_from_flexion,
    frame_from_normal,
    functional_axis,
    right_sign_of_normal,
)
from calibration.standing import (
    POSTURE_TURN_MAX_DEG,
    StandingLimits,
    StandingWindow,
    describe_no_window,
    find_standing_window,
    find_unsteady_window,
    posture_turn_deg,
    time_slice,
)
from sensor_io.anthropometry import Body
from sensor_io.errors import InputError
from sensor_io.recording import Recording, calibration_movement_window
from sensor_io.vectors import row_norms

GRAVITY_MS2 = 9.81
MIN_AXIS_SHARE = 0.5          # flexion must dominate the leg sensors' rotation
MIN_AXIS_GRAVITY_DEG = 60.0   # the flexion axis must be near horizontal when standing
MAX_STANDING_GYR_STD = 0.10   # rad/s, rms of per-axis std: the most sway usable standing holds
# Slow guided bends turn the thigh at 15-40 °/s, the shank at half that; sway is 1-3 °/s.
GUIDED_MIN_RATE_RAD_S = 0.15


class CalibrationError(InputError):
    """The recording cannot be calibrated trustworthily."""


@dataclass(frozen=True)
class CalibrationLimits:
    """What a leg sensor's flexion axis must meet to be trusted (a setting of the analysis:
    :class:`analysis.config.AnalysisConfig` ``calibration``)."""

    min_axis_share: float = MIN_AXIS_SHARE
    """Flexion must carry at least this share of the leg sensor's rotation energy (0-1)."""
    min_axis_gravity_deg: float = MIN_AXIS_GRAVITY_DEG
    """The flexion axis must be at least this far from the standing vertical, degrees."""


@dataclass(frozen=True)
class SensorCalibration:
    """One sensor's calibration and how well it was found."""

    placement: str
    """The sensor's placement (``thigh_left``, ...)."""
    gyr_bias: np.ndarray
    """(3,) gyro bias, rad/s, sensor frame."""
    R_sensor_seg: np.ndarray
    """(3, 3): columns are the segment's ISB axes in sensor coordinates."""
    gravity_ms2: float
    """Magnitude of the standing accelerometer mean, m/s² (a check on the sensor)."""
    method: str
    """How the frame was found: "gravity+flexion axis", "gravity+knee hinge",
    "gravity+guided knee bends", "gravity+skin normal", "gravity+skin normal+guided bends"
    (the pelvis's heading fused with the bends', :mod:`calibration.pelvis_heading`) or
    "none"."""
    axis_share: float | None = None
    """Share of the angular-velocity energy about the flexion axis (None: no axis)."""
    axis_gravity_deg: float | None = None
    """Angle between the flexion axis and the standing vertical, degrees (90° ideal)."""
    joint_coherence: float | None = None
    """Agreement of the knee's joint-centre accelerations (0..1; knee hinge only)."""
    heading_sd_deg: float | None = None
    """Standard uncertainty of the frame's heading, degrees (pelvis with the guided bends
    only)."""
    bends_weight: float | None = None
    """The guided bends' share of that heading (0..1; the rest is the skin normal's)."""


GUIDED_METHOD = "gravity+guided knee bends"


@dataclass(frozen=True)
class Calibration:
    """A recording's calibration: its standing window and every sensor's frame."""

    window: StandingWindow
    """The standing window (s)."""
    sensors: dict[str, SensorCalibration] = field(default_factory=dict)
    """Placement -> its calibration."""
    movement: str | None = None
    """What became of the guided calibration movement: None when none was prompted,
    "used", or why it was not (the flexion axes then come from the reps)."""

    def notes(self) -> list[str]:
        """Plain-language doubts about the calibration.

        Returns
        -------
        list of str
            Empty when the athlete stood still and the guided movement (if any) was used.
        """
        out = []
        if self.window.quality != "still":
            out.append(f"calibration: {self.window.describe()}; the measures carry a wider "
                       "uncertainty (see uncertainty)")
        if self.movement not in (None, "used"):
            out.append(f"calibration movement: {self.movement}; the thigh's axes come from "
                       "the reps, with the wider uncertainty of that case")
        return out

    def to_json(self) -> dict:
        """The analysis document's ``calibration`` block.

        Returns
        -------
        dict
            ``window_s`` (s) plus quality figures: stillness and per sensor its method,
            gravity and axis figures.
        """
        return {
            "window_s": [round(self.window.t0, 3), round(self.window.t1, 3)],
            **({"movement": self.movement} if self.movement is not None else {}),
            "quality": self.window.quality,
            "stillness": {"gyr_std_deg_s": round(float(np.degrees(self.window.gyr_std_rad_s)), 3),
                          "acc_std_ms2": round(self.window.acc_std_ms2, 4)},
            "sensors": {
                p: {"method": c.method,
                    "gyr_bias_deg_s": [round(float(v), 3) for v in np.degrees(c.gyr_bias)],
                    "gravity_ms2": round(c.gravity_ms2, 3),
                    **({"flexion_axis_share": round(c.axis_share, 3)} if c.axis_share else {}),
                    **({"flexion_axis_to_vertical_deg": round(c.axis_gravity_deg, 1)}
                       if c.axis_gravity_deg else {}),
                    **({"joint_coherence": round(c.joint_coherence, 3)}
                       if c.joint_coherence is not None else {}),
                    **({"heading_sd_deg": round(c.heading_sd_deg, 2),
                        "bends_weight": round(c.bends_weight, 3)}
                       if c.heading_sd_deg is not None else {})}
                for p, c in self.sensors.items()
            },
        }


def uses_flexion_axis(placement: str) -> bool:
    """Does this sensor's frame come from the movement (the flexion axis), not only from
    the standing pose?

    Parameters
    ----------
    placement : str
        The sensor's placement.

    Returns
    -------
    bool
        True for thigh and shank sensors.
    """
    return placement.partition("_")[0] in ("thigh", "shank")


def _segment_frame(placement: str, up: np.ndarray, gyr_moving: np.ndarray | None,
                   test_leg: str) -> tuple[SegmentFrame, str]:
    """gyr_moving: (M, 3) rad/s after the standing window, for the sensors that
    :func:`uses_flexion_axis` (None for the others)."""
    segment, _, side = placement.partition("_")
    if uses_flexion_axis(placement):
        try:
            axis, share = functional_axis(gyr_moving)
        except ValueError:
            raise CalibrationError(
                f"{placement}: only standing, no reps: too little movement after the standing "
                "window to find the knee/hip flexion axis; record at least one full "
                "step-down") from None
        return frame_from_flexion(up, axis, right_sign_of_normal(segment, side), share), \
            "gravity+flexion axis"
    if segment in ("pelvis", "trunk"):
        try:
            return frame_from_normal(up, -1.0 if segment == "pelvis" else 1.0), "gravity+skin normal"
        except ValueError as err:
            raise CalibrationError(f"{placement}: {err}") from None
    return SegmentFrame(np.eye(3)), "none"


def _check_frame(placement: str, frame: SegmentFrame, limits: CalibrationLimits) -> None:
    if frame.axis_share is not None and frame.axis_share < limits.min_axis_share:
        raise CalibrationError(
            f"{placement}: the movement is not dominated by flexion (share "
            f"{frame.axis_share:.2f} < {limits.min_axis_share}); is this a step-down recording?")
    if frame.axis_gravity_deg is not None and frame.axis_gravity_deg < limits.min_axis_gravity_deg:
        raise CalibrationError(
            f"{placement}: flexion axis is {frame.axis_gravity_deg:.0f}° from vertical "
            f"(expected near 90°); the sensor may have moved on the body")


def standing_window(rec: Recording, limits: StandingLimits | None = None) -> StandingWindow:
    """The calibration window, swaying or short ones included (see ``quality``).

    With a guided calibration movement, the window is looked for before its prompt first
    (a slow first bend starts below any stillness threshold, and a reference pose that
    holds part of it is bent), then anywhere; an athlete swaying beyond the limits is
    looked for the same way (:func:`calibration.standing.find_unsteady_window`).

    Parameters
    ----------
    rec : Recording
        The recording.
    limits : StandingLimits, optional
        What counts as standing (default: the defaults).

    Returns
    -------
    StandingWindow
        The window; CalibrationError saying what was found when there is no usable
        standing at all.
    """
    movement = calibration_movement_window(rec)
    where = [rec]
    if movement is not None:
        before = {p: s.slice_time(-np.inf, movement[0]) for p, s in rec.streams.items()}
        if all(len(s) > 1 for s in before.values()):
            where.insert(0, replace(rec, streams=before))
    held = trailing = None
    legs_move = moves_after(rec, -np.inf)  # a standing-only file keeps its still window
    for find in (find_standing_window, find_unsteady_window):
        for part in where:
            win = find(part, limits)
            if win is None:
                continue
            turn = posture_turn_deg(rec, win)
            if turn > POSTURE_TURN_MAX_DEG:
                held = held or (win, turn)
            elif legs_move and not moves_after(rec, win.t1):
                # the stillness at the end, after every rep: no flexion axis can be found
                # after it, so a swaying standing at the start is the better reference
                trailing = trailing or win
            else:
                return win
    if trailing is not None:
        return trailing
    if held is not None:
        (win, turn), usable = held, (limits or StandingLimits()).min_usable_s
        raise CalibrationError(
            f"no quiet standing found: the stillest stretch, {win.t0:.1f}-{win.t1:.1f} s, holds "
            f"the sensors {turn:.0f}° from the recording's start (a held pose, not standing), and "
            f"the standing at the start never held still for {usable:g} s; "
            "the recording must start with ≥2 s of standing before the first rep or hold")
    raise CalibrationError(
        f"no quiet standing found: {describe_no_window(rec, limits)}; the recording must start "
        "with ≥2 s of standing on the step (one or both feet) before the first rep")


def moves_after(rec: Recording, t: float) -> bool:
    """Whether the legs move enough after time ``t`` to find their flexion axes: every
    thigh and shank sensor turns faster than MIN_MOVING_RAD_S on at least 10 samples after
    it, as :func:`calibration.segment_frames.functional_axis` needs.

    Parameters
    ----------
    rec : Recording
        The recording.
    t : float
        The time, s (``-inf``: anywhere in the recording).

    Returns
    -------
    bool
        False when a leg sensor only stands (or sways) after ``t``.
    """
    return all(int((row_norms(s.gyr[s.t > t]) > MIN_MOVING_RAD_S).sum()) >= 10
               for p, s in rec.streams.items() if uses_flexion_axis(p))


def gyro_biases(rec: Recording, win: StandingWindow) -> dict[str, np.ndarray]:
    """Every sensor's gyro bias: its mean over the standing window.

    Parameters
    ----------
    rec : Recording
        The recording.
    win : StandingWindow
        The standing window.

    Returns
    -------
    dict of str to numpy.ndarray
        Placement -> (3,) bias, rad/s, sensor frame.
    """
    out = {}
    for placement, s in rec.streams.items():
        out[placement] = s.gyr[time_slice(s.t, win.t0, win.t1)].mean(axis=0)
    return out


def _horizontal_part(gyr: np.ndarray, t: np.ndarray,
                     vertical: tuple[np.ndarray, np.ndarray] | None) -> np.ndarray:
    """Angular velocity minus its component about the global vertical (sensor frame).

    A knee that moves in turns the whole leg about the (near-vertical) hip-ankle
    line; removing rotation about the vertical leaves the flexion the axis is
    found from.  Without the vertical series the gyro is used as it is.
    """
    if vertical is None:
        return gyr
    tv, v = vertical
    vx, vy, vz = (np.interp(t, tv, v[:, i]) for i in range(3))
    norm = np.sqrt(vx * vx + vy * vy + vz * vz)
    vx, vy, vz = vx / norm, vy / norm, vz / norm
    about_vertical = gyr[:, 0] * vx + gyr[:, 1] * vy + gyr[:, 2] * vz
    return gyr - about_vertical[:, None] * np.column_stack([vx, vy, vz])


def calibrate(rec: Recording, *, window: StandingWindow | None = None,
              vertical: Mapping[str, tuple[np.ndarray, np.ndarray]] | None = None,
              biases: Mapping[str, np.ndarray] | None = None,
              tracks: Mapping[str, SensorTrack | Sequence[SensorTrack]] | None = None,
              body: Body | None = None,
              movement: tuple[float, float] | None = None,
              limits: CalibrationLimits | None = None) -> Calibration:
    """Calibrate every sensor of a recording (see module docstring).

    Parameters
    ----------
    rec : Recording
        The recording.
    window : StandingWindow, optional
        The standing window if already found (:func:`standing_window`).
    vertical : Mapping, optional
        Per placement ``(t, v)``: times (M,) s and the global vertical (M, 3) unit vectors
        in sensor coordinates, from an orientation filter (inclination only, no heading
        needed); improves the flexion axes, so only the placements that
        :func:`uses_flexion_axis` need it, and the pelvis's when there is a ``movement``
        (its heading from the bends).
    biases : Mapping, optional
        Placement -> the gyro bias (3,) rad/s of that window if already computed
        (:func:`gyro_biases`).
    tracks : Mapping, optional
        Per placement, the orientation (any heading) and signals of the stretch that holds
        the standing window; with ``body``, a test-leg thigh and shank worn together take
        their flexion axes from the knee hinge (:mod:`calibration.joint_heading`), which leg
        rotation in step with the flexion cannot tilt; else the functional flexion axis. A
        recording in pieces (each with its own heading) gives a sequence of tracks per
        placement, one per piece: the hinge is then pooled over the pieces' movement.
    body : Body, optional
        Segment lengths, m (for the knee hinge's lever arms).
    movement : (float, float), optional
        [t0, t1] (s) of the guided knee bends on both feet
        (:func:`sensor_io.recording.calibration_movement_window`): the leg sensors' flexion
        axes are then found in it, where no balance tilt follows the flexion; when it holds
        too little bending (or flexion does not dominate), from the reps as without it.
        With the pelvis's ``vertical``, the pelvis's heading is fused with the bends'
        (:func:`_pelvis_with_bends`).
    limits : CalibrationLimits, optional
        What a flexion axis must meet (default: the defaults).

    Returns
    -------
    Calibration
        Every sensor's frame; CalibrationError (one line) when one cannot be trusted.
    """
    win = window or standing_window(rec)
    biases = biases if biases is not None else gyro_biases(rec, win)
    limits = limits or CalibrationLimits()
    guided = (_guided_axes(rec, movement, biases, vertical, limits.min_axis_share)
              if movement is not None else None)
    out = {}
    for placement in rec.placements:
        s = rec.streams[placement]
        up = s.acc[time_slice(s.t, win.t0, win.t1)].mean(axis=0)
        g = float(np.linalg.norm(up))
        if not 0.9 * GRAVITY_MS2 < g < 1.1 * GRAVITY_MS2:
            raise CalibrationError(
                f"{placement}: reads {g:.2f} m/s² while standing still, not gravity (9.81): "
                "check the accelerometer units and scale")
        moving = None
        if uses_flexion_axis(placement):
            after = slice(int(np.searchsorted(s.t, win.t1, side="right")), None)  # t > t1
            moving = _horizontal_part(s.gyr[after] - biases[placement], s.t[after],
                                      (vertical or {}).get(placement))
        if guided is not None and placement in guided.axes:
            axis, share = guided.axes[placement]
            segment, _, side = placement.partition("_")
            frame = frame_from_flexion(up, axis, right_sign_of_normal(segment, side), share)
            method = GUIDED_METHOD
        else:
            frame, method = _segment_frame(placement, up, moving, rec.test_leg)
        _check_frame(placement, frame, limits)
        out[placement] = SensorCalibration(placement, biases[placement], frame.R_sensor_seg, g,
                                           method, frame.axis_share, frame.axis_gravity_deg)
    if tracks is not None and body is not None:
        out = _leg_frames_from_joints(out, rec.test_leg, win, tracks, body)
    if vertical is not None:
        out = _leg_signs_from_tilt(out, win, vertical)
    if movement is not None and vertical is not None and "pelvis" in vertical and "pelvis" in out:
        out["pelvis"] = _pelvis_with_bends(out["pelvis"], vertical["pelvis"], movement)
    return Calibration(win, out, None if guided is None else guided.status)


@dataclass(frozen=True)
class GuidedAxes:
    """The flexion axes found in the guided movement."""

    axes: dict[str, tuple[np.ndarray, float]]
    """Leg placement -> its (3,) unit flexion axis, sensor frame, and its energy share."""
    status: str
    """"used", or why none was (see :class:`Calibration`)."""


def _guided_axes(rec: Recording, movement: tuple[float, float], biases: Mapping[str, np.ndarray],
                 vertical: Mapping[str, tuple[np.ndarray, np.ndarray]] | None,
                 min_axis_share: float = MIN_AXIS_SHARE) -> GuidedAxes:
    """The leg sensors' functional flexion axes inside the guided movement's window,
    or none of them (with the reason) when any leg sensor did not bend there."""
    t0, t1 = movement
    axes = {}
    for placement in rec.placements:
        if not uses_flexion_axis(placement):
            continue
        s = rec.streams[placement]
        m = time_slice(s.t, t0, t1)
        gyr = _horizontal_part(s.gyr[m] - biases[placement], s.t[m],
                               (vertical or {}).get(placement))
        try:
            axis, share = functional_axis(gyr, GUIDED_MIN_RATE_RAD_S)
        except ValueError:
            problem = f"{placement} did not bend in {t0:.1f}-{t1:.1f} s"
        else:
            if share >= min_axis_share:
                axes[placement] = (axis, share)
                continue
            problem = (f"{placement} moved in {t0:.1f}-{t1:.1f} s but not mostly by bending "
                       f"(flexion share {share:.2f})")
        if placement.startswith("thigh"):
            return GuidedAxes({}, problem)
        # a shank that barely turned: its frame comes from the knee hinge or the reps
    return GuidedAxes(axes, "used")


def _pelvis_with_bends(cal: SensorCalibration, vertical: tuple[np.ndarray, np.ndarray],
                       movement: tuple[float, float]) -> SensorCalibration:
    """The pelvis's skin-normal frame turned about the vertical toward the bends' anterior
    axis, by inverse variance (:mod:`calibration.pelvis_heading`); unchanged when the
    pelvis did not tilt in the bends."""
    t, v = vertical
    bends = heading_from_bends(cal.R_sensor_seg, v[time_slice(t, *movement)])
    if bends is None:
        return cal
    fused = fuse_heading(bends)
    return replace(cal, R_sensor_seg=turned_about_vertical(cal.R_sensor_seg, fused.psi_rad),
                   method=f"{cal.method}+guided bends",
                   heading_sd_deg=float(np.degrees(fused.sd_rad)), bends_weight=fused.weight)


def _leg_signs_from_tilt(cals: dict[str, SensorCalibration], win: StandingWindow,
                         vertical: Mapping[str, tuple[np.ndarray, np.ndarray]]
                         ) -> dict[str, SensorCalibration]:
    """Leg frames turned 180° about their long axis where the movement says their anterior
    is the other way (:func:`calibration.segment_frames.anterior_sign_from_tilt`): a sensor
    worn on another face than DESIGN.md's (the CMU-MBL left thigh's faces forward)."""
    out = dict(cals)
    for placement, cal in cals.items():
        if not uses_flexion_axis(placement) or placement not in vertical:
            continue
        t, v = vertical[placement]
        after = int(np.searchsorted(t, win.t1, side="right"))  # t > t1, as a view
        sign = anterior_sign_from_tilt(cal.R_sensor_seg, v[after:],
                                       placement.partition("_")[0])
        if sign == -1.0:
            out[placement] = replace(cal, R_sensor_seg=cal.R_sensor_seg * np.array([-1.0, 1.0, -1.0]),
                                     method=f"{cal.method}, sign from the movement")
    return out


def _leg_frames_from_joints(cals: dict[str, SensorCalibration], test_leg: str,
                            win: StandingWindow,
                            tracks: Mapping[str, SensorTrack | Sequence[SensorTrack]],
                            body: Body) -> dict[str, SensorCalibration]:
    """The test leg's thigh and shank frames from the knee hinge (see
    :func:`calibration.joint_heading.knee_hinge`), where both sensors are worn and the
    knee's joint-centre accelerations agree; the functional axes otherwise."""
    thigh, shank = f"thigh_{test_leg}", f"shank_{test_leg}"
    if not all(p in tracks and p in cals for p in (thigh, shank)):
        return cals
    t_cal, s_cal = cals[thigh], cals[shank]
    r_t = lever_arms("thigh", t_cal.R_sensor_seg[:, 1], body)["knee"]
    r_s = lever_arms("shank", s_cal.R_sensor_seg[:, 1], body)["knee"]
    hinge = knee_hinge_pooled(_overlapping(tracks[thigh], tracks[shank]), r_t, r_s)
    if hinge is None:
        return cals
    out = dict(cals)
    for placement, cal, axis in ((thigh, t_cal, hinge.axis_thigh), (shank, s_cal, hinge.axis_shank)):
        segment, _, side = placement.partition("_")
        frame = frame_from_flexion(cal.R_sensor_seg[:, 1], axis,
                                   right_sign_of_normal(segment, side), hinge.share)
        out[placement] = SensorCalibration(placement, cal.gyr_bias, frame.R_sensor_seg,
                                           cal.gravity_ms2, "gravity+knee hinge", hinge.share,
                                           frame.axis_gravity_deg, hinge.heading.coherence)
    return out


def _overlapping(thigh: SensorTrack | Sequence[SensorTrack], shank: SensorTrack | Sequence[SensorTrack]
                 ) -> list[tuple[SensorTrack, SensorTrack]]:
    """(thigh, shank) stretches that share time: each thigh piece with the shank piece that
    overlaps it most."""
    thighs = [thigh] if isinstance(thigh, SensorTrack) else list(thigh)
    shanks = [shank] if isinstance(shank, SensorTrack) else list(shank)

    def overlap(a: SensorTrack, b: SensorTrack) -> float:
        return min(a.t[-1], b.t[-1]) - max(a.t[0], b.t[0])

    return [(a, max(shanks, key=lambda b: overlap(a, b))) for a in thighs
            if shanks and max(overlap(a, b) for b in shanks) > 0]
