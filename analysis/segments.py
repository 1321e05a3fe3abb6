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


def row_norms(v: np.ndarray) -> np.ndarray:
    """Euclidean norm of each row of (N, 3): the numbers np.linalg.norm(v, axis=1) gives, at
    a fraction of its cost on short series."""
    return np.sqrt(v[:, 0] * v[:, 0] + v[:, 1] * v[:, 1] + v[:, 2] * v[:, 2])


def _heading_of_x(q: np.ndarray) -> np.ndarray:
    """Heading (rad) of the segment's anterior (x) axis in the horizontal plane: () or (N,)."""
    x = quat.axis_of(q, 0)
    return np.arctan2(x[..., 1], x[..., 0])


@dataclass
class SensorOrientation:
    """One sensor on its own uniform grid: t_u (M,) s, q_world_sensor (M,4),
    acc (M,3) m/s² and bias-corrected gyr (M,3) rad/s in the sensor frame, gap (M,) bool."""

    t_u: np.ndarray
    q_world_sensor: np.ndarray
    acc: np.ndarray
    gyr: np.ndarray
    gap: np.ndarray

    def vertical_in_sensor(self) -> tuple[np.ndarray, np.ndarray]:
        """(t, v): the global vertical (M,3) in sensor coordinates (heading-free)."""
        return self.t_u, quat.axis_of(quat.qconj(self.q_world_sensor), 2)


def sensor_orientations(rec: Recording, biases: dict[str, np.ndarray],
                        mode: str = "offline") -> dict[str, SensorOrientation]:
    """vqf orientation of every sensor at its own rate, gyro bias removed first."""
    out = {}
    for placement, s in rec.streams.items():
        t_u, gyr_u, acc_u, gap_u = resample_uniform(s.t, s.gyr - biases[placement], s.acc)
        ori = estimate_orientation(gyr_u, acc_u, 1.0 / (t_u[1] - t_u[0]), mode=mode)
        out[placement] = SensorOrientation(t_u, ori.quat, acc_u, gyr_u, gap_u)
    return out


def segment_motion(rec: Recording, cal: Calibration,
                   orientations: dict[str, SensorOrientation], consume: bool = False) -> Motion:
    """Orientation of every calibrated segment on a common 100 Hz grid, facing frame.

    consume: remove each sensor's entry from ``orientations`` once it is on the grid, so its
    own-rate arrays are freed before the next sensor's grid arrays are made (an hour of five
    sensors holds ~200 MB of them).
    """
    t = _common_grid(rec)
    standing = (t >= cal.window.t0) & (t <= cal.window.t1)
    out = {}
    for placement, c in cal.sensors.items():
        o = orientations.pop(placement) if consume else orientations[placement]
        q_world_sensor = quat.interpolate(t, o.t_u, o.q_world_sensor)
        q_sensor_seg = quat.from_matrix(c.R_sensor_seg)
        stand = quat.qmul(q_world_sensor[standing], q_sensor_seg)  # q_world_seg when standing
        stand_mean = quat.from_scipy(quat.to_scipy(stand).mean())
        # world -> facing: a turn about the vertical that points the standing segment's x to +x
        q_facing_sensor = quat.turn_about_z(-float(_heading_of_x(stand_mean)), q_world_sensor)
        acc_g = np.column_stack([np.interp(t, o.t_u, o.acc[:, i]) for i in range(3)])
        gyr_g = np.column_stack([np.interp(t, o.t_u, o.gyr[:, i]) for i in range(3)])
        gap = np.interp(t, o.t_u, o.gap.astype(float)) > 0
        out[placement] = SegmentMotion(placement, quat.qmul(q_facing_sensor, q_sensor_seg),
                                       quat.qrotate(q_facing_sensor, acc_g), gyr_g, gap)
    return Motion(t, out, standing)


def quiet_windows(motion: Motion, reps: list[tuple[float, float]], margin_s: float = 0.2,
                  still_rad_s: float = 0.25) -> list[np.ndarray]:
    """Grid indices (ascending) of the standing pauses between and after reps (all sensors
    still), one array per pause of at least 20 samples.

    reps: (start_s, end_s) of each rep in time order. Each pause is found by bisection and
    kept as its indices, so the cost follows the pauses, not reps x recording length.
    """
    still = np.ones(len(motion.t), bool)
    for m in motion.segments.values():
        still &= row_norms(m.gyr) < still_rad_s
    out: list[np.ndarray] = []
    if not reps:
        return out
    ends = np.array([e for _, e in reps]) + margin_s
    starts = np.array([s for s, _ in reps[1:]] + [motion.t[-1] + margin_s]) - margin_s
    lo = np.searchsorted(motion.t, ends, side="right")  # first t > end + margin
    hi = np.searchsorted(motion.t, starts, side="left")  # first t >= next start - margin
    for a, b in zip(lo, hi, strict=True):
        idx = a + np.flatnonzero(still[a:b])
        if len(idx) >= 20:
            out.append(idx)
    return out


def correct_heading_drift(motion: Motion, pauses: list[np.ndarray]) -> Motion:
    """Remove each segment's slow heading drift (6D filters drift about the vertical).

    pauses: grid indices of each standing pause, as :func:`quiet_windows` gives them.

    The athlete's stance foot stays on the step, so in every standing pause
    between reps the segments face where they faced in the calibration pose.
    The heading each segment shows in a pause is its drift there; the drift is
    interpolated linearly between pauses and removed.  Wrist sensors are left
    alone (the hand may rest differently each time).
    """
    if not pauses:
        return motion
    t = motion.t
    anchors_t = [float(np.mean(t[motion.standing]))] + [float(np.mean(t[w])) for w in pauses]
    rows, cuts = np.concatenate(pauses), np.cumsum([len(i) for i in pauses])[:-1]
    out = {}
    for p, m in motion.segments.items():
        if p.startswith("wrist"):
            out[p] = m
            continue
        # mean heading in each pause (circular), from one heading computation over all pauses
        unit = np.exp(1j * _heading_of_x(m.q_facing_seg[rows]))
        drift = [0.0] + [float(np.angle(np.mean(u))) for u in np.split(unit, cuts)]
        turn = -np.interp(t, anchors_t, np.unwrap(drift))
        out[p] = SegmentMotion(p, quat.turn_about_z(turn, m.q_facing_seg),
                               quat.rotate_about_z(turn, m.acc_facing), m.gyr, m.gap)
    return Motion(t, out, motion.standing)
