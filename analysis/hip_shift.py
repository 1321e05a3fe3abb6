"""The hip's sideways shift over the stance foot, measured by the pelvis sensor.

A thigh sensor gives the knee's place relative to the hip, not relative to the foot: the
thigh + pelvis knee model took the hip as staying over the foot.  Balance moves it (a
trunk lean or an arm out is answered by the hip shifting the other way; postural sway
tilts the whole body about the ankle), by up to a few cm in step with the rep.  The
pelvis sensor's accelerometer measures that shift over a rep:

1. its specific force in the facing frame (orientation from the filter) less gravity:
   the medio-lateral acceleration of the sensor, m/s²;
2. per rep, integrated twice over a window from a short pause before the rep to one
   after it (:data:`PAUSE_S`, never into the neighbouring rep);
3. moved from the sensor on the sacrum to the hip joint centre by the pelvis'
   orientation and an anthropometric offset (:func:`sacrum_to_hip_m`);
4. the integration constants (position, velocity) and a constant acceleration error
   (gravity left by a tilt error of a few tenths of a degree) fitted by least squares
   so that in both pauses the hip follows the stance leg as a straight pendulum over
   the ankle: its medial offset is the leg's length times the thigh's medial tilt, both
   relative to standing.  Pauses are single-leg standing with sway, not stillness:
   zero-velocity updates (as in gait analysis) leave the sway's few cm/s, which over a
   3-4 s rep integrate to several cm.

A rep during which the pelvis sensor has a gap (its acceleration bridged, not measured)
and that has lost a pause (a gap cuts it) is not integrated: the hip is taken as over the
foot for it, as for a rep without pauses.  Between two pauses the fit bounds the velocity
a gap leaves.
Outside the reps the series is that pendulum estimate.  Frames: facing frame (x forward,
y left, z up); positions in m; "medial" as :func:`analysis.kinematics.medial_offset_m`.
"""

from __future__ import annotations

import numpy as np
from scipy.integrate import cumulative_trapezoid

from analysis import quat
from analysis.kinematics import side_sign
from sensor_io.anthropometry import Body

PAUSE_S = 0.5
"""Standing before and after a rep that anchors its integration (s)."""
MIN_PAUSE_S = 0.2
"""A pause shorter than this anchors nothing; with neither pause the hip is taken as
staying over the foot for that rep (the model without the pelvis' acceleration)."""

# Hip joint centre from the inter-ASIS width PW (Bell, Brand & Pedersen 1989, Hum Mov Sci
# 8:3-16): 30 % PW distal, 22 % PW posterior of the ASIS, 14 % PW medial of it, i.e.
# 0.36 PW lateral of the midline; so PW = hip centres' separation / 0.72.  The sacral
# sensor sits at the level of the PSIS (the ISB pelvis plane holds ASIS and PSIS),
# pelvic depth (ASIS to PSIS) taken as 0.62 PW (a rounded ratio: ~15 cm at PW ~24 cm),
# plus ~2 cm of skin and sensor (posterior skin at the PSIS 19.6 +- 10.9 mm: Mantovani,
# Ng & Lamontagne 2016, Gait Posture 44:48-54).
HJC_DISTAL_PW, HJC_POSTERIOR_PW, HJC_LATERAL_PW = 0.30, 0.22, 0.36
PELVIC_DEPTH_PW, SACRAL_SKIN_M = 0.62, 0.02


def sacrum_to_hip_m(body: Body, test_leg: str) -> np.ndarray:
    """The test side's hip joint centre seen from a sacral sensor.

    Parameters
    ----------
    body : Body
        Body dimensions (its hip width), m.
    test_leg : str
        ``left`` or ``right``: the leg on the step.

    Returns
    -------
    numpy.ndarray
        (3,) m, pelvis frame (x anterior, y superior, z right).
    """
    pw = body.hip_width_m / (2.0 * HJC_LATERAL_PW)
    forward = (PELVIC_DEPTH_PW - HJC_POSTERIOR_PW) * pw + SACRAL_SKIN_M
    return np.array([forward, -HJC_DISTAL_PW * pw, side_sign(test_leg) * HJC_LATERAL_PW * pw])


def double_integral(t: np.ndarray, a: np.ndarray) -> np.ndarray:
    """Position from acceleration by trapezoids (scipy), starting at rest at 0.

    Parameters
    ----------
    t : numpy.ndarray
        (N,) grid, s.
    a : numpy.ndarray
        (N,) acceleration, m/s².

    Returns
    -------
    numpy.ndarray
        (N,) position, m.
    """
    return cumulative_trapezoid(cumulative_trapezoid(a, t, initial=0.0), t, initial=0.0)


def hip_medial_shift_m(t: np.ndarray, acc_facing: np.ndarray, q_facing_pelvis: np.ndarray,
                       hip_over_knee_m: np.ndarray, standing: np.ndarray,
                       spans: list[tuple[float, float]], body: Body, test_leg: str,
                       gap: np.ndarray | None = None) -> np.ndarray:
    """The medial shift of the test side's hip joint centre over the stance foot, relative
    to standing.

    Parameters
    ----------
    t : numpy.ndarray
        (N,) s, uniform grid.
    acc_facing : numpy.ndarray
        (N, 3) m/s², the pelvis sensor's specific force in the facing frame.
    q_facing_pelvis : numpy.ndarray
        (N, 4) the pelvis' orientation in the facing frame, [w, x, y, z].
    hip_over_knee_m : numpy.ndarray
        (N,) m, the hip's medial offset over the knee from the thigh's long axis, relative
        to standing (:func:`analysis.kinematics.medial_offset_m`).
    standing : numpy.ndarray
        (N,) bool, the calibration window.
    spans : list of (float, float)
        (start_s, end_s) of each rep, in time order.
    body : Body
        Body dimensions, m.
    test_leg : str
        ``left`` or ``right``: the leg on the step.
    gap : numpy.ndarray, optional
        (N,) bool, samples inside a gap of the pelvis sensor: a pause ends there, and a
        rep with one that is anchored by one pause only is not integrated (the
        acceleration of a gap is not measured).

    Returns
    -------
    numpy.ndarray
        (N,) medial shift, m.
    """
    sign = side_sign(test_leg)
    pendulum = hip_over_knee_m * ((body.thigh_m + body.shank_m) / body.thigh_m)
    lever = sign * quat.qrotate(q_facing_pelvis, sacrum_to_hip_m(body, test_leg))[:, 1]
    lever = lever - np.mean(lever[standing])
    medial_acc = sign * np.asarray(acc_facing[:, 1], dtype=np.float64)  # integrated in float64
    gap = np.zeros(len(t), dtype=bool) if gap is None else gap
    out = pendulum.copy()
    min_samples = MIN_PAUSE_S / float(t[1] - t[0]) if len(t) > 1 else 1.0
    edges = [(-np.inf, -np.inf), *spans, (np.inf, np.inf)]
    for (_, prev_end), (start, end), (next_start, _) in zip(edges, edges[1:], edges[2:],
                                                             strict=False):
        k = _window(t, gap, max(start - PAUSE_S, prev_end), start, end,
                    min(end + PAUSE_S, next_start))
        tk = t[k]
        if len(tk) < 2:
            continue
        rep = (tk > start) & (tk < end)
        before, after = tk <= start, tk >= end
        if gap[k][rep].any() and min(before.sum(), after.sum()) < min_samples:
            # the gap's acceleration is a guess: a hip correction of ~1 m/s² missed for
            # 0.2 s leaves cm/s, which one pause alone cannot bound (it grows to cm over
            # the rep); the hip is taken as over the foot for this rep
            out[k][rep] = 0.0
            continue
        hip = double_integral(tk, medial_acc[k]) + lever[k]
        fitted = _anchored(tk - tk[0], hip, pendulum[k], before, after, min_samples)
        out[k][rep] = fitted[rep] if fitted is not None else 0.0
    return out


def _window(t: np.ndarray, gap: np.ndarray, lo: float, start: float, end: float, hi: float
            ) -> slice:
    """The samples from lo to hi (s) around a rep from start to end, cut short at the
    nearest gap sample before the start and after the end."""
    a, b = int(np.searchsorted(t, lo)), int(np.searchsorted(t, hi, side="right"))
    i0, i1 = int(np.searchsorted(t, start)), int(np.searchsorted(t, end, side="right"))
    before, after = np.flatnonzero(gap[a:i0]), np.flatnonzero(gap[i1:b])
    if len(before):
        a += int(before[-1]) + 1
    if len(after):
        b = i1 + int(after[0])
    return slice(a, max(a, b))


def _anchored(tau: np.ndarray, hip: np.ndarray, target: np.ndarray, before: np.ndarray,
              after: np.ndarray, min_samples: float) -> np.ndarray | None:
    """``hip`` plus the position, velocity and constant-acceleration terms in tau (s) that
    bring it closest (least squares) to ``target`` over the pauses; with one pause only
    position and velocity; None when neither pause has ``min_samples``."""
    pauses = [m for m in (before, after) if m.sum() >= min_samples]
    if not pauses:
        return None
    terms = [np.ones_like(tau), tau, 0.5 * tau**2][:len(pauses) + 1]
    basis = np.column_stack(terms)
    anchor = np.logical_or.reduce(pauses)
    coef = np.linalg.lstsq(basis[anchor], (target - hip)[anchor], rcond=None)[0]
    return hip + basis @ coef
