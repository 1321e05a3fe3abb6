"""Clinical measures from segment orientations (facing frame: x forward, y left, z up).

Definitions (docs/conventions.md has the figure-free version of the same):

- pelvic obliquity: asin of the vertical component of the pelvis' right (z)
  axis; ``pelvic_drop_deg`` > 0 when the swing side is lower.
- lateral trunk inclination: the same for the trunk; ``trunk_lean_deg`` is its
  magnitude.
- hip angles: thigh relative to pelvis by the ISB joint coordinate system,
  intrinsic z-x'-y'' (flexion, adduction, internal rotation > 0; adduction and
  rotation sign-flipped for a left hip so both sides read alike).
- knee medial displacement: horizontal position of the knee joint centre
  medial to the ankle (foot fixed on the step).  With a shank sensor it is the
  shank's long axis times its length; with thigh + pelvis only, the body model
  assumes the hip centre keeps its standing medio-lateral place over the foot
  (the athlete balances over the stance foot), so the knee's displacement is
  the thigh's long axis times its length, seen from the hip.
- depth: inclination of the thigh's long axis from vertical (rad), the signal
  rep segmentation works on.

All series are (N,) and absolute; :func:`relative_to` subtracts the standing mean.
"""

from __future__ import annotations

import numpy as np

from analysis import quat


def side_sign(test_leg: str) -> float:
    """+1 for a right test leg, -1 for a left one."""
    return 1.0 if test_leg == "right" else -1.0


def obliquity_rad(q_facing_seg: np.ndarray) -> np.ndarray:
    """Elevation of the segment's right (z) axis above horizontal, rad, (N,)."""
    z = quat.axis_of(q_facing_seg, 2)
    return np.arcsin(np.clip(z[..., 2], -1.0, 1.0))


def pelvic_drop_rad(q_facing_pelvis: np.ndarray, test_leg: str) -> np.ndarray:
    """Pelvic obliquity, > 0 when the swing side is lower (rad)."""
    return side_sign(test_leg) * obliquity_rad(q_facing_pelvis)


def trunk_inclination_rad(q_facing_trunk: np.ndarray) -> np.ndarray:
    """Lateral trunk inclination, signed (> 0 toward the left), rad."""
    return -obliquity_rad(q_facing_trunk)


GIMBAL_LOCK_RAD = 1e-7
"""How close (rad) the middle z-x'-y'' angle may come to ±π/2 before the third is set to 0
(scipy's threshold, so :func:`euler_zxy_rad` agrees with ``as_euler`` there too)."""


def euler_zxy_rad(q: np.ndarray) -> np.ndarray:
    """Intrinsic z-x'-y'' Euler angles (a, b, c) of q = [w x y z], rad: (4,) -> (3,), (N, 4) -> (N, 3).

    R(q) = Rz(a) Rx(b) Ry(c); for q = q_pelvis_thigh, a is about the pelvis' z
    (medio-lateral) axis, b about the floating x' axis, c about the thigh's own y''
    (long) axis; a, c in [-π, π], b in [-π/2, π/2].  The same numbers as scipy's
    ``Rotation.as_euler("ZXY")`` (to ~1e-15), by the same closed form (Bernardes &
    Viollet 2022) written out for this one sequence.  With the half-angle terms

        σ = atan2(y - z, w - x),   δ = atan2(-(y + z), w + x),

    σ + δ is the argument of ((w - x) + i(y - z)) ((w + x) - i(y + z)) = R11 + i R01
    and σ - δ that of ((w - x) + i(y - z)) ((w + x) + i(y + z)) = R22 - i R20, where
    R01 = -sin a cos b, R11 = cos a cos b, R20 = -cos b sin c, R22 = cos b cos c; so

        a = -(σ + δ),   c = σ - δ   (wrapped to [-π, π]),
        b = 2 atan2(|(w + x, y + z)|, |(w - x, y - z)|) - π/2   (= asin R21, precise near ±π/2).

    Every term is a ratio of components of q, so q need not be normalised, and q, -q
    give the same angles.  At gimbal lock (b within GIMBAL_LOCK_RAD of ±π/2) only
    a ± c is defined: like scipy (which warns there), c = 0 and a takes the whole
    turn, -2σ at b = -π/2 and -2δ at b = +π/2.
    """
    w, x, y, z = np.moveaxis(np.asarray(q, dtype=np.float64), -1, 0)
    half_sum = np.arctan2(y - z, w - x)        # σ
    half_diff = np.arctan2(-(y + z), w + x)    # δ
    b_up = 2.0 * np.arctan2(np.sqrt((w + x) ** 2 + (y + z) ** 2),
                            np.sqrt((w - x) ** 2 + (y - z) ** 2))   # b + π/2, in [0, π]
    a = _wrap(-(half_sum + half_diff))
    c = _wrap(half_sum - half_diff)
    lock_down = b_up <= GIMBAL_LOCK_RAD              # b = -π/2: only a - c is defined
    lock_up = b_up >= np.pi - GIMBAL_LOCK_RAD        # b = +π/2: only a + c is defined
    if lock_down.any() or lock_up.any():
        a = np.where(lock_down, _wrap(-2.0 * half_sum), np.where(lock_up, _wrap(-2.0 * half_diff), a))
        c = np.where(lock_down | lock_up, 0.0, c)
    return np.stack([a, b_up - 0.5 * np.pi, c], axis=-1)


def _wrap(angle: np.ndarray) -> np.ndarray:
    """Angles (rad) in [-2π, 2π] -> [-π, π]; those already in (-π, π) come back unchanged."""
    return angle - 2.0 * np.pi * np.round(angle / (2.0 * np.pi))


def hip_angles_rad(q_facing_pelvis: np.ndarray, q_facing_thigh: np.ndarray,
                   test_leg: str) -> np.ndarray:
    """(N,3) hip flexion, adduction, internal rotation (rad), ISB JCS z-x'-y''.

    The thigh's orientation relative to the pelvis (both (N, 4) [w x y z] in the
    facing frame) by :func:`euler_zxy_rad`: flexion about the pelvis' medio-lateral
    z axis, adduction about the floating x' axis, internal rotation about the
    thigh's long y'' axis.  Adduction and rotation are sign-flipped for a left hip
    so both sides read alike.
    """
    # q_pelvis_thigh up to scale: conj for the inverse, as the angles ignore |q|
    ang = euler_zxy_rad(quat.qmul(quat.qconj(q_facing_pelvis), q_facing_thigh))
    sg = side_sign(test_leg)
    return ang * np.array([1.0, sg, sg])


def medial_offset_m(q_facing_seg: np.ndarray, length_m: float, test_leg: str) -> np.ndarray:
    """Medial horizontal offset of the segment's proximal end over its distal end (m).

    Medial is -z(right) of the body: +y (left) in the facing frame for a right leg.
    """
    top = quat.axis_of(q_facing_seg, 1) * length_m
    return side_sign(test_leg) * top[..., 1]


def knee_medial_from_shank_m(q_facing_shank: np.ndarray, shank_m: float, test_leg: str) -> np.ndarray:
    """Knee joint centre medial to the ankle (m), from the shank sensor."""
    return medial_offset_m(q_facing_shank, shank_m, test_leg)


def knee_medial_from_thigh_m(q_facing_thigh: np.ndarray, thigh_m: float, test_leg: str) -> np.ndarray:
    """Knee medial displacement (m) by the thigh + pelvis body model (hip stays over the foot).

    The knee is the hip minus the thigh's long axis; with the hip fixed medio-laterally,
    the knee moves medially as much as the hip moves medially relative to the knee
    reversed.  Use relative to standing.
    """
    return -medial_offset_m(q_facing_thigh, thigh_m, test_leg)


def inclination_rad(q_facing_seg: np.ndarray) -> np.ndarray:
    """Angle between the segment's long (y) axis and vertical, rad."""
    y = quat.axis_of(q_facing_seg, 1)
    return np.arccos(np.clip(y[..., 2], -1.0, 1.0))


def relative_to(x: np.ndarray, standing: np.ndarray) -> np.ndarray:
    """Series minus its mean over the standing samples (bool mask)."""
    return x - np.mean(x[standing], axis=0)
