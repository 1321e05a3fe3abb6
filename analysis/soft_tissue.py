"""The sacral sensor's soft-tissue artefact: more anterior tilt than the pelvis under it.

A sensor strapped over the sacrum reads the pelvis's forward tilt plus the lower lumbar
spine's flexion and the skin's slide over the bone. On real recordings (CMU-MBL SUB22,
Xsens on the sacrum, against a lab pelvis; docs/real_data.md) it read 7-10° more anterior
tilt than the lab's pelvis as soon as the trunk leaned forward, hardly any where the
athlete stood as in the standing pose, and no more at depth: not a share of the hip's
flexion but an excess that builds up over the first degrees of the lean and then stays.
Hip flexion (thigh relative to pelvis) read high by as much.

The model (:func:`sacral_excess_deg`): excess = gain * min(1, tilt / ramp), tilt the
sensor's own anterior tilt relative to standing; fitted on six exercises, it took the
seventh's hip flexion peak error down on all seven single-leg exercises (pooled mean
absolute error 7.9 -> 3.1°, excursions 3.3 -> 3.1°; ``benchmarks.cmu_real.sacral_model_loeo``).
It does not hold on double-leg squats deeper than 110° of hip flexion, where the lab
pelvis tilts further than the sensor: its domain is the single-leg range (a step-down's).
Its shape is not the last word: on the same exercises the excess falls once the thigh
inclines past ~40° (the lumbopelvic rhythm), and a ramp with that fall brings the
excursions from 3.1 to 1.6° but the peaks from 3.1 to 3.9°, because the ramp's too-large
excess at depth offsets the thigh's own error (``benchmarks.cmu_real.SacralFall``; not used,
docs/real_data.md "The excursion").

Turning the pelvis back about its own mediolateral axis by the excess lowers hip flexion
by exactly the excess and leaves pelvic obliquity (that axis's elevation), hip adduction
and rotation as they were.
"""

from __future__ import annotations

import numpy as np

from analysis import quat
from analysis.kinematics import relative_to

SACRAL_EXCESS_DEG = 7.2
"""The excess (deg) the sacral sensor reads once it tilts :data:`SACRAL_RAMP_DEG` or more:
fitted on every pelvis tilt sample of the reps of seven real single-leg exercises
(CMU-MBL SUB22; 6.7-7.6° with any one left out)."""
SACRAL_RAMP_DEG = 15.0
"""The sensor's own tilt (deg, relative to standing) over which the excess builds up; fixed
before fitting, from where the excess appeared (10-30° give the same figures within 0.2°)."""


def pelvis_tilt_rad(q_facing_pelvis: np.ndarray) -> np.ndarray:
    """The pelvis's anterior tilt in its own sagittal plane, heading-free.

    Parameters
    ----------
    q_facing_pelvis : numpy.ndarray
        (N, 4) pelvis orientation in the facing frame (z up), [w, x, y, z]; the segment's
        x anterior, y superior.

    Returns
    -------
    numpy.ndarray
        (N,) rad, + when the anterior axis points below horizontal (absolute: subtract
        the standing pose's).
    """
    x, y = quat.axis_of(q_facing_pelvis, 0), quat.axis_of(q_facing_pelvis, 1)
    return np.arctan2(-x[:, 2], y[:, 2])


def sacral_excess_deg(tilt_deg: np.ndarray, gain_deg: float = SACRAL_EXCESS_DEG,
                      ramp_deg: float = SACRAL_RAMP_DEG) -> np.ndarray:
    """How much more anterior tilt a sacral sensor reads than the pelvis under it.

    Parameters
    ----------
    tilt_deg : numpy.ndarray
        (N,) the sensor's anterior tilt relative to standing, deg.
    gain_deg : float
        The excess once the tilt reaches ``ramp_deg``, deg.
    ramp_deg : float
        The tilt over which the excess builds up, deg.

    Returns
    -------
    numpy.ndarray
        (N,) deg: none at or behind the standing pose, ``gain_deg`` past ``ramp_deg``.
    """
    return gain_deg * np.clip(np.asarray(tilt_deg, dtype=float) / ramp_deg, 0.0, 1.0)


def without_sacral_excess(q_facing_pelvis: np.ndarray, standing: np.ndarray,
                          gain_deg: float = SACRAL_EXCESS_DEG) -> np.ndarray:
    """The pelvis orientation with the sacral sensor's excess tilt taken out.

    Parameters
    ----------
    q_facing_pelvis : numpy.ndarray
        (N, 4) the pelvis sensor's segment orientation in the facing frame.
    standing : numpy.ndarray
        Index or mask of the standing samples (the tilt's zero).
    gain_deg : float
        :func:`sacral_excess_deg`'s gain; 0 returns the orientation unchanged.

    Returns
    -------
    numpy.ndarray
        (N, 4): each sample turned back (posteriorly) about the pelvis's own mediolateral
        z axis by the excess its tilt gives.
    """
    if not gain_deg:
        return q_facing_pelvis
    tilt = np.degrees(relative_to(pelvis_tilt_rad(q_facing_pelvis), standing))
    back = quat.about_z(np.radians(sacral_excess_deg(tilt, gain_deg)))
    return quat.qmul(q_facing_pelvis, back)
