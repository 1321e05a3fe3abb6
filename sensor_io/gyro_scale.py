"""Is a gyroscope in the unit its file claims? Its turns checked against the accelerometer's tilt.

While a sensor moves slowly, its accelerometer shows gravity turning in the sensor frame,
and gravity can turn in the sensor frame no faster than the sensor turns: the angle the
gyroscope integrates over a stretch is at least the tilt change the accelerometer sees.
A gyroscope read in the wrong unit (rad/s taken as °/s: 57 times too small) integrates to
a few per cent of it. The magnitude checks of :mod:`sensor_io.validation` catch the other
way (°/s taken as rad/s: implausibly fast); this one catches the slow way, which otherwise
looks like a recording with no movement ("only standing, no reps").
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import uniform_filter1d

from sensor_io.errors import InputError

INTERVAL_S = 0.5       # stretches over which tilt change and gyro angle are compared
MIN_TILT_DEG = 5.0     # stretches with less tilt change carry noise and sway, not turns
MIN_STRETCHES = 3      # fewer tilting stretches: not enough movement to judge
MIN_RATIO = 0.2        # gyro angle / tilt: 0.6-1.6 when right (real, simulated), 0.02 for rad/s read as °/s
SMOOTH_S = 0.1         # accelerometer moving average: takes off vibration, keeps tilt


def gyro_to_tilt_ratio(t: np.ndarray, acc: np.ndarray, gyr: np.ndarray) -> float | None:
    """Median, over stretches of INTERVAL_S where the accelerometer tilts by at least
    MIN_TILT_DEG, of the angle the gyroscope integrates divided by that tilt; None when
    there are fewer than MIN_STRETCHES such stretches (too little movement to judge).

    Parameters
    ----------
    t : numpy.ndarray
        Sample times, shape (N,), s, increasing.
    acc : numpy.ndarray
        Acceleration, shape (N, 3), m/s² (any scale: only its direction is used), sensor frame.
    gyr : numpy.ndarray
        Angular rate, shape (N, 3), rad/s as read, sensor frame.

    Returns
    -------
    float or None
        Gyro angle / accelerometer tilt (about 0.6-1.6 when the unit is right); None when
        there is too little movement to judge.
    """
    t = np.asarray(t, dtype=np.float64)
    if len(t) < 3:
        return None
    dt = float(np.median(np.diff(t)))
    if not dt > 0:
        return None
    acc_s = uniform_filter1d(np.asarray(acc, dtype=np.float64), max(1, round(SMOOTH_S / dt)),
                             axis=0, mode="nearest")
    u = acc_s / np.maximum(np.linalg.norm(acc_s, axis=1, keepdims=True), 1e-9)
    turned = np.concatenate([[0.0], np.cumsum(np.linalg.norm(gyr, axis=1)[1:] * np.diff(t))])
    edges = np.searchsorted(t, np.arange(t[0], t[-1], INTERVAL_S))
    a, b = edges[:-1], edges[1:]
    tilt = np.degrees(np.arccos(np.clip(np.sum(u[a] * u[b], axis=1), -1.0, 1.0)))
    gyro = np.degrees(turned[b] - turned[a])
    moving = tilt >= MIN_TILT_DEG
    if moving.sum() < MIN_STRETCHES:
        return None
    return float(np.median(gyro[moving] / tilt[moving]))


def check_gyro_scale(t: np.ndarray, acc: np.ndarray, gyr: np.ndarray, where: str,
                     claimed: str) -> None:
    """InputError (one line) when the gyroscope turns far less than the accelerometer tilts.

    Parameters
    ----------
    t : numpy.ndarray
        Sample times, shape (N,), s, increasing.
    acc : numpy.ndarray
        Acceleration, shape (N, 3), m/s² (any scale: only its direction is used), sensor frame.
    gyr : numpy.ndarray
        Angular rate, shape (N, 3), rad/s as read, sensor frame.
    where : str
        The file and sensor, for the message.
    claimed : str
        The unit the file's gyro was read in ("°/s", "rad/s").

    Raises
    ------
    InputError
        When the gyro-to-tilt ratio is below MIN_RATIO.
    """
    ratio = gyro_to_tilt_ratio(t, acc, gyr)
    if ratio is not None and ratio < MIN_RATIO:
        raise InputError(
            f"{where}: the gyroscope turns {ratio:.2f} times as far as the accelerometer tilts "
            f"(at least 1 when both are right): its values are not in {claimed}; "
            f"{'were they exported in rad/s?' if claimed == '°/s' else 'check its unit'}")
