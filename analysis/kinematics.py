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
    """The sign that makes both sides read alike.

    Parameters
    ----------
    test_leg : str
        ``left`` or ``right``: the leg on the step.

    Returns
    -------
    float
        +1 for a right test leg, -1 for a left one.
    """
    return 1.0 if test_leg == "right" else -1.0


def obliquity_rad(q_facing_seg: np.ndarray) -> np.ndarray:
    """Elevation of the segment's right (z) axis above horizontal.

    Parameters
    ----------
    q_facing_seg : numpy.ndarray
        (N, 4) segment orientation in the facing frame, [w, x, y, z].

    Returns
    -------
    numpy.ndarray
        (N,) rad.
    """
    return np.arcsin(np.clip(quat.axis_component(q_facing_seg, 2, 2), -1.0, 1.0))


def pelvic_drop_rad(q_facing_pelvis: np.ndarray, test_leg: str) -> np.ndarray:
    """Pelvic obliquity.

    Parameters
    ----------
    q_facing_pelvis : numpy.ndarray
        (N, 4) pelvis orientation in the facing frame, [w, x, y, z].
    test_leg : str
        ``left`` or ``right``: the leg on the step.

    Returns
    -------
    numpy.ndarray
        (N,) rad, > 0 when the swing side is lower.
    """
    return side_sign(test_leg) * obliquity_rad(q_facing_pelvis)


def trunk_inclination_rad(q_facing_trunk: np.ndarray) -> np.ndarray:
    """Lateral trunk inclination.

    Parameters
    ----------
    q_facing_trunk : numpy.ndarray
        (N, 4) trunk orientation in the facing frame, [w, x, y, z].

    Returns
    -------
    numpy.ndarray
        (N,) rad, signed: > 0 toward the left.
    """
    return -obliquity_rad(q_facing_trunk)


def hip_angles_rad(q_facing_pelvis: np.ndarray, q_facing_thigh: np.ndarray,
                   test_leg: str) -> np.ndarray:
    """Hip flexion, adduction and internal rotation, ISB JCS z-x'-y''.

    The thigh's orientation relative to the pelvis as scipy's intrinsic "ZXY" Euler
    angles: flexion about the pelvis' medio-lateral z axis, adduction about the floating
    x' axis, internal rotation about the thigh's long y'' axis.  Adduction and rotation
    are sign-flipped for a left hip so both sides read alike.

    Parameters
    ----------
    q_facing_pelvis : numpy.ndarray
        (N, 4) pelvis orientation in the facing frame, [w, x, y, z].
    q_facing_thigh : numpy.ndarray
        (N, 4) thigh orientation in the facing frame.
    test_leg : str
        ``left`` or ``right``: the leg on the step.

    Returns
    -------
    numpy.ndarray
        (N, 3) flexion, adduction, internal rotation, rad (positive as named).
    """
    rel = quat.qrel(q_facing_pelvis, q_facing_thigh)
    ang = quat.to_scipy(rel).as_euler("ZXY")
    sg = side_sign(test_leg)
    return ang * np.array([1.0, sg, sg])


def medial_offset_m(q_facing_seg: np.ndarray, length_m: float, test_leg: str) -> np.ndarray:
    """Medial horizontal offset of the segment's proximal end over its distal end.

    Medial is -z(right) of the body: +y (left) in the facing frame for a right leg.

    Parameters
    ----------
    q_facing_seg : numpy.ndarray
        (N, 4) segment orientation in the facing frame, [w, x, y, z].
    length_m : float
        The segment's length, m.
    test_leg : str
        ``left`` or ``right``: the leg on the step.

    Returns
    -------
    numpy.ndarray
        (N,) m, > 0 medial.
    """
    top = quat.axis_component(q_facing_seg, 1, 1) * length_m
    return side_sign(test_leg) * top


def knee_medial_from_shank_m(q_facing_shank: np.ndarray, shank_m: float, test_leg: str) -> np.ndarray:
    """Knee joint centre medial to the ankle, from the shank sensor.

    Parameters
    ----------
    q_facing_shank : numpy.ndarray
        (N, 4) shank orientation in the facing frame, [w, x, y, z].
    shank_m : float
        Shank length, m.
    test_leg : str
        ``left`` or ``right``: the leg on the step.

    Returns
    -------
    numpy.ndarray
        (N,) m, > 0 medial.
    """
    return medial_offset_m(q_facing_shank, shank_m, test_leg)


def knee_medial_from_thigh_m(q_facing_thigh: np.ndarray, thigh_m: float, test_leg: str) -> np.ndarray:
    """Knee medial displacement (m) by the thigh + pelvis body model (hip stays over the foot).

    The knee is the hip minus the thigh's long axis; with the hip fixed medio-laterally,
    the knee moves medially as much as the hip moves medially relative to the knee
    reversed.  Use relative to standing.

    Parameters
    ----------
    q_facing_thigh : numpy.ndarray
        (N, 4) thigh orientation in the facing frame, [w, x, y, z].
    thigh_m : float
        Thigh length, m.
    test_leg : str
        ``left`` or ``right``: the leg on the step.

    Returns
    -------
    numpy.ndarray
        (N,) m, > 0 medial.
    """
    return -medial_offset_m(q_facing_thigh, thigh_m, test_leg)


def inclination_rad(q_facing_seg: np.ndarray) -> np.ndarray:
    """Angle between the segment's long (y) axis and vertical.

    Parameters
    ----------
    q_facing_seg : numpy.ndarray
        (N, 4) segment orientation in the facing frame, [w, x, y, z].

    Returns
    -------
    numpy.ndarray
        (N,) rad.
    """
    return np.arccos(np.clip(quat.axis_component(q_facing_seg, 1, 2), -1.0, 1.0))


def relative_to(x: np.ndarray, standing: np.ndarray) -> np.ndarray:
    """A series relative to the standing pose.

    Parameters
    ----------
    x : numpy.ndarray
        (N,) or (N, K) series, any unit.
    standing : numpy.ndarray
        (N,) bool, the standing samples.

    Returns
    -------
    numpy.ndarray
        The series minus its mean over the standing samples, same shape and unit.
    """
    return x - np.mean(x[standing], axis=0)
