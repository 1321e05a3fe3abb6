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

from dataclasses import dataclass, field

import numpy as np

from analysis import quat
from analysis.orientation import piecewise_orientation
from calibration import Calibration
from calibration.joint_heading import SensorTrack
from sensor_io.recording import Recording

GRID_HZ = 100.0


@dataclass
class SegmentMotion:
    """One segment on the common grid.

    q_facing_seg: (N,4) segment orientation in the facing frame.
    acc_facing: (N,3) m/s², specific force of its sensor rotated into the facing frame.
    gyr: (N,3) rad/s, bias-corrected gyro in the sensor frame.
    gap: (N,) bool, grid samples inside a gap of this sensor (values interpolated).
    heading_guessed: (N,) bool, samples of a piece whose heading (6D, started afresh after
    a gap) could only be guessed from the movement itself; None when there is none.
    """

    placement: str
    q_facing_seg: np.ndarray
    acc_facing: np.ndarray
    gyr: np.ndarray
    gap: np.ndarray
    heading_guessed: np.ndarray | None = None


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
    """One sensor on its own grid (uniform within each piece, see
    :func:`analysis.orientation.piecewise_orientation`): t_u (M,) s, q_world_sensor (M,4),
    acc (M,3) m/s² and bias-corrected gyr (M,3) rad/s in the sensor frame, gap (M,) bool;
    spans: (t0, t1) s of each piece; heading_shared: False when each piece's heading is
    its own (6D pieces); source: where the orientation came from."""

    t_u: np.ndarray
    q_world_sensor: np.ndarray
    acc: np.ndarray
    gyr: np.ndarray
    gap: np.ndarray
    spans: list[tuple[float, float]] = field(default_factory=list)
    heading_shared: bool = True
    source: str = "vqf 6D"

    def vertical_in_sensor(self) -> tuple[np.ndarray, np.ndarray]:
        """(t, v): the global vertical (M,3) in sensor coordinates (heading-free)."""
        return self.t_u, quat.axis_of(quat.qconj(self.q_world_sensor), 2)

    def outside(self, t: np.ndarray) -> np.ndarray:
        """(N,) bool: times t (s) outside every piece (no orientation there)."""
        inside = np.zeros(len(t), dtype=bool)
        for t0, t1 in self.spans:
            inside |= (t >= t0) & (t <= t1)
        return ~inside


def standing_tracks(orientations: dict[str, SensorOrientation], window) -> dict[str, SensorTrack]:
    """Each sensor's orientation and signals over the piece of recording that holds the
    standing window ``window`` (a :class:`calibration.StandingWindow`): the stretch in
    which its heading is one, for :func:`calibration.calibrate`'s joint headings."""
    out = {}
    for placement, o in orientations.items():
        t0, t1 = next(((a, b) for a, b in o.spans if a <= window.t1 and b >= window.t0),
                      (o.t_u[0], o.t_u[-1]))
        m = (o.t_u >= t0) & (o.t_u <= t1)
        if m.sum() > 50:
            out[placement] = SensorTrack(o.t_u[m], o.q_world_sensor[m], o.acc[m], o.gyr[m])
    return out


def sensor_orientations(rec: Recording, biases: dict[str, np.ndarray],
                        mode: str = "offline") -> dict[str, SensorOrientation]:
    """Orientation of every sensor at its own rate, gyro bias removed first, never bridged
    across a gap longer than a fraction of a second (each piece started afresh)."""
    out = {}
    for placement, s in rec.streams.items():
        o = piecewise_orientation(s.t, s.gyr - biases[placement], s.acc, s.mag, s.quat,
                                  mode=mode)
        out[placement] = SensorOrientation(o.t_u, o.quat, o.acc, o.gyr, o.gap, o.spans,
                                           o.heading_shared, o.source)
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
        gap = (np.interp(t, o.t_u, o.gap.astype(float)) > 0) | o.outside(t)
        q_facing_seg = quat.qmul(q_facing_sensor, q_sensor_seg)
        guessed = None
        if not o.heading_shared:
            q_facing_sensor, q_facing_seg, guessed = _face_each_piece(
                t, o.spans, standing, q_facing_sensor, q_facing_seg, gyr_g)
        out[placement] = SegmentMotion(placement, q_facing_seg,
                                       quat.qrotate(q_facing_sensor, acc_g), gyr_g, gap, guessed)
    return Motion(t, out, standing)


def _face_each_piece(t: np.ndarray, spans: list[tuple[float, float]], standing: np.ndarray,
                     q_facing_sensor: np.ndarray, q_facing_seg: np.ndarray, gyr: np.ndarray,
                     still_rad_s: float = 0.25, min_still_s: float = 0.4,
                     max_tilt_deg: float = 15.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pieces with a heading of their own (6D, started afresh after a gap): turn each one
    without the standing pose so that the segment's x axis points forward (+x) where it
    stands still and upright (within max_tilt_deg) in the piece: standing between reps,
    facing the one way the athlete keeps through a test (as
    :func:`correct_heading_drift` assumes), else on average over the piece's movement: a
    guess, flagged in the returned (N,) bool mask."""
    q_sensor, q_seg = q_facing_sensor.copy(), q_facing_seg.copy()
    guessed = np.zeros(len(t), dtype=bool)
    dt = float(t[1] - t[0]) if len(t) > 1 else 1.0
    for t0, t1 in spans:
        m = (t >= t0) & (t <= t1)
        if not m.any() or (standing & m).any():
            continue
        upright = quat.axis_of(q_seg, 1)[:, 2] > np.cos(np.radians(max_tilt_deg))
        still = m & (row_norms(gyr) < still_rad_s) & upright
        anchor = still if still.sum() * dt >= min_still_s else m
        guessed |= m if anchor is m else False
        turn = -float(np.angle(np.mean(np.exp(1j * _heading_of_x(q_seg[anchor])))))
        q_sensor[m] = quat.turn_about_z(turn, q_sensor[m])
        q_seg[m] = quat.turn_about_z(turn, q_seg[m])
    return q_sensor, q_seg, guessed


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
                               quat.rotate_about_z(turn, m.acc_facing), m.gyr, m.gap,
                               m.heading_guessed)
    return Motion(t, out, motion.standing)
