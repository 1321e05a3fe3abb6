"""Sensor-to-segment rotations from the standing pose and the movement itself.

Segment frames follow ISB (x anterior, y superior, z right).  For each sensor:

- y (superior) is the direction of gravity's reaction measured in the quiet
  standing window (the accelerometer reads +g "up" at rest);
- for the thigh and shank, z (medio-lateral) is the functional flexion axis: the
  principal axis of the angular velocity during the movement (the step-down is
  mostly flexion), made orthogonal to y;
- for the pelvis (sacrum) and trunk (sternum), which barely flex, x (anterior)
  is the sensor's skin normal (its z axis) made horizontal: the sacral sensor
  faces backward, the sternal one forward (with the guided knee bends the pelvis's
  is then turned toward the axis the pelvis tilts about in them:
  :mod:`calibration.pelvis_heading`).

Axis signs come from where a sensor sits (DESIGN.md placements), never from
how a strap was turned: the thigh sensor faces laterally and the shank sensor
anteromedially, so the sign of the flexion axis is the one that points to the
right (ISB z) given the side of the leg.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sensor_io.vectors import row_dots, row_norms

SENSOR_NORMAL = np.array([0.0, 0.0, 1.0])   # sensor z axis = out of the skin
MIN_MOVING_RAD_S = 0.35


@dataclass(frozen=True)
class SegmentFrame:
    """A segment's frame in its sensor's coordinates, and how well it was found."""

    R_sensor_seg: np.ndarray
    """(3, 3): columns are the segment's ISB axes (x anterior, y superior, z right) in
    sensor coordinates."""
    axis_share: float | None = None
    """Fraction of the angular-velocity energy about the functional axis (1 = pure
    flexion; None for static-only frames)."""
    axis_gravity_deg: float | None = None
    """Angle between the functional axis and the standing vertical before
    orthogonalisation, degrees (90° ideal; None for static-only frames)."""


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def functional_axis(gyr: np.ndarray, min_rate_rad_s: float = MIN_MOVING_RAD_S
                    ) -> tuple[np.ndarray, float]:
    """The principal rotation axis of gyro samples.

    Parameters
    ----------
    gyr : numpy.ndarray
        (N, 3) angular rate, rad/s, sensor frame.
    min_rate_rad_s : float
        Only samples turning faster than this count, rad/s.

    Returns
    -------
    tuple of (numpy.ndarray, float)
        The (3,) unit axis, sensor frame, and its share of the angular-velocity energy;
        ValueError with fewer than 10 moving samples.
    """
    w = gyr[row_norms(gyr) > min_rate_rad_s]
    if len(w) < 10:
        raise ValueError("too little movement to find a functional axis")
    vals, vecs = np.linalg.eigh(w.T @ w)
    return vecs[:, -1], float(vals[-1] / vals.sum())


def frame_from_flexion(up_sensor: np.ndarray, axis_sensor: np.ndarray, right_sign: float,
                       axis_share: float) -> SegmentFrame:
    """Frame from the standing vertical and a flexion axis.

    Parameters
    ----------
    up_sensor : numpy.ndarray
        (3,) the standing vertical (up), sensor frame.
    axis_sensor : numpy.ndarray
        (3,) the flexion axis, sensor frame.
    right_sign : float
        +1 if the sensor normal points to the body's right (ISB +z) for this segment, -1
        if to the left; the flexion axis is flipped accordingly.
    axis_share : float
        The axis' share of the angular-velocity energy (:func:`functional_axis`).

    Returns
    -------
    SegmentFrame
        y up, z the flexion axis made orthogonal to it, x = y × z.
    """
    y = _unit(up_sensor)
    ang = float(np.degrees(np.arccos(np.clip(abs(axis_sensor @ y), 0, 1))))
    z = _unit(axis_sensor - (axis_sensor @ y) * y)
    if (z @ SENSOR_NORMAL) * right_sign < 0:
        z = -z
    x = np.cross(y, z)
    return SegmentFrame(np.column_stack([x, y, z]), axis_share, ang)


def frame_from_normal(up_sensor: np.ndarray, anterior_sign: float) -> SegmentFrame:
    """Frame from the standing vertical and the skin normal.

    Parameters
    ----------
    up_sensor : numpy.ndarray
        (3,) the standing vertical (up), sensor frame.
    anterior_sign : float
        +1 when the sensor's normal faces forward, -1 backward.

    Returns
    -------
    SegmentFrame
        y up, x the normal made orthogonal to it, z = x × y; ValueError when the normal
        points up or down.
    """
    y = _unit(up_sensor)
    n = anterior_sign * SENSOR_NORMAL
    x = n - (n @ y) * y
    if np.linalg.norm(x) < 0.2:
        raise ValueError("the sensor's face points up or down; it is not on the body as expected")
    x = _unit(x)
    z = np.cross(x, y)
    return SegmentFrame(np.column_stack([x, y, z]))


def right_sign_of_normal(segment: str, side: str) -> float:
    """Does the sensor normal of a leg sensor point right or left?

    Parameters
    ----------
    segment : str
        ``thigh`` (sensor on the lateral face) or ``shank`` (anteromedial face).
    side : str
        ``left`` or ``right``.

    Returns
    -------
    float
        +1 right, -1 left; ValueError for another segment.
    """
    lateral_is_right = side == "right"
    if segment == "thigh":
        return 1.0 if lateral_is_right else -1.0
    if segment == "shank":
        return -1.0 if lateral_is_right else 1.0
    raise ValueError(f"no flexion-axis sign rule for {segment}")


TILT_FORWARD_IS_ANTERIOR = {"thigh": 1.0, "shank": -1.0}
"""At the deepest of a step-down (or squat) the thigh's knee end goes forward, so the world
vertical, seen in the thigh's coordinates, tilts toward its anterior (+x); the shank's
top (the knee) goes forward over the foot, so in the shank's coordinates it tilts
posterior."""
MIN_SIGN_TILT_DEG = 10.0   # less tilt at the deepest moments cannot tell front from back


def anterior_sign_from_tilt(R_sensor_seg: np.ndarray, vertical_moving: np.ndarray,
                            segment: str) -> float | None:
    """Does the frame's x axis point where the segment's anterior is, by the movement itself?

    The sign rule of :func:`frame_from_flexion` needs the sensor on its DESIGN.md face
    (lateral thigh, anteromedial shank); a sensor on another face (the front of the thigh)
    has its normal across the flexion axis and the sign is a coin toss. This one is not.

    Parameters
    ----------
    R_sensor_seg : numpy.ndarray
        (3, 3) a thigh or shank frame.
    vertical_moving : numpy.ndarray
        (M, 3) the world vertical in sensor coordinates (unit vectors, from an orientation
        filter: no heading needed) over the movement.
    segment : str
        ``thigh`` or ``shank``.

    Returns
    -------
    float or None
        +1 when x agrees with the way the segment tilts at its deepest moments (the
        most-tilted tenth of the samples, see :data:`TILT_FORWARD_IS_ANTERIOR`), -1 when it
        is the other way (the frame is then turned 180° about y: x and z flipped), None when
        the segment tilts less than MIN_SIGN_TILT_DEG there (or fewer than 10 samples).
    """
    if len(vertical_moving) < 10:
        return None
    y = R_sensor_seg[:, 1]
    v = np.asarray(vertical_moving, dtype=np.float64)
    across = v - row_dots(v, y)[:, None] * y
    tilt = row_norms(across)
    deep = tilt >= np.quantile(tilt, 0.9)
    if np.degrees(np.arcsin(np.clip(np.median(tilt[deep]), 0.0, 1.0))) < MIN_SIGN_TILT_DEG:
        return None
    forward = float(across[deep].mean(axis=0) @ R_sensor_seg[:, 0])
    return 1.0 if forward * TILT_FORWARD_IS_ANTERIOR[segment] > 0 else -1.0
