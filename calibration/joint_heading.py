"""Leg-sensor headings from the joints they share with the pelvis, not from the rep.

Without a magnetometer every sensor's orientation has its own arbitrary heading, and
the functional flexion axis of a thigh or shank sensor (the principal axis of its
rotation) is what :mod:`calibration.segment_frames` turns into that segment's
heading.  When the knee moves inward or the leg tilts sideways *in step with* the
flexion (valgus that grows with depth, a hip shifting over the foot as the trunk
leans), the principal axis turns with it and forward motion leaks into the knee's
medial displacement and the hip's adduction.

With a thigh and a shank sensor the knee itself separates the two:

1. The two segments share the knee joint centre's acceleration (Seel et al.,
   "IMU-based joint angle measurement for gait analysis", Sensors 14 (2014)
   6891-6909; Laidig et al., "Exploiting kinematic constraints to compensate
   magnetic disturbances when calculating joint angles of approximate hinge joints",
   IEEE EMBC 2017).  From each sensor it is the specific force plus the rotational
   terms of its lever arm; rotated into each sensor's own (heading-arbitrary) world
   frame, the two horizontal accelerations differ only by the turn between the two
   world frames, found in closed form (2-D Procrustes).
2. With that turn, the shank's angular velocity is expressed in the thigh's frame;
   the difference, the knee's *relative* angular velocity, holds no whole-leg motion
   (valgus turning the leg, the leg tilting over the foot, sway): for a hinge-like
   knee it lies along the flexion axis, whose principal direction is taken in each
   sensor's frame.  Nothing here depends on how valgus is timed against flexion.

Lever arms are the DESIGN.md mounting sites with standard anthropometric ratios
(:class:`sensor_io.anthropometry.Body`): a few centimetres wrong only scale the
small rotational terms.  Without a shank sensor the hip, a ball joint, has no such
axis: the thigh keeps its functional axis (docs/accuracy.md says what that costs).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import butter, sosfiltfilt
from scipy.spatial.transform import Rotation

from sensor_io.anthropometry import Body
from sensor_io.vectors import row_norms

BAND_HZ = (0.2, 3.0)       # the step-down's own accelerations; not tilt drift, not wobble
MIN_COHERENCE = 0.8        # below this the two joint-centre accelerations do not agree
MIN_ACC_RMS_MS2 = 0.15     # too little horizontal acceleration to tell a heading
THIGH_LATERAL_M = 0.075    # lateral mid-thigh sensor: its depth from the femur's axis
SHANK_FRONT_M = 0.035      # anteromedial tibia sensor: its depth from the tibia's axis
MIN_KNEE_RATE = 0.35       # rad/s: relative rates below this carry noise, not the axis
MIN_PAIR_SAMPLES = 50      # a shorter shared stretch cannot be band-passed to BAND_HZ


@dataclass(frozen=True)
class SensorTrack:
    """One sensor's data for the joint method, on its own uniform grid."""

    t: np.ndarray
    """(M,) sample times, s."""
    q_world_sensor: np.ndarray
    """(M, 4) sensor orientation in its world frame (z up, any heading), [w, x, y, z]."""
    acc: np.ndarray
    """(M, 3) specific force, m/s², sensor frame."""
    gyr: np.ndarray
    """(M, 3) angular rate with the bias removed, rad/s, sensor frame."""


@dataclass(frozen=True)
class JointHeading:
    """The turn from the distal sensor's world frame to the proximal one's."""

    delta_rad: float
    """The turn about the vertical, rad."""
    coherence: float
    """How well the two joint-centre accelerations agree once turned (0..1)."""
    acc_rms_ms2: float
    """RMS of the proximal joint-centre acceleration, m/s² (too little movement: no
    heading)."""

    @property
    def usable(self) -> bool:
        """Coherent enough and with enough movement to be trusted."""
        return self.coherence >= MIN_COHERENCE and self.acc_rms_ms2 >= MIN_ACC_RMS_MS2


def _rot(q: np.ndarray) -> Rotation:
    return Rotation.from_quat(q[..., [1, 2, 3, 0]])


def lever_arms(segment: str, up_sensor: np.ndarray, body: Body) -> dict[str, np.ndarray]:
    """Sensor-to-joint-centre vectors, by joint name.

    The sensor's z axis points out of the skin (DESIGN.md), so no heading is needed.

    Parameters
    ----------
    segment : str
        ``thigh`` or ``shank``.
    up_sensor : numpy.ndarray
        (3,) the standing vertical in sensor coordinates (the segment's long axis).
    body : Body
        Segment lengths, m.

    Returns
    -------
    dict of str to numpy.ndarray
        Joint (``hip``, ``knee``) -> (3,) vector, m, sensor frame; ValueError for another
        segment.
    """
    y = up_sensor / np.linalg.norm(up_sensor)
    n = np.array([0.0, 0.0, 1.0])
    if segment == "thigh":
        return {"hip": 0.5 * body.thigh_m * y - THIGH_LATERAL_M * n,
                "knee": -0.5 * body.thigh_m * y - THIGH_LATERAL_M * n}
    if segment == "shank":
        return {"knee": 0.4 * body.shank_m * y - SHANK_FRONT_M * n}
    raise ValueError(f"no joint lever arms for {segment}")


def joint_acceleration(track: SensorTrack, r_sensor: np.ndarray) -> np.ndarray:
    """The horizontal acceleration of a point fixed to a sensor.

    Parameters
    ----------
    track : SensorTrack
        The sensor's data.
    r_sensor : numpy.ndarray
        (3,) the point, m, sensor frame.

    Returns
    -------
    numpy.ndarray
        (M, 2) its horizontal acceleration in the sensor's own world frame, m/s²,
        band-passed to BAND_HZ.
    """
    dt = float(np.median(np.diff(track.t)))
    fs = 1.0 / dt
    w = sosfiltfilt(butter(2, BAND_HZ[1], "lowpass", fs=fs, output="sos"), track.gyr, axis=0)
    a_point = np.cross(np.gradient(w, dt, axis=0), r_sensor)
    a_point += track.acc  # acc + dw x r + w x (w x r), summed in place (hour-long tracks)
    a_point += np.cross(w, np.cross(w, r_sensor))
    del w
    a_world = _rot(track.q_world_sensor).apply(a_point)[:, :2]
    del a_point
    return sosfiltfilt(butter(2, BAND_HZ, "bandpass", fs=fs, output="sos"), a_world, axis=0)


def heading_between(proximal: np.ndarray, distal: np.ndarray) -> JointHeading:
    """The turn about the vertical that maps one horizontal series onto another best in the
    least-squares sense, with the normalised agreement.

    Parameters
    ----------
    proximal : numpy.ndarray
        (N, 2) horizontal acceleration in the proximal sensor's world frame, m/s².
    distal : numpy.ndarray
        (N, 2) the same point's in the distal sensor's world frame.

    Returns
    -------
    JointHeading
        The turn, its coherence and the proximal RMS.
    """
    dot = float(np.sum(proximal * distal))
    cross = float(np.sum(distal[:, 0] * proximal[:, 1] - distal[:, 1] * proximal[:, 0]))
    energy = float(np.sqrt(np.sum(proximal ** 2) * np.sum(distal ** 2)))
    coherence = float(np.hypot(dot, cross) / energy) if energy > 0 else 0.0
    rms = float(np.sqrt(np.mean(np.sum(proximal ** 2, axis=1))))
    return JointHeading(float(np.arctan2(cross, dot)), coherence, rms)


def joint_heading(proximal: SensorTrack, r_proximal: np.ndarray, distal: SensorTrack,
                  r_distal: np.ndarray) -> JointHeading:
    """Heading of the distal sensor's world frame relative to the proximal one's, from
    the acceleration of the joint centre they share.

    The distal sensor's data are put on the proximal one's grid.

    Parameters
    ----------
    proximal : SensorTrack
        The proximal sensor (e.g. the thigh's for the knee).
    r_proximal : numpy.ndarray
        (3,) from the proximal sensor to the joint centre, m, sensor frame.
    distal : SensorTrack
        The distal sensor.
    r_distal : numpy.ndarray
        (3,) from the distal sensor to the joint centre, m, sensor frame.

    Returns
    -------
    JointHeading
        The turn and how well it holds.
    """
    inside = _within(proximal.t, distal.t)
    t = proximal.t[inside]
    resampled = SensorTrack(
        t, _interp_quat(t, distal.t, distal.q_world_sensor),
        np.column_stack([np.interp(t, distal.t, distal.acc[:, i]) for i in range(3)]),
        np.column_stack([np.interp(t, distal.t, distal.gyr[:, i]) for i in range(3)]))
    cut = SensorTrack(t, proximal.q_world_sensor[inside], proximal.acc[inside],
                      proximal.gyr[inside])
    return heading_between(joint_acceleration(cut, r_proximal),
                           joint_acceleration(resampled, r_distal))


def _within(t: np.ndarray, other: np.ndarray) -> slice:
    """The samples of ascending times ``t`` within [other[0], other[-1]], as a slice (a
    view, not a copy: the tracks of an hour-long session are large)."""
    return slice(int(np.searchsorted(t, other[0], side="left")),
                 int(np.searchsorted(t, other[-1], side="right")))


def _interp_quat(t_new: np.ndarray, t: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Normalised component-wise interpolation of [w x y z] quaternions (sign-continuous)."""
    q = q.copy()
    flip = np.cumsum(np.concatenate([[0], (np.sum(q[1:] * q[:-1], axis=1) < 0).astype(int)])) % 2
    q[flip == 1] *= -1
    out = np.column_stack([np.interp(t_new, t, q[:, i]) for i in range(4)])
    return out / np.linalg.norm(out, axis=1)[:, None]


@dataclass(frozen=True)
class KneeHinge:
    """The knee flexion axis in both sensors' coordinates."""

    axis_thigh: np.ndarray
    """(3,) unit axis in the thigh sensor's frame."""
    axis_shank: np.ndarray
    """(3,) unit axis in the shank sensor's frame."""
    share: float
    """Share of the relative rotation about it (0..1)."""
    heading: JointHeading
    """The heading that related the two sensors."""


def knee_hinge(thigh: SensorTrack, r_thigh: np.ndarray, shank: SensorTrack,
               r_shank: np.ndarray) -> KneeHinge | None:
    """The knee's flexion axis from the thigh's and shank's relative angular velocity.

    Parameters
    ----------
    thigh : SensorTrack
        The thigh sensor.
    r_thigh : numpy.ndarray
        (3,) from the thigh sensor to the joint centre, m, sensor frame.
    shank : SensorTrack
        The shank sensor.
    r_shank : numpy.ndarray
        (3,) from the shank sensor to the joint centre, m, sensor frame.

    Returns
    -------
    KneeHinge or None
        The axis; None when the knee's joint-centre accelerations do not give a usable
        heading.
    """
    return knee_hinge_pooled([(thigh, shank)], r_thigh, r_shank)


def knee_hinge_pooled(pairs: list[tuple[SensorTrack, SensorTrack]], r_thigh: np.ndarray,
                      r_shank: np.ndarray) -> KneeHinge | None:
    """:func:`knee_hinge` over several (thigh, shank) stretches, each with its own heading
    (a recording in pieces: per-rep files, a long dropout).

    Each stretch's heading is found on its own; the relative angular velocities of those
    with a usable one, in sensor coordinates (heading-free), are pooled for the axes.

    Parameters
    ----------
    pairs : list of (SensorTrack, SensorTrack)
        The (thigh, shank) stretches.
    r_thigh : numpy.ndarray
        (3,) from the thigh sensor to the joint centre, m, sensor frame.
    r_shank : numpy.ndarray
        (3,) from the shank sensor to the joint centre, m, sensor frame.

    Returns
    -------
    KneeHinge or None
        The axes, with the most coherent stretch's heading; None when no stretch is
        usable.
    """
    rates_t, rates_s, headings = [], [], []
    for thigh, shank in pairs:
        found = _knee_rates(thigh, r_thigh, shank, r_shank)
        if found is not None:
            rates_t.append(found[0])
            rates_s.append(found[1])
            headings.append(found[2])
    if sum(len(w) for w in rates_t) < 10:
        return None
    axis_t, share = _principal_axis(np.concatenate(rates_t))
    axis_s, _ = _principal_axis(np.concatenate(rates_s))
    return KneeHinge(axis_t, axis_s, share, max(headings, key=lambda h: h.coherence))


def _knee_rates(thigh: SensorTrack, r_thigh: np.ndarray, shank: SensorTrack, r_shank: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, JointHeading] | None:
    """The knee's relative angular velocity (M,3) rad/s where it moves, in the thigh's and
    in the shank's sensor coordinates, and the heading that related the two; None when the
    joint-centre accelerations do not give a usable heading."""
    if np.count_nonzero((thigh.t >= shank.t[0]) & (thigh.t <= shank.t[-1])) < MIN_PAIR_SAMPLES:
        return None
    heading = joint_heading(thigh, r_thigh, shank, r_shank)
    if not heading.usable:
        return None
    inside = _within(thigh.t, shank.t)
    t = thigh.t[inside]
    R_wt = _rot(thigh.q_world_sensor[inside])
    R_ws = Rotation.from_rotvec([0.0, 0.0, heading.delta_rad]) * _rot(
        _interp_quat(t, shank.t, shank.q_world_sensor))
    w_s = np.column_stack([np.interp(t, shank.t, shank.gyr[:, i]) for i in range(3)])
    w_rel_world = R_wt.apply(thigh.gyr[inside]) - R_ws.apply(w_s)
    moving = row_norms(w_rel_world) > MIN_KNEE_RATE
    return (R_wt[moving].inv().apply(w_rel_world[moving]) if moving.any() else np.zeros((0, 3)),
            R_ws[moving].inv().apply(w_rel_world[moving]) if moving.any() else np.zeros((0, 3)),
            heading)


def _principal_axis(w: np.ndarray) -> tuple[np.ndarray, float]:
    """Principal direction (3,) of angular velocities (N,3) and its energy share."""
    vals, vecs = np.linalg.eigh(w.T @ w)
    return vecs[:, -1], float(vals[-1] / vals.sum())
