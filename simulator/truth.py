"""Ground-truth measures of a simulated test, from the true segment kinematics.

Definitions (also those the analysis estimates, see docs/conventions.md):
- ``pelvic_drop_deg``: pelvic obliquity, asin of the vertical component of the
  pelvis' right-pointing (z) axis, signed so that the swing side lower is > 0.
- ``trunk_lean_deg``: |lateral inclination| of the trunk, same construction.
- hip angles: thigh relative to pelvis, ISB joint coordinate system as the
  intrinsic z-x'-y'' sequence (flexion, adduction, internal rotation > 0;
  adduction and rotation sign-flipped for a left hip).
- ``knee_medial_cm``: horizontal displacement of the knee joint centre medial to
  the ankle (the foot is fixed), in the facing frame.
Each is relative to the mean of the standing window and taken as its peak
(maximum) over the rep from start to end; trunk lean as the peak magnitude.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from simulator.forward_kinematics import Kinematics


def side_sign(test_leg: str) -> float:
    """+1 for a right test leg, -1 for a left one.

    The sign that mirrors a left leg's frontal-plane measures onto a right one's.

    Parameters
    ----------
    test_leg : str
        ``left`` or ``right``.

    Returns
    -------
    float
        +1.0 or -1.0.
    """
    return 1.0 if test_leg == "right" else -1.0


def truth_series(kin: Kinematics) -> dict[str, np.ndarray]:
    """Per-sample true measures (deg / cm), not yet relative to standing.

    Parameters
    ----------
    kin : Kinematics
        The simulated segment orientations (R_global_seg) and knee displacement (m).

    Returns
    -------
    dict of str to numpy.ndarray
        (N,) each on ``kin.t``: ``pelvic_drop_deg``, ``trunk_lean_deg``,
        ``hip_flexion_deg``, ``hip_adduction_deg``, ``hip_internal_rotation_deg``,
        ``wrist_motion_deg`` (deg) and ``knee_medial_cm`` (cm), as the module docstring
        defines them.
    """
    sg = side_sign(kin.test_leg)
    rel = np.einsum("nji,njk->nik", kin.R["pelvis"], kin.R["thigh"])  # R_pelvis_thigh
    flex, add, rot = Rotation.from_matrix(rel).as_euler("ZXY").T
    return {
        "pelvic_drop_deg": np.rad2deg(sg * np.arcsin(np.clip(kin.R["pelvis"][:, 2, 2], -1, 1))),
        "trunk_lean_deg": np.rad2deg(np.arcsin(np.clip(kin.R["trunk"][:, 2, 2], -1, 1))),
        "hip_flexion_deg": np.rad2deg(flex),
        "hip_adduction_deg": np.rad2deg(sg * add),
        "hip_internal_rotation_deg": np.rad2deg(sg * rot),
        "knee_medial_cm": 100.0 * kin.knee_medial_m,
        "wrist_motion_deg": np.rad2deg(kin.arm_rad),
    }


def rep_truth(kin: Kinematics, standing_s: float) -> list[dict]:
    """Per full rep: times (s) and peak measures relative to standing.

    Parameters
    ----------
    kin : Kinematics
        The simulated trajectories and rep timings (s).
    standing_s : float
        End of the quiet standing window, s: the mean from 0.3 s to 0.2 s before it is the
        reference.

    Returns
    -------
    list of dict
        Per rep (partial ones included): ``start_s``, ``bottom_s``, ``end_s`` (s),
        ``partial``, ``uncontrolled``, ``hand_off_waist`` and ``measures`` (the peaks of
        :func:`truth_series`, deg / cm; trunk lean as the peak magnitude).
    """
    series = truth_series(kin)
    stand = (kin.t >= 0.3) & (kin.t < standing_s - 0.2)
    base = {k: float(np.mean(v[stand])) for k, v in series.items()}
    out = []
    for rt in kin.reps:
        m = (kin.t >= rt.start_s) & (kin.t <= rt.end_s)
        meas = {}
        for k, v in series.items():
            x = v[m] - base[k]
            meas[k] = float(np.max(np.abs(x)) if k == "trunk_lean_deg" else np.max(x))
        out.append({
            "start_s": rt.start_s, "bottom_s": rt.bottom_s, "end_s": rt.end_s,
            "partial": bool(rt.params.partial),
            "uncontrolled": bool(rt.params.uncontrolled),
            "hand_off_waist": bool(rt.params.arm_rad > 0),
            "measures": meas,
        })
    return out
