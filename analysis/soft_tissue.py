"""The sacral sensor's soft-tissue artefact: more anterior tilt than the pelvis under it.

A sensor strapped over the sacrum reads the pelvis's forward tilt plus the lower lumbar
spine's flexion and the skin's slide over the bone. On real recordings (CMU-MBL SUB22,
Xsens on the sacrum, against a lab pelvis; docs/real_data.md) it read 7-10° more anterior
tilt than the lab's pelvis as soon as the trunk leaned forward, hardly any where the
athlete stood as in the standing pose, and no more at depth: not a share of the hip's
flexion but an excess that builds up over the first degrees of the lean and then stays.
Hip flexion (thigh relative to pelvis) read high by as much.

The model (:func:`sacral_excess_deg`): excess = gain * min(1, tilt / ramp) * clip(1 - k *
max(0, thigh - 40°), 0, 1), tilt the sensor's own anterior tilt and thigh the test thigh's
inclination, both relative to standing. The excess falls once the thigh inclines past
~40° on every exercise that gets there: the lab pelvis tilts on where the sensor over
the lumbosacral junction stops (the lumbopelvic rhythm). Gain, start and slope fitted on
seven single-leg exercises (``benchmarks.cmu_real.fit_sacral_fall``); left one exercise
out, with the legs' device orientation levelled (:mod:`analysis.segment_motion`), hip
flexion peaks 3.13 -> 2.31° and excursions 3.05 -> 1.31° mean absolute error (pelvis +
thigh) against the ramp alone on the unlevelled device (``benchmarks.cmu_real.sacral_fall_loeo``).
It does not hold on double-leg squats deeper than 110° of hip flexion, where the lab
pelvis tilts further than the sensor: its domain is the single-leg range (a step-down's).
One subject, one sensor placement (docs/real_data.md).

Turning the pelvis back about its own mediolateral axis by the excess lowers hip flexion
by exactly the excess and leaves pelvic obliquity (that axis's elevation), hip adduction
and rotation as they were.
"""

from __future__ import annotations

import numpy as np

from analysis import quat
from analysis.kinematics import relative_to

SACRAL_EXCESS_DEG = 8.5
"""The excess (deg) the sacral sensor reads once it tilts :data:`SACRAL_RAMP_DEG` or more,
before any fall: fitted with the fall on every pelvis tilt sample of the reps of seven
real single-leg exercises (CMU-MBL SUB22; 7.9-8.9° with any one left out)."""
SACRAL_RAMP_DEG = 15.0
"""The sensor's own tilt (deg, relative to standing) over which the excess builds up; fixed
before fitting, from where the excess appeared (10-30° give the same figures within 0.2°)."""
SACRAL_FALL_FROM_DEG = 40.0
"""The thigh's inclination (deg, forward from standing) past which the excess falls: the lab
pelvis tilts on where the sacral sensor stops (the lumbopelvic rhythm). Chosen from 20, 30,
40, 50° with the gain and slope (40° in 13 of 14 leave-one-exercise-out folds)."""
SACRAL_FALL_PER_DEG = 0.02
"""The share of the excess lost per degree of thigh inclination past
:data:`SACRAL_FALL_FROM_DEG` (1/deg; 0.018-0.028 in the folds): 60 % of it left at 60°."""


def thigh_inclination_rad(q_facing_seg: np.ndarray) -> np.ndarray:
    """A segment's forward inclination in its own sagittal plane, heading-free.

    Parameters
    ----------
    q_facing_seg : numpy.ndarray
        (N, 4) segment orientation in the facing frame (z up), [w, x, y, z]; the segment's
        x anterior, y superior.

    Returns
    -------
    numpy.ndarray
        (N,) rad, + when the anterior axis points above horizontal: a thigh's knee end
        forward (absolute: subtract the standing pose's).
    """
    x, y = quat.axis_of(q_facing_seg, 0), quat.axis_of(q_facing_seg, 1)
    return np.arctan2(x[:, 2], y[:, 2])


def pelvis_tilt_rad(q_facing_pelvis: np.ndarray) -> np.ndarray:
    """The pelvis's anterior tilt in its own sagittal plane, heading-free.

    Parameters
    ----------
    q_facing_pelvis : numpy.ndarray
        (N, 4) pelvis orientation in the facing frame (z up), [w, x, y, z]; x anterior,
        y superior.

    Returns
    -------
    numpy.ndarray
        (N,) rad, + when the anterior axis points below horizontal
        (:func:`thigh_inclination_rad` turned over; absolute: subtract the standing pose's).
    """
    return -thigh_inclination_rad(q_facing_pelvis)


def sacral_excess_deg(tilt_deg: np.ndarray, gain_deg: float = SACRAL_EXCESS_DEG,
                      ramp_deg: float = SACRAL_RAMP_DEG, thigh_deg: np.ndarray | None = None,
                      from_deg: float = SACRAL_FALL_FROM_DEG,
                      per_deg: float = SACRAL_FALL_PER_DEG) -> np.ndarray:
    """How much more anterior tilt a sacral sensor reads than the pelvis under it.

    excess = gain * min(1, tilt / ramp) * clip(1 - per_deg * max(0, thigh - from_deg), 0, 1)

    Parameters
    ----------
    tilt_deg : numpy.ndarray
        (N,) the sensor's anterior tilt relative to standing, deg.
    gain_deg : float
        The excess once the tilt reaches ``ramp_deg``, before any fall, deg.
    ramp_deg : float
        The tilt over which the excess builds up, deg.
    thigh_deg : numpy.ndarray, optional
        (N,) the test thigh's forward inclination relative to standing, deg; None: no fall.
    from_deg, per_deg : float
        Where the fall starts (deg of thigh inclination) and the share lost per degree
        past it (1/deg).

    Returns
    -------
    numpy.ndarray
        (N,) deg: none at or behind the standing pose, ``gain_deg`` past ``ramp_deg`` while
        the thigh is within ``from_deg``, less as it inclines further.
    """
    excess = gain_deg * np.clip(np.asarray(tilt_deg, dtype=float) / ramp_deg, 0.0, 1.0)
    if thigh_deg is None:
        return excess
    past = np.maximum(np.asarray(thigh_deg, dtype=float) - from_deg, 0.0)
    return excess * np.clip(1.0 - per_deg * past, 0.0, 1.0)


def without_sacral_excess(q_facing_pelvis: np.ndarray, standing: np.ndarray,
                          gain_deg: float = SACRAL_EXCESS_DEG,
                          q_facing_thigh: np.ndarray | None = None) -> np.ndarray:
    """The pelvis orientation with the sacral sensor's excess tilt taken out.

    Parameters
    ----------
    q_facing_pelvis : numpy.ndarray
        (N, 4) the pelvis sensor's segment orientation in the facing frame.
    standing : numpy.ndarray
        Index or mask of the standing samples (the tilt's zero).
    gain_deg : float
        :func:`sacral_excess_deg`'s gain; 0 returns the orientation unchanged.
    q_facing_thigh : numpy.ndarray, optional
        (N, 4) the test thigh's segment orientation in the facing frame, same samples: its
        inclination from standing makes the excess fall (:func:`sacral_excess_deg`);
        None: no fall.

    Returns
    -------
    numpy.ndarray
        (N, 4): each sample turned back (posteriorly) about the pelvis's own mediolateral
        z axis by the excess its tilt (and the thigh's inclination) gives.
    """
    if not gain_deg:
        return q_facing_pelvis
    tilt = np.degrees(relative_to(pelvis_tilt_rad(q_facing_pelvis), standing))
    thigh = (None if q_facing_thigh is None
             else np.degrees(relative_to(thigh_inclination_rad(q_facing_thigh), standing)))
    back = quat.about_z(np.radians(sacral_excess_deg(tilt, gain_deg, thigh_deg=thigh)))
    return quat.qmul(q_facing_pelvis, back)
