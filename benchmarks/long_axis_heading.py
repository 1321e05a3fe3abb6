"""A leg segment frame's heading about its long axis: read it against another frame, turn
a calibration's frame to another's heading.

A thigh's frame is the standing vertical (its long axis, ISB y) plus a flexion axis (z)
found in a movement; two frames found from the same standing pose differ only by a turn
about y, their heading. The benchmarks compare flexion axes found in different movements
(the reps, the guided bends, the knee hinge, the simulated mounting) and re-analyse a
recording with one of them: the frame is turned after the calibration, never inside it.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from scipy.spatial.transform import Rotation

from calibration import Calibration


def long_axis_heading_deg(R_ref_sensor_seg: np.ndarray, R_sensor_seg: np.ndarray) -> float:
    """The heading of a segment frame about its long axis (y) against a reference frame of
    the same sensor, deg in [-180, 180): the twist about y of the rotation from the frame to
    the reference (swing-twist; the swing is the difference of their long axes, zero for two
    frames from the same standing pose).

    Parameters
    ----------
    R_ref_sensor_seg : numpy.ndarray
        (3, 3) the reference frame: columns its ISB axes in sensor coordinates.
    R_sensor_seg : numpy.ndarray
        (3, 3) the frame read, the same way.

    Returns
    -------
    float
        deg; positive where the frame's axes are the reference's turned positively about y.
    """
    x, y, z, w = Rotation.from_matrix(R_ref_sensor_seg.T @ R_sensor_seg).as_quat()
    return float((np.degrees(2.0 * np.arctan2(y, w)) + 180.0) % 360.0 - 180.0)


def turned_to_heading(cal: Calibration, placement: str, R_ref_sensor_seg: np.ndarray,
                      heading_deg: float = 0.0) -> Calibration:
    """The calibration with one sensor's segment frame turned about its long axis (y) so
    that its heading against ``R_ref_sensor_seg`` (:func:`long_axis_heading_deg`) is
    ``heading_deg``; its long axis (from the standing gravity) is left as found.

    Parameters
    ----------
    cal : Calibration
        A calibration (:func:`calibration.calibrate.calibrate`).
    placement : str
        The sensor whose frame is turned (``thigh_right``, ...).
    R_ref_sensor_seg : numpy.ndarray
        (3, 3) the frame whose heading it takes: columns its ISB axes in sensor coordinates
        (another calibration's, or a simulated mounting's ``R_seg_sensor.T``).
    heading_deg : float
        The heading left against it, deg.

    Returns
    -------
    Calibration
        A copy; ``cal`` is unchanged, every other sensor's calibration is the same object.
    """
    found = cal.sensors[placement].R_sensor_seg
    twist = np.radians(long_axis_heading_deg(R_ref_sensor_seg, found))
    turn = Rotation.from_rotvec([0.0, np.radians(heading_deg) - twist, 0.0]).as_matrix()
    turned = replace(cal.sensors[placement], R_sensor_seg=found @ turn)
    return replace(cal, sensors={**cal.sensors, placement: turned})
