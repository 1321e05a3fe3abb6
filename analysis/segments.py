"""Segment orientations on one common time grid, in one facing frame.

Each sensor's orientation comes from vqf (:mod:`analysis.orientation`) in its
own global frame (z up, heading arbitrary without a magnetometer).  Combined with
its calibrated sensor-to-segment rotation it gives the segment orientation; each
segment is then turned about the vertical so that at the standing pose its
anterior (x) axis points along the facing frame's +x.  The facing frame is the
simulator's and DESIGN.md's global frame: x forward, y left, z up.

Quaternions are [w x y z] (:mod:`analysis.quat`); ``q_facing_seg`` maps segment
coordinates into the facing frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation, Slerp

from analysis import quat
from analysis.orientation import estimate_orientation, resample_uniform
from calibration import Calibration
from sensor_io.recording import Recording

GRID_HZ = 100.0


@dataclass
class SegmentMotion:
    """One segment on the common grid.

    q_facing_seg: (N,4) segment orientation in the facing frame.
    acc_facing: (N,3) m/s², specific force of its sensor rotated into the facing frame.
    gyr: (N,3) rad/s, bias-corrected gyro in the sensor frame.
    gap: (N,) bool, grid samples inside a gap of this sensor (values interpolated).
    """

    placement: str
    q_facing_seg: np.ndarray
    acc_facing: np.ndarray
    gyr: np.ndarray
    gap: np.ndarray


@dataclass
class Motion:
    """All segments of a recording on the grid ``t`` (N,) s."""

    t: np.ndarray
    segments: dict[str, SegmentMotion]
    standing: np.ndarray            # (N,) bool, grid samples in the calibration window

    def get(self, segment: str, test_leg: str) -> SegmentMotion | None:
        """By segment name ('pelvis', 'thigh', 'shank', 'trunk', 'wrist'); legs on the test side."""
        for p, m in self.segments.items():
            name, _, side = p.partition("_")
            if name == segment and (segment not in ("thigh", "shank") or side == test_leg):
                return m
        return None


def _common_grid(rec: Recording) -> np.ndarray:
    t0 = max(s.t[0] for s in rec.streams.values())
    t1 = min(s.t[-1] for s in rec.streams.values())
    return np.arange(t0, t1, 1.0 / GRID_HZ)


def _heading_of_x(q: np.ndarray) -> float:
    x = quat.qrotate(q, np.array([1.0, 0.0, 0.0]))
    return float(np.arctan2(x[1], x[0]))


def segment_motion(rec: Recording, cal: Calibration, mode: str = "offline") -> Motion:
    """Orientation of every calibrated segment on a common 100 Hz grid."""
    t = _common_grid(rec)
    standing = (t >= cal.window.t0) & (t <= cal.window.t1)
    out = {}
    for placement, c in cal.sensors.items():
        s = rec.streams[placement]
        t_u, gyr_u, acc_u, gap_u = resample_uniform(s.t, s.gyr - c.gyr_bias, s.acc)
        rate = 1.0 / (t_u[1] - t_u[0])
        ori = estimate_orientation(gyr_u, acc_u, rate, mode=mode)
        rot = Slerp(t_u, quat.to_scipy(ori.quat))(np.clip(t, t_u[0], t_u[-1]))
        q_world_sensor = quat.from_scipy(rot)
        q_world_seg = quat.qmul(q_world_sensor, quat.from_matrix(c.R_sensor_seg))
        stand_mean = quat.from_scipy(Rotation.from_quat(
            quat.to_scipy(q_world_seg[standing]).as_quat()).mean())
        h = _heading_of_x(stand_mean)
        q_fix = quat.from_rotvec(np.array([0.0, 0.0, -h]))
        q_facing_seg = quat.qmul(q_fix, q_world_seg)
        q_facing_sensor = quat.qmul(q_fix, q_world_sensor)
        acc_g = np.column_stack([np.interp(t, t_u, acc_u[:, i]) for i in range(3)])
        gyr_g = np.column_stack([np.interp(t, t_u, gyr_u[:, i]) for i in range(3)])
        gap = np.interp(t, t_u, gap_u.astype(float)) > 0
        out[placement] = SegmentMotion(placement, q_facing_seg,
                                       quat.qrotate(q_facing_sensor, acc_g), gyr_g, gap)
    return Motion(t, out, standing)
