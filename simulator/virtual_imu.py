"""Virtual IMUs: sensor-frame gyro and specific force from segment kinematics,
mounted at unknown orientations, with the errors real MEMS sensors have.

gyr = angular velocity of the sensor frame, in the sensor frame (rad/s).
acc = specific force at the sensor's position, in the sensor frame (m/s²):
      R_global_sensorᵀ (p̈ + g·ẑ), so a sensor at rest reads +9.81 m/s² "up".
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from scipy.signal import butter, sosfiltfilt
from scipy.spatial.transform import Rotation

from sensor_io.anthropometry import Body
from simulator.forward_kinematics import MIRROR_SEGMENT, Kinematics, smooth_onset

GRAVITY_MS2 = 9.81
RATES_HZ = (52.0, 100.0, 104.0, 200.0)


@dataclass(frozen=True)
class Mount:
    """Where a sensor sits on its segment (canonical right-leg coordinates)."""

    segment: str
    """The segment it sits on."""
    pos_m: np.ndarray
    """(3,) sensor position in the segment frame (m)."""
    normal: np.ndarray
    """(3,) outward skin normal in the segment frame (the sensor's z axis)."""


def mounts(body: Body) -> dict[str, Mount]:
    """Nominal mounting sites of DESIGN.md for the test side of a right-leg test.

    Parameters
    ----------
    body : Body
        Segment lengths (m) that place the thigh, shank and trunk sites.

    Returns
    -------
    dict of str to Mount
        By segment: pelvis, thigh, shank, trunk, wrist.
    """
    n = lambda *v: np.asarray(v, float) / np.linalg.norm(v)  # noqa: E731
    return {
        "pelvis": Mount("pelvis", np.array([-0.10, 0.05, 0.0]), n(-1, 0, 0)),
        "thigh": Mount("thigh", np.array([0.0, -0.5 * body.thigh_m, 0.075]), n(0, 0, 1)),
        "shank": Mount("shank", np.array([0.03, 0.6 * body.shank_m, -0.02]), n(1, 0, -0.7)),
        "trunk": Mount("trunk", np.array([0.11, 0.75 * body.trunk_m, 0.0]), n(1, 0, 0)),
        "wrist": Mount("wrist", np.zeros(3), n(0, 0, 1)),
    }


@dataclass(frozen=True)
class SensorErrors:
    """Error model of one sensor (SI units). ``None`` values mean an ideal sensor."""

    rate_hz: float = 100.0
    """Nominal output rate, Hz."""
    gyr_bias: np.ndarray = field(default_factory=lambda: np.zeros(3))
    """(3,) gyro bias, rad/s."""
    gyr_bias_walk: float = 0.0
    """rad/s/√s random walk of the bias."""
    gyr_noise: float = 0.0
    """rad/s white-noise std per sample."""
    acc_bias: np.ndarray = field(default_factory=lambda: np.zeros(3))
    """(3,) accelerometer bias, m/s²."""
    acc_noise: float = 0.0
    """m/s² std per sample."""
    scale: np.ndarray = field(default_factory=lambda: np.zeros(3))
    """(3,) relative scale error per axis (gyro and accelerometer)."""
    clock_offset_s: float = 0.0
    """Offset of the sensor's clock, s."""
    clock_ppm: float = 0.0
    """Clock rate error, ppm."""
    jitter_s: float = 0.0
    """Timestamp jitter std, s."""
    drop_prob: float = 0.0
    """Probability that a sample is dropped."""
    gaps_s: tuple[tuple[float, float], ...] = ()
    """Data gaps (start, end), s on the true clock."""
    wobble_deg: float = 0.0
    """Thigh soft-tissue rotation at impacts/bottom, deg."""
    tissue_deg: float = 0.0
    """Slow skin/muscle rotation with depth, deg."""


CLOCK_OFFSET_S = 0.02
"""A recording's clock starts up to this far off the world's, s (drawn per recording)."""


def _draw_gaps(rng: np.random.Generator, t_start_gaps: float, duration_s: float
               ) -> tuple[tuple[float, float], ...]:
    """0-2 data gaps (start, end), s, of 0.05-0.3 s each."""
    gaps = []
    for _ in range(int(rng.integers(0, 3))):
        g0 = float(rng.uniform(t_start_gaps, max(t_start_gaps + 0.1, duration_s - 1.0)))
        gaps.append((g0, g0 + float(rng.uniform(0.05, 0.3))))
    return tuple(gaps)


def redraw_recording_errors(err: SensorErrors, rng: np.random.Generator, t_start_gaps: float,
                            duration_s: float) -> SensorErrors:
    """The same sensor in another recording of the session: new data gaps and clock offset.

    The device's own errors (rate, biases, scale, clock rate) and the strapping's soft
    tissue sizes are kept; the noise, the bias walk and the dropped samples are drawn when
    sampling (:func:`add_sensor_errors`).

    Parameters
    ----------
    err : SensorErrors
        The sensor's errors in the first recording.
    rng : numpy.random.Generator
        This recording's stream.
    t_start_gaps : float
        Earliest start of a data gap, s.
    duration_s : float
        Length of the recording, s.

    Returns
    -------
    SensorErrors
        ``err`` with this recording's gaps and clock offset (s).
    """
    return replace(err, gaps_s=_draw_gaps(rng, t_start_gaps, duration_s),
                   clock_offset_s=float(rng.uniform(-CLOCK_OFFSET_S, CLOCK_OFFSET_S)))


def draw_errors(rng: np.random.Generator, segment: str, t_start_gaps: float,
                duration_s: float) -> SensorErrors:
    """A realistic consumer MEMS sensor (rates 52-200 Hz).

    Per device: rate, biases, scale, clock rate; per strapping: the thigh's soft-tissue
    sizes; per recording: the gaps and the clock offset (:func:`redraw_recording_errors`).

    Parameters
    ----------
    rng : numpy.random.Generator
        The sensor's random stream.
    segment : str
        The segment it sits on (the thigh adds soft-tissue motion).
    t_start_gaps : float
        Earliest start of a data gap, s (after the standing window).
    duration_s : float
        Length of the recording, s; gaps start at least 1 s before its end.

    Returns
    -------
    SensorErrors
        The drawn error model (SI units).
    """
    rate = float(rng.choice(RATES_HZ))
    gaps = _draw_gaps(rng, t_start_gaps, duration_s)
    return SensorErrors(
        rate_hz=rate,
        gyr_bias=rng.normal(0, np.deg2rad(0.8), 3),
        gyr_bias_walk=np.deg2rad(0.02),
        gyr_noise=np.deg2rad(0.08) * np.sqrt(rate / 100.0),
        acc_bias=rng.normal(0, 0.06, 3),
        acc_noise=0.025 * np.sqrt(rate / 100.0),
        scale=rng.normal(0, 0.008, 3),
        clock_offset_s=float(rng.uniform(-CLOCK_OFFSET_S, CLOCK_OFFSET_S)),
        clock_ppm=float(rng.uniform(-60, 60)),
        jitter_s=0.0008,
        drop_prob=0.003,
        gaps_s=gaps,
        wobble_deg=float(rng.uniform(0.8, 2.0)) if segment == "thigh" else 0.0,
        tissue_deg=float(rng.uniform(0.3, 1.2)) if segment == "thigh" else 0.0,
    )


MIDLINE_TRANSVERSE_TILT_DEG = 5.0


def random_mounting(rng: np.random.Generator, normal: np.ndarray, max_tilt_deg: float = 15.0,
                    midline: bool = False) -> np.ndarray:
    """R_seg_sensor (3x3): z along the (tilted) normal, any rotation about it.

    Limb sites tilt up to max_tilt_deg in any direction (the thigh and shank
    surfaces curve both ways).  Midline sites (sacrum, sternum) are left-right
    symmetric: their slope tilts the sensor up or down by up to max_tilt_deg,
    sideways by at most MIDLINE_TRANSVERSE_TILT_DEG.

    Parameters
    ----------
    rng : numpy.random.Generator
        Draws the tilt and the spin about the normal.
    normal : numpy.ndarray
        (3,) unit outward skin normal, segment frame.
    max_tilt_deg : float
        Largest tilt of the sensor's z axis from the normal, deg.
    midline : bool
        A midline site (sacrum, sternum).

    Returns
    -------
    numpy.ndarray
        (3, 3) R_seg_sensor: sensor coords -> segment coords.
    """
    if midline:
        slope = np.sqrt(max_tilt_deg**2 - MIDLINE_TRANSVERSE_TILT_DEG**2)  # total stays <= max
        sagittal = Rotation.from_rotvec([0.0, 0.0, np.deg2rad(rng.uniform(-slope, slope))])
        transverse = Rotation.from_rotvec(
            [0.0, np.deg2rad(rng.uniform(-MIDLINE_TRANSVERSE_TILT_DEG, MIDLINE_TRANSVERSE_TILT_DEG)), 0.0])
        tilt = transverse * sagittal
    else:
        perp = np.cross(normal, rng.standard_normal(3))
        perp /= np.linalg.norm(perp)
        tilt = Rotation.from_rotvec(perp * np.deg2rad(rng.uniform(0, max_tilt_deg)))
    z = tilt.apply(normal)
    spin = Rotation.from_rotvec(z * rng.uniform(-np.pi, np.pi))
    x0 = np.cross([0.0, 1.0, 0.0], z) if abs(z[1]) < 0.9 else np.cross([1.0, 0.0, 0.0], z)
    x = spin.apply(x0 / np.linalg.norm(x0))
    return np.column_stack([x, np.cross(z, x), z])


SACRAL_EXCESS_DEG = 8.5
"""A sacral sensor's excess anterior tilt over the pelvis (deg) once it reads 15° of tilt,
before it falls with the thigh's inclination, as measured on a real body (CMU-MBL SUB22,
Xsens on the sacrum against a lab pelvis, 7 single-leg exercises; docs/real_data.md);
``analysis.soft_tissue`` takes the same out."""
SACRAL_RAMP_DEG = 15.0
"""The sensor tilt (deg from standing) over which that excess builds up."""
SACRAL_FALL_FROM_DEG = 40.0
"""The thigh inclination (deg forward from standing) past which the excess falls."""
SACRAL_FALL_PER_DEG = 0.02
"""The share of the excess lost per degree of thigh inclination past the start (1/deg)."""


def _inclination_deg(R: np.ndarray) -> np.ndarray:
    """(N,) deg: a segment's forward inclination in its own sagittal plane (x anterior, y
    superior), + when its x points up (a thigh flexing; a pelvis tilting back)."""
    x, y = R[:, :, 0], R[:, :, 1]
    return np.degrees(np.arctan2(x[:, 2], y[:, 2]))


def sacral_tissue(R_pelvis: np.ndarray, excess_deg: float = SACRAL_EXCESS_DEG,
                  R_thigh: np.ndarray | None = None) -> np.ndarray:
    """The sacral skin site's rotation relative to the pelvis bone.

    The real sacral sensor reads excess = gain * f * min(1, s / ramp) more anterior tilt
    than the pelvis, s its own tilt from standing and f = clip(1 - k * max(0, thigh - 40°),
    0, 1) the fall with the test thigh's inclination (``analysis.soft_tissue``): for a
    pelvis tilt p from the first sample (standing), s = p * ramp / (ramp - gain * f) below
    ramp - gain * f, p + gain * f above; none behind standing. Anterior tilt turns the
    pelvis's x (anterior) towards -y (down): a negative turn about its mediolateral z.

    Parameters
    ----------
    R_pelvis : numpy.ndarray
        (N, 3, 3) R_global_pelvis (world z up; the pelvis's x anterior, y up, z
        mediolateral), its first sample standing.
    excess_deg : float
        The excess once the sensor reads ``SACRAL_RAMP_DEG`` of tilt, deg (below the ramp);
        default the one measured on a real body, :data:`SACRAL_EXCESS_DEG`.
    R_thigh : numpy.ndarray, optional
        (N, 3, 3) R_global_thigh of the test leg (x anterior, y up along the femur), its
        first sample standing; None: no fall.

    Returns
    -------
    numpy.ndarray
        (N, 3, 3) rotation of the skin site in the pelvis frame (R_sensor = R_pelvis @ it
        @ R_pelvis_sensor).
    """
    tilt = -_inclination_deg(R_pelvis)
    p = np.maximum(tilt - tilt[0], 0.0)
    gain = np.full(len(p), float(excess_deg))
    if R_thigh is not None:
        thigh = _inclination_deg(R_thigh)
        past = np.maximum(thigh - thigh[0] - SACRAL_FALL_FROM_DEG, 0.0)
        gain *= np.clip(1.0 - SACRAL_FALL_PER_DEG * past, 0.0, 1.0)
    knee = SACRAL_RAMP_DEG - gain
    excess = np.where(p < knee, p * gain / knee, gain)
    return Rotation.from_rotvec(np.outer(-np.radians(excess), [0.0, 0.0, 1.0])).as_matrix()


def _tissue_rotation(kin: Kinematics, err: SensorErrors, rng: np.random.Generator,
                     strap_rng: np.random.Generator | None = None) -> np.ndarray:
    """(N,3) rotation vector (rad) of the skin relative to the bone (thigh); the slow
    rotation's axis from ``strap_rng`` when given (the strapping's), the wobble from ``rng``."""
    t = kin.t
    rv = np.zeros((len(t), 3))
    if err.tissue_deg:
        axis = (strap_rng or rng).standard_normal(3)
        rv += np.outer(kin.depth, axis / np.linalg.norm(axis)) * np.deg2rad(err.tissue_deg)
    if err.wobble_deg:
        kicks = [r.bottom_s for r in kin.reps] + [(ti, 2.5) for ti in kin.impacts_s]
        for k in kicks:
            t_k, gain = k if isinstance(k, tuple) else (k, 1.0)
            m = t >= t_k
            tau = t[m] - t_k
            f = rng.uniform(9.0, 14.0)
            axis = rng.standard_normal(3)
            wob = (np.deg2rad(err.wobble_deg) * gain * smooth_onset(tau) * np.exp(-tau / 0.08)
                   * np.sin(2 * np.pi * f * tau))
            rv[m] += np.outer(wob, axis / np.linalg.norm(axis))
    return rv


def ideal_imu(R_sensor: np.ndarray, p_sensor: np.ndarray, dt: float) -> tuple[np.ndarray, np.ndarray]:
    """Noise-free (gyr, acc) in the sensor frame from its trajectory on a uniform grid.

    Parameters
    ----------
    R_sensor : numpy.ndarray
        (N,3,3) R_global_sensor.
    p_sensor : numpy.ndarray
        (N,3) sensor position, global frame, m.
    dt : float
        Grid step, s.

    Returns
    -------
    gyr : numpy.ndarray
        (N,3) angular velocity, sensor frame, rad/s.
    acc : numpy.ndarray
        (N,3) specific force, sensor frame, m/s² (+9.81 up at rest).
    """
    rot = Rotation.from_matrix(R_sensor)
    w_mid = (rot[:-1].inv() * rot[1:]).as_rotvec() / dt  # body frame, at midpoints
    gyr = np.empty((len(R_sensor), 3))
    gyr[1:-1] = 0.5 * (w_mid[:-1] + w_mid[1:])
    gyr[0], gyr[-1] = w_mid[0], w_mid[-1]
    a_global = np.gradient(np.gradient(p_sensor, dt, axis=0), dt, axis=0)
    a_global[:, 2] += GRAVITY_MS2
    acc = np.einsum("nji,nj->ni", R_sensor, a_global)
    return gyr, acc


@dataclass
class VirtualSensor:
    """One simulated sensor: true trajectory on the fine grid plus its samples."""

    placement: str
    """Placement name (DESIGN.md)."""
    R_seg_sensor: np.ndarray
    """Nominal mounting (3,3), no soft tissue."""
    R_global_sensor: np.ndarray
    """(N_fine,3,3) incl. soft tissue."""
    t_true: np.ndarray
    """(M,) s, true sample instants."""
    t: np.ndarray
    """(M,) s, recorded timestamps."""
    gyr: np.ndarray
    """(M,3) rad/s, sensor frame."""
    acc: np.ndarray
    """(M,3) m/s² specific force, sensor frame."""
    errors: SensorErrors
    """The error model it was sampled with."""


def sample_sensor(
    placement: str, kin: Kinematics, body: Body, err: SensorErrors,
    rng: np.random.Generator, ideal: bool = False,
    sacral_excess_deg: float = SACRAL_EXCESS_DEG,
    strap_rng: np.random.Generator | None = None,
) -> VirtualSensor:
    """Mount a sensor on its segment, derive its signals and sample them.

    Parameters
    ----------
    placement : str
        Placement name (DESIGN.md), e.g. ``thigh_left``; its segment is the part before ``_``.
    kin : Kinematics
        The simulated trajectories (fine grid, s; global frame, m).
    body : Body
        Segment lengths, m (the mounting sites).
    err : SensorErrors
        The sensor's error model (its rate in Hz is used even when ``ideal``).
    rng : numpy.random.Generator
        Draws the mounting, the soft tissue, the first sample's phase and the errors.
    ideal : bool
        Sample without the sensor errors (no noise, bias, gaps, clock errors).
    sacral_excess_deg : float
        A pelvis sensor's excess anterior tilt over the bone (:func:`sacral_tissue`), deg.
    strap_rng : numpy.random.Generator or None
        Draws the mounting and the soft tissue's slow axis instead of ``rng`` (a retest's
        sensor keeps the first test's strapping); None: ``rng`` draws everything.

    Returns
    -------
    VirtualSensor
        Its mounting, true trajectory and samples (rad/s, m/s², sensor frame).
    """
    segment = placement.split("_")[0]
    mount = mounts(body)[segment]
    side_flip = MIRROR_SEGMENT if kin.test_leg == "left" else np.eye(3)
    pos, normal = side_flip @ mount.pos_m, side_flip @ mount.normal
    R_seg_sensor = random_mounting(strap_rng or rng, normal, midline=segment in ("pelvis", "trunk"))
    R_seg = kin.R[segment]
    R_tissue = Rotation.from_rotvec(_tissue_rotation(kin, err, rng, strap_rng)).as_matrix()
    if segment == "pelvis":  # where the sensor sits, so ideal sensors have it too
        R_tissue = sacral_tissue(R_seg, sacral_excess_deg, kin.R["thigh"]) @ R_tissue
    R_sensor = R_seg @ R_tissue @ R_seg_sensor
    p_sensor = kin.p[segment] + R_seg @ pos
    dt = kin.t[1] - kin.t[0]
    gyr_f, acc_f = ideal_imu(R_sensor, p_sensor, dt)
    # the sensor's own digital low-pass filter (bandwidth ~0.4 x output rate): no aliasing
    sos = butter(4, 0.4 * err.rate_hz, fs=1.0 / dt, output="sos")
    gyr_f, acc_f = sosfiltfilt(sos, gyr_f, axis=0), sosfiltfilt(sos, acc_f, axis=0)

    rate = err.rate_hz * (1 + err.clock_ppm * 1e-6)
    t_true = np.arange(rng.uniform(0, 1 / err.rate_hz), kin.t[-1] - 2 * dt, 1 / rate)
    gyr = np.column_stack([np.interp(t_true, kin.t, gyr_f[:, i]) for i in range(3)])
    acc = np.column_stack([np.interp(t_true, kin.t, acc_f[:, i]) for i in range(3)])
    t_rec = t_true.copy()
    if not ideal:
        keep, t_rec, gyr, acc, _ = add_sensor_errors(t_true, gyr, acc, err, rate, rng)
        t_true = t_true[keep]
    return VirtualSensor(placement, R_seg_sensor, R_sensor, t_true, t_rec, gyr, acc, err)


def add_sensor_errors(t_true: np.ndarray, gyr: np.ndarray, acc: np.ndarray, err: SensorErrors,
                      rate: float, rng: np.random.Generator, walk0: np.ndarray | None = None
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A real sensor's errors on its ideal samples.

    Scale error, bias, gyro bias random walk (continuing from ``walk0``), noise, clock
    offset and jitter, dropped samples and gaps, and consumer full-scale clipping (±16 g,
    ±2000 °/s).

    Parameters
    ----------
    t_true : numpy.ndarray
        (M,) s, sample instants on the true clock.
    gyr : numpy.ndarray
        (M, 3) rad/s, sensor frame.
    acc : numpy.ndarray
        (M, 3) m/s², sensor frame.
    err : SensorErrors
        The error model.
    rate : float
        Sampling rate, Hz.
    rng : numpy.random.Generator
        Draws the noise, jitter, walk and drops.
    walk0 : numpy.ndarray or None
        (3,) rad/s, the gyro bias walk's value to continue from; None starts at 0.

    Returns
    -------
    keep : numpy.ndarray
        (M,) bool, the samples kept.
    t_rec : numpy.ndarray
        Recorded timestamps of the kept samples, s.
    gyr : numpy.ndarray
        (K, 3) rad/s of the kept samples.
    acc : numpy.ndarray
        (K, 3) m/s² of the kept samples.
    walk : numpy.ndarray
        (3,) rad/s, the walk's last value.
    """
    m = len(t_true)
    walk = np.cumsum(rng.standard_normal((m, 3)), axis=0) * err.gyr_bias_walk / np.sqrt(rate)
    if walk0 is not None:
        walk = walk0 + walk
    gyr = gyr * (1 + err.scale) + err.gyr_bias + walk + rng.normal(0, err.gyr_noise, (m, 3))
    acc = acc * (1 + err.scale) + err.acc_bias + rng.normal(0, err.acc_noise, (m, 3))
    jitter = np.clip(rng.normal(0, err.jitter_s, m), -0.3 / rate, 0.3 / rate)
    t_rec = t_true + err.clock_offset_s + jitter
    keep = rng.random(m) >= err.drop_prob
    for g0, g1 in err.gaps_s:
        keep &= ~((t_true >= g0) & (t_true < g1))
    acc = np.clip(acc[keep], -16 * GRAVITY_MS2, 16 * GRAVITY_MS2)
    gyr = np.clip(gyr[keep], -np.deg2rad(2000), np.deg2rad(2000))
    return keep, t_rec[keep], gyr, acc, walk[-1].copy()
