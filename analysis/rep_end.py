"""Has a step-down rep ended?  Cheap tests on the test thigh's accelerometer, run on every
turn of a live record loop to decide when the (costlier) analysis is worth running, and
a test on the analysis' own depth signal for whether a rep's end can still move.

The thigh's tilt (:func:`thigh_tilt`) is the angle between its accelerometer reading and
its standing direction: gravity's direction, so no heading and no orientation filter;
it runs a little ahead of the analysis' filtered depth (:mod:`analysis.rep_segmentation`),
which ends a rep where the depth is back within 5 % of the rep's dip.  Angles in
degrees, times in s on the recording's common clock.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sensor_io.recording import SensorStream

DIP_DEG = 12.0         # thigh tilt that makes a rep (the analysis' min depth is 8°)
BACK_RATIO = 0.1       # back within this share of the dip (+ BACK_DEG): the rep has ended
BACK_DEG = 1.0
NEAR_STANDING_DEG = 6.0
SETTLE_S, SETTLE_DEG = 0.05, 0.25  # ... or near standing and falling < 0.25° in 0.05 s
SETTLED_SHARE = 0.02     # of the rep's depth, over SETTLE_S: its end will not move
SMOOTH_S = 0.05        # trailing mean of the accelerometer (noise; a centred one lags)
RETURN_RATIO = 0.4     # back below this share of the dip: the rep's peaks are past
LOOKBACK_S = 20.0      # at most this much of the thigh is read per call


def thigh_tilt(s: SensorStream, since_s: float) -> tuple[np.ndarray, float]:
    """The thigh's tilt from its standing direction.

    The tilt is the angle between the accelerometer's reading (trailing mean over
    SMOOTH_S) and its mean over the stream's first 2 s: gravity's direction, so no
    heading, no filter; only the first 2 s and the recent samples are read, so the
    cost does not grow with the session.

    Parameters
    ----------
    s : SensorStream
        The test thigh's stream (accelerometer in m/s², sensor frame).
    since_s : float
        Only samples after this time are given, s on the common clock (at most
        LOOKBACK_S before the stream's last sample).

    Returns
    -------
    tuple of (numpy.ndarray, float)
        The (M,) tilt per sample, deg, and the sample interval, s; empty when fewer than
        10 samples are recent.
    """
    from scipy.ndimage import uniform_filter1d

    first = int(np.searchsorted(s.t, max(since_s, s.t[-1] - LOOKBACK_S), side="right"))
    if len(s) - first < 10:
        return np.empty(0), 0.0
    standing = s.acc[: np.searchsorted(s.t, s.t[0] + 2.0)].mean(axis=0)
    dt = float(np.median(np.diff(s.t[first:])))
    k = max(1, round(SMOOTH_S / dt)) | 1
    acc = uniform_filter1d(s.acc[first:], k, axis=0, origin=(k - 1) // 2)  # trailing
    cos = acc @ standing / (np.linalg.norm(acc, axis=1) * np.linalg.norm(standing))
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))), dt


def rep_may_have_ended(s: SensorStream, since_s: float) -> bool:
    """Cheap trigger for live scoring: has a rep come and gone?

    The analysis ends a rep where its depth is back within 5 % of the dip; firing at
    10 % (of the tilt, which runs a little ahead of the analysis' filtered depth) shows
    the rep sooner; a rep whose end may still move is held back (:func:`rep_end_settled`).

    Parameters
    ----------
    s : SensorStream
        The test thigh's stream.
    since_s : float
        Start of the look, s on the common clock.

    Returns
    -------
    bool
        Whether the thigh tilted more than DIP_DEG since ``since_s`` and came back, either
        to within BACK_RATIO of that dip (+ BACK_DEG) or near standing and no longer
        falling.
    """
    if len(s) < 20:
        return False
    tilt, dt = thigh_tilt(s, since_s)
    n = max(1, round(SETTLE_S / dt)) if len(tilt) else 0
    if len(tilt) <= n or tilt.max() <= DIP_DEG:
        return False
    now = tilt[-1]
    back = now < BACK_RATIO * tilt.max() + BACK_DEG
    settled = now < NEAR_STANDING_DEG and tilt[-n - 1] - now < SETTLE_DEG
    return bool(back or settled)


def rep_returning(s: SensorStream, since_s: float, ratio: float = RETURN_RATIO) -> bool:
    """Is the test thigh on its way back up from a rep?

    Earlier than :func:`rep_may_have_ended`: on simulated tests the thigh's tilt passes 40 %
    of the dip 0.1-0.5 s before the analysis ends the rep, after the rep's peaks (the
    measures are peaks, at the bottom), so a rep scored then is scored as at its end.

    Parameters
    ----------
    s : SensorStream
        The test thigh's stream.
    since_s : float
        Start of the look, s on the common clock.
    ratio : float
        Share of the dip below which the thigh counts as returning.

    Returns
    -------
    bool
        Whether it tilted more than DIP_DEG since ``since_s`` and is now back below
        ``ratio`` of that dip.
    """
    if len(s) < 20:
        return False
    tilt, _ = thigh_tilt(s, since_s)
    return bool(len(tilt) and tilt.max() > DIP_DEG and tilt[-1] < ratio * tilt.max())


def rep_end_settled(t: np.ndarray, depth_rad: np.ndarray, start_s: float, end_s: float) -> bool:
    """Would more data leave this rep's end where it is?

    The analysis ends a rep where its depth is back within 5 % of the rep's depth above
    the lowest level after it; while the depth is still falling at the data's end, that
    level, and the end with it, move later.

    Parameters
    ----------
    t : numpy.ndarray
        (N,) sample times, s.
    depth_rad : numpy.ndarray
        (N,) depth (thigh inclination relative to standing), rad.
    start_s : float
        The rep's start, s.
    end_s : float
        The rep's end, s.

    Returns
    -------
    bool
        Settled: SETTLE_S of data after the end, over which the depth fell less than
        SETTLED_SHARE of the rep's.
    """
    if len(t) < 2 or t[-1] - end_s < SETTLE_S:
        return False
    d = np.degrees(depth_rad)
    inside = (t >= start_s) & (t <= end_s)
    depth = float(d[inside].max() - d[-1]) if inside.any() else 0.0
    fall = float(d[int(np.searchsorted(t, t[-1] - SETTLE_S))] - d[-1])
    return fall < SETTLED_SHARE * depth


def mid_dip(s: SensorStream) -> bool:
    """Is the test thigh in a rep now?

    Parameters
    ----------
    s : SensorStream
        The test thigh's stream.

    Returns
    -------
    bool
        Whether it is tilted beyond NEAR_STANDING_DEG and beyond half the deepest tilt of
        the last LOOKBACK_S.
    """
    tilt, _ = thigh_tilt(s, -np.inf)
    return bool(len(tilt) and tilt[-1] > max(NEAR_STANDING_DEG, 0.5 * tilt.max()))

