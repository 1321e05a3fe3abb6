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

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from analysis import quat
from analysis.config import MAX_BRIDGE_S
from analysis.orientation import piecewise_orientation, resample_rows
from calibration import Calibration
from calibration.joint_heading import SensorTrack
from sensor_io.recording import Recording, SensorStream
from sensor_io.vectors import row_norms

GRID_HZ = 100.0


@dataclass
class SegmentMotion:
    """One segment on the common grid (acc_facing and gyr kept as SIGNAL_DTYPE)."""

    placement: str
    """The sensor's placement (``thigh_left``, ...)."""
    q_facing_seg: np.ndarray
    """(N, 4) segment orientation in the facing frame, [w, x, y, z]."""
    acc_facing: np.ndarray
    """(N, 3) m/s², specific force of its sensor rotated into the facing frame."""
    gyr: np.ndarray
    """(N, 3) rad/s, bias-corrected gyro in the sensor frame."""
    gap: np.ndarray
    """(N,) bool, grid samples inside a gap of this sensor (values interpolated)."""
    heading_guessed: np.ndarray | None = None
    """(N,) bool, samples of a piece whose heading (6D, started afresh after a gap) could
    only be guessed from the movement itself; None when there is none."""


@dataclass
class Motion:
    """All segments of a recording on one time grid."""

    t: np.ndarray
    """(N,) the grid, s on the recording's clock."""
    segments: dict[str, SegmentMotion]
    """Placement -> its segment's motion."""
    standing: np.ndarray
    """(N,) bool, grid samples in the calibration window."""

    def get(self, segment: str, test_leg: str) -> SegmentMotion | None:
        """One segment's motion by its name.

        Parameters
        ----------
        segment : str
            'pelvis', 'thigh', 'shank', 'trunk' or 'wrist'.
        test_leg : str
            ``left`` or ``right``: the side whose thigh and shank are meant.

        Returns
        -------
        SegmentMotion or None
            The segment; None when no sensor was on it.
        """
        for p, m in self.segments.items():
            name, _, side = p.partition("_")
            if name == segment and (segment not in ("thigh", "shank") or side == test_leg):
                return m
        return None


def _common_grid(rec: Recording) -> np.ndarray:
    t0 = max(s.t[0] for s in rec.streams.values())
    t1 = min(s.t[-1] for s in rec.streams.values())
    return np.arange(t0, t1, 1.0 / GRID_HZ)


def _heading_of_x(q: np.ndarray) -> np.ndarray:
    """Heading (rad) of the segment's anterior (x) axis in the horizontal plane: () or (N,)."""
    return quat.axis_heading(q, 0)


@dataclass
class SensorOrientation:
    """One sensor's orientation on its own grid (uniform within each piece, see
    :func:`analysis.orientation.piecewise_orientation`); :meth:`signals` resamples its
    accelerometer and gyro on the grid (not kept: an hour of five sensors is ~120 MB of
    them)."""

    t_u: np.ndarray
    """(M,) sample times, s."""
    q_world_sensor: np.ndarray
    """(M, 4) sensor orientation in the world frame (z up), [w, x, y, z]."""
    gap: np.ndarray
    """(M,) bool, samples inside a gap (interpolated)."""
    samples: SensorStream
    """The sensor's own stream (acc m/s², gyr rad/s, sensor frame)."""
    gyr_bias: np.ndarray
    """(3,) gyro bias, rad/s, sensor frame, taken off the gyro."""
    runs: list[tuple[slice, slice]]
    """Each piece's rows of ``t_u`` and of the stream."""
    spans: list[tuple[float, float]] = field(default_factory=list)
    """(t0, t1) of each piece, s."""
    heading_shared: bool = True
    """False when each piece's heading is its own (6D pieces)."""
    source: str = "vqf 6D"
    """Where the orientation came from."""

    def signals(self, rows: slice = slice(None)) -> tuple[np.ndarray, np.ndarray]:
        """The samples resampled within each piece, as the filter was fed them.

        Parameters
        ----------
        rows : slice
            Rows of ``t_u``.

        Returns
        -------
        tuple of (numpy.ndarray, numpy.ndarray)
            acc (K, 3) m/s² and bias-corrected gyr (K, 3) rad/s, sensor frame, at
            ``t_u[rows]``.
        """
        cols = list(self._columns(rows))
        return np.column_stack(cols[:3]), np.column_stack(cols[3:])

    def on_grid(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`signals` linearly interpolated at other times, made a column at a time
        (an hour at 200 Hz holds one 6 MB column, not 35 MB).

        Parameters
        ----------
        t : numpy.ndarray
            (N,) times, s.

        Returns
        -------
        tuple of (numpy.ndarray, numpy.ndarray)
            acc (N, 3) m/s² and gyr (N, 3) rad/s, sensor frame.
        """
        out = np.empty((len(t), 6))
        for k, col in enumerate(self._columns(slice(None))):
            out[:, k] = np.interp(t, self.t_u, col)
        return out[:, :3], out[:, 3:]

    def _columns(self, rows: slice) -> Iterator[np.ndarray]:
        """ax, ay, az, gx, gy, gz (gyro bias removed) at t_u[rows], one (K,) at a time."""
        start, stop, _ = rows.indices(len(self.t_u))
        s = self.samples
        columns = [s.acc[:, i] for i in range(3)] + [s.gyr[:, i] for i in range(3)]
        offsets = [None] * 3 + list(self.gyr_bias)
        per_piece = [resample_rows(self.t_u[max(start, grid.start):min(stop, grid.stop)],
                                   s.t[raw], [c[raw] for c in columns], offsets)
                     for grid, raw in self.runs if max(start, grid.start) < min(stop, grid.stop)]
        if not per_piece:
            yield from (np.empty(0) for _ in columns)
            return
        for parts in zip(*per_piece, strict=True):
            yield parts[0] if len(parts) == 1 else np.concatenate(parts)

    def vertical_in_sensor(self) -> tuple[np.ndarray, np.ndarray]:
        """The global vertical in sensor coordinates (heading-free).

        Returns
        -------
        tuple of (numpy.ndarray, numpy.ndarray)
            (t, v): the (M,) times, s, and the (M, 3) unit vertical, sensor frame.
        """
        return self.t_u, quat.axis_of(quat.qconj(self.q_world_sensor), 2)

    def outside(self, t: np.ndarray) -> np.ndarray:
        """Which times lie outside every piece (no orientation there).

        Parameters
        ----------
        t : numpy.ndarray
            (N,) times, s.

        Returns
        -------
        numpy.ndarray
            (N,) bool.
        """
        inside = np.zeros(len(t), dtype=bool)
        for t0, t1 in self.spans:
            inside |= (t >= t0) & (t <= t1)
        return ~inside


TRACK_S = 300.0
"""Joint headings are taken from at most this long after the standing window (s): the
6D headings of two sensors drift apart, so one heading between them holds near the
standing pose, not over an hour; a test is shorter, a session's first sets are in it."""


def standing_tracks(orientations: dict[str, SensorOrientation], window) -> dict[str, SensorTrack]:
    """Each sensor's orientation and signals over the stretch in which its heading is one,
    for :func:`calibration.calibrate`'s joint headings.

    Parameters
    ----------
    orientations : dict of str to SensorOrientation
        Placement -> its orientation.
    window : StandingWindow
        The standing window (:class:`calibration.StandingWindow`, s).

    Returns
    -------
    dict of str to SensorTrack
        Placement -> its track over the piece holding the window, up to TRACK_S after it
        (sensors with 50 samples or fewer there are left out).
    """
    out = {}
    for placement, o in orientations.items():
        t0, t1 = next(((a, b) for a, b in o.spans if a <= window.t1 and b >= window.t0),
                      (o.t_u[0], o.t_u[-1]))
        t1 = min(t1, window.t1 + TRACK_S)
        m = slice(int(np.searchsorted(o.t_u, t0, side="left")),
                  int(np.searchsorted(o.t_u, t1, side="right")))  # views: t_u ascends
        if m.stop - m.start > 50:
            out[placement] = SensorTrack(o.t_u[m], o.q_world_sensor[m], *o.signals(m))
    return out


LEVELLED_DEVICE_SEGMENTS = ("thigh", "shank")
"""Segments whose device orientation (a file's own quaternion) is levelled to the sensor's
accelerometer in each piece (:func:`analysis.orientation.levelled_device`). Not the pelvis:
on the development trials of one subject (CMU-MBL SUB22) levelling it made pelvic drop
worse (MAE 1.99 -> 2.35°) while the legs' levelling took the thigh's +2.7° standing offset
out (docs/real_data.md "The thigh's standing offset")."""


def sensor_orientations(rec: Recording, biases: dict[str, np.ndarray],
                        mode: str = "offline", max_bridge_s: float = MAX_BRIDGE_S
                        ) -> dict[str, SensorOrientation]:
    """Orientation of every sensor at its own rate, gyro bias removed first, never bridged
    across a gap longer than a fraction of a second (each piece started afresh); a device's
    own orientation of a leg segment levelled in each piece (:data:`LEVELLED_DEVICE_SEGMENTS`).

    Parameters
    ----------
    rec : Recording
        The recording.
    biases : dict of str to numpy.ndarray
        Placement -> (3,) gyro bias, rad/s, sensor frame.
    mode : str
        ``offline`` (acausal) or ``causal`` (forward only, as a live stream).
    max_bridge_s : float
        Longest silence an orientation is carried across, s.

    Returns
    -------
    dict of str to SensorOrientation
        Placement -> its orientation, in the recording's order.
    """
    out = {}
    # the longest first: the filter's own buffers (~200 B a sample) are then allocated
    # beside the fewest orientations already made
    for placement, s in sorted(rec.streams.items(), key=lambda item: -len(item[1])):
        o = piecewise_orientation(s.t, s.gyr, s.acc, s.mag, s.quat, mode=mode,
                                  keep_signals=False, gyr_bias=biases[placement],
                                  max_bridge_s=max_bridge_s,
                                  level_device=placement.split("_")[0] in LEVELLED_DEVICE_SEGMENTS)
        out[placement] = SensorOrientation(o.t_u, o.quat, o.gap, s, biases[placement], o.runs,
                                           o.spans, o.heading_shared, o.source)
    return {p: out[p] for p in rec.streams}


def segment_motion(rec: Recording, cal: Calibration,
                   orientations: dict[str, SensorOrientation], consume: bool = False) -> Motion:
    """Orientation of every calibrated segment on a common 100 Hz grid, facing frame.

    Parameters
    ----------
    rec : Recording
        The recording (its streams' overlap sets the grid).
    cal : Calibration
        Sensor-to-segment rotations and the standing window.
    orientations : dict of str to SensorOrientation
        Placement -> the sensor's orientation at its own rate.
    consume : bool
        Remove each sensor's entry from ``orientations`` once it is on the grid, so its
        own-rate arrays are freed before the next sensor's grid arrays are made (an hour of
        five sensors holds ~200 MB of them).

    Returns
    -------
    Motion
        The segments on the grid; the facing frame turns the world frame about the vertical
        so that each standing segment's x axis points to +x.
    """
    t = _common_grid(rec)
    standing = (t >= cal.window.t0) & (t <= cal.window.t1)
    out = {}
    for placement, c in cal.sensors.items():
        o = orientations.pop(placement) if consume else orientations[placement]
        acc_g, gyr_g = o.on_grid(t)
        gap = o.outside(t)
        if o.gap.any():  # else no grid time is near one
            gap |= np.interp(t, o.t_u, o.gap.astype(float)) > 0
        q_world_sensor = quat.interpolate(t, o.t_u, o.q_world_sensor)
        spans, heading_shared = o.spans, o.heading_shared
        del o  # with consume, the own-rate orientation is freed here
        q_sensor_seg = quat.from_matrix(c.R_sensor_seg)
        stand = quat.qmul(q_world_sensor[standing], q_sensor_seg)  # q_world_seg when standing
        stand_mean = quat.from_scipy(quat.to_scipy(stand).mean())
        # world -> facing: a turn about the vertical that points the standing segment's x to +x
        q_facing_sensor = quat.turn_about_z(-float(_heading_of_x(stand_mean)), q_world_sensor)
        del q_world_sensor
        q_facing_seg = quat.qmul(q_facing_sensor, q_sensor_seg)
        guessed = None
        if not heading_shared:
            q_facing_sensor, q_facing_seg, guessed = _face_each_piece(
                t, spans, standing, q_facing_sensor, q_facing_seg, gyr_g)
        acc_facing = compact(quat.qrotate(q_facing_sensor, acc_g))
        out[placement] = SegmentMotion(placement, q_facing_seg, acc_facing, compact(gyr_g), gap,
                                       guessed)
    return Motion(t, out, standing)


SIGNAL_DTYPE = np.float32
"""Storage of the segments' accelerations and angular rates on the grid: 7 significant
digits, far beyond an IMU's own resolution (16-bit samples), at half the memory (an hour of
five sensors: 43 MB less). Orientations stay float64 (they are products of a long
integration, and every angle is measured from them)."""


def compact(signal: np.ndarray) -> np.ndarray:
    """A grid signal in the dtype it is kept in.

    Parameters
    ----------
    signal : numpy.ndarray
        (N, 3) acceleration (m/s²) or angular rate (rad/s).

    Returns
    -------
    numpy.ndarray
        The same numbers in SIGNAL_DTYPE (no copy when already so).
    """
    return signal.astype(SIGNAL_DTYPE, copy=False)


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
    still_upright = None  # the whole recording's, made at the first piece that needs it
    for t0, t1 in spans:
        m = (t >= t0) & (t <= t1)
        if not m.any() or (standing & m).any():
            continue
        if still_upright is None:
            upright = quat.axis_component(q_seg, 1, 2) > np.cos(np.radians(max_tilt_deg))
            still_upright = (row_norms(gyr) < still_rad_s) & upright
        still = m & still_upright
        anchor = still if still.sum() * dt >= min_still_s else m
        guessed |= m if anchor is m else False
        turn = -float(np.angle(np.mean(np.exp(1j * _heading_of_x(q_seg[anchor])))))
        q_sensor[m] = quat.turn_about_z(turn, q_sensor[m])
        q_seg[m] = quat.turn_about_z(turn, q_seg[m])
    return q_sensor, q_seg, guessed


def quiet_windows(motion: Motion, reps: list[tuple[float, float]], margin_s: float = 0.2,
                  still_rad_s: float = 0.25) -> list[np.ndarray]:
    """The standing pauses between and after reps (all sensors still).

    Each pause is found by bisection and kept as its indices, so the cost follows the
    pauses, not reps x recording length.

    Parameters
    ----------
    motion : Motion
        The segments' motion.
    reps : list of (float, float)
        (start_s, end_s) of each rep, s, in time order.
    margin_s : float
        Time left out after a rep's end and before the next one's start, s.
    still_rad_s : float
        Every sensor's angular rate below this is still, rad/s.

    Returns
    -------
    list of numpy.ndarray
        Grid indices (ascending) of each pause of at least 20 samples.
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


def correct_heading_drift(motion: Motion, pauses: list[np.ndarray], consume: bool = False
                          ) -> Motion:
    """Remove each segment's slow heading drift (6D filters drift about the vertical).

    The athlete's stance foot stays on the step, so in every standing pause
    between reps the segments face where they faced in the calibration pose.
    The heading each segment shows in a pause is its drift there; the drift is
    interpolated linearly between pauses and removed.  Wrist sensors are left
    alone (the hand may rest differently each time).

    Parameters
    ----------
    motion : Motion
        The segments' motion, facing frame.
    pauses : list of numpy.ndarray
        Grid indices of each standing pause, as :func:`quiet_windows` gives them.
    consume : bool
        Replace each segment of ``motion`` by its corrected one as it is made (the returned
        Motion is then ``motion``), so the uncorrected arrays are freed one segment at a
        time instead of all being held until the caller drops them.

    Returns
    -------
    Motion
        The motion with each segment turned about the vertical by minus its drift.
    """
    if not pauses:
        return motion
    t = motion.t
    anchors_t = [float(np.mean(t[motion.standing]))] + [float(np.mean(t[w])) for w in pauses]
    rows, cuts = np.concatenate(pauses), np.cumsum([len(i) for i in pauses])[:-1]
    out = motion.segments if consume else {}
    for p in list(motion.segments):
        m = motion.segments[p]
        if p.startswith("wrist"):
            out[p] = m
            continue
        # mean heading in each pause (circular), from one heading computation over all pauses
        unit = np.exp(1j * _heading_of_x(m.q_facing_seg[rows]))
        drift = [0.0] + [float(np.angle(np.mean(u))) for u in np.split(unit, cuts)]
        turn = -np.interp(t, anchors_t, np.unwrap(drift))
        out[p] = SegmentMotion(p, quat.turn_about_z(turn, m.q_facing_seg),
                               compact(quat.rotate_about_z(turn, m.acc_facing)), m.gyr, m.gap,
                               m.heading_guessed)
        del m  # with consume, its arrays are freed here
    return motion if consume else Motion(t, out, motion.standing)
