"""Find the standing window at the start of a recording.

No fixed length is assumed: the window is the first stretch, common to all
sensors, in which no sensor moves more than a person standing does.  Standing on
one leg on a step sways at 1-3 °/s, and that is normal: such a window is used,
with ``quality`` "sway" (the analysis then states a wider uncertainty); a window
of 1-1.5 s is used as "short".  An athlete who sways more than that (rates of
8-15 °/s on one leg on a step) still stands: when no stretch meets the limits,
:func:`find_unsteady_window` takes one within twice them in which no sensor turns
more than a few degrees ("sway" too).  Only a recording with no usable standing at
all gets no window (:func:`describe_no_window` says what was found instead).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from sensor_io.errors import InputError
from sensor_io.recording import Recording

GRID_HZ = 50.0
MOVING_WINDOW_S = 0.5
# A person standing (on one leg, on a step) sways at up to ~3 °/s rms with corrections
# of a few °/s, and a sternum sensor ~1.4 m above the ankle accelerates by up to ~1 m/s²
# doing so; a step-down moves the thigh at 50-100 °/s.  Limits per axis over the moving
# window, and on the gyro's magnitude (bias included):
GYR_STD_MAX = 0.14       # rad/s (8 °/s)
ACC_STD_MAX = 1.5        # m/s²
GYR_NORM_MAX = 0.35      # rad/s
STILL_GYR_STD = 0.03     # rad/s (1.7 °/s): a window swaying more than this is "sway"
MIN_WINDOW_S = 1.5       # a window this long or longer is not "short"
MIN_USABLE_S = 1.0       # shorter than this is no standing window at all
TRIM_S = 0.15
PREFIX_S = 10.0
"""The window is at the start: it is looked for in the first PREFIX_S s, and the whole
recording is scanned only when no window is found there."""
UNSTEADY_FACTOR = 2.0
"""An unsteady window may sway up to this many times the limits' gyro and accelerometer
spread and gyro magnitude (a fidgeting or moving sensor goes far beyond)."""
UNSTEADY_TURN_DEG = 6.0
"""In an unsteady window no sensor turns more than this within any 1 s (peak to peak
about any of its axes, gyro bias included): sway of +-1.5 deg stays under it, the slowest
knee bend (20 deg/s) or a rep's start does not."""
TURN_WINDOW_S = 1.0
START_POSTURE_S = 1.0
"""The recording's first second is its standing (DESIGN.md: a recording begins with
standing), swaying or not: the posture a standing window must hold."""
POSTURE_TURN_MAX_DEG = 12.0
"""A window whose sensors' gravity direction is further than this from the start's is a
held pose (a wall sit, an isometric hold at 20-30 deg of thigh), not standing: sway moves
a sensor's gravity direction by a few degrees (simulated standing: thigh and pelvis within
5 deg of the first second)."""


@dataclass(frozen=True)
class StandingLimits:
    """What counts as standing (a setting of the analysis: ``AnalysisConfig.standing``);
    the defaults are the module's constants."""

    gyr_std_max_rad_s: float = GYR_STD_MAX
    """Largest per-axis gyro standard deviation over the moving window, rad/s."""
    acc_std_max_ms2: float = ACC_STD_MAX
    """Largest per-axis accelerometer standard deviation over the moving window, m/s²."""
    gyr_norm_max_rad_s: float = GYR_NORM_MAX
    """Largest gyro magnitude (bias included), rad/s."""
    still_gyr_std_rad_s: float = STILL_GYR_STD
    """A window whose gyro spread is above this is "sway", rad/s."""
    min_window_s: float = MIN_WINDOW_S
    """A window this long or longer is not "short", s."""
    min_usable_s: float = MIN_USABLE_S
    """A still stretch shorter than this is no standing window at all, s."""

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
                raise InputError(f"standing: {name} must be a positive number, got {value!r}")
        if self.min_usable_s > self.min_window_s:
            raise InputError(f"standing: min_usable_s ({self.min_usable_s:g} s) must not exceed "
                             f"min_window_s ({self.min_window_s:g} s)")


@dataclass(frozen=True)
class StandingWindow:
    """The standing window and how still the sensors were in it."""

    t0: float
    """Start, s on the recording's common clock."""
    t1: float
    """End, s."""
    gyr_std_rad_s: float
    """Gyro spread of the worst sensor (rms of its per-axis standard deviations), rad/s."""
    acc_std_ms2: float
    """Accelerometer spread of the worst sensor (rms of its per-axis standard deviations),
    m/s²."""
    limits: StandingLimits = field(default_factory=StandingLimits)
    """The limits it was found with (they judge its :attr:`quality`)."""

    @property
    def duration_s(self) -> float:
        """Length of the window, s."""
        return self.t1 - self.t0

    @property
    def quality(self) -> str:
        """"still", "sway" (gyro std above the limits' ``still_gyr_std_rad_s``) or "short"
        (under their ``min_window_s``)."""
        if self.duration_s < self.limits.min_window_s - 1e-9:
            return "short"
        return "sway" if self.gyr_std_rad_s > self.limits.still_gyr_std_rad_s else "still"

    def describe(self) -> str:
        """One line on what was found, e.g. for a report.

        Returns
        -------
        str
            Times, length and the sensors' spread.
        """
        what = {"still": "still standing", "sway": "standing with sway",
                "short": "a short standing window"}[self.quality]
        return (f"{what}, {self.t0:.1f}-{self.t1:.1f} s ({self.duration_s:.1f} s, gyro "
                f"{np.degrees(self.gyr_std_rad_s):.1f} °/s)")


def _moving_std(columns: list[np.ndarray], n: int) -> np.ndarray:
    """(M,): the largest of the columns' (each (M,)) standard deviations over n samples."""
    x = np.stack(columns)  # (K, M): each column contiguous
    x -= x.mean(axis=1, keepdims=True)  # the spread is shift-free; centred sums keep precision
    m = _moving_mean(x, n)
    m2 = _moving_mean(x * x, n)
    return np.sqrt(np.maximum(m2 - m * m, 0.0)).max(axis=0)


def _moving_mean(x: np.ndarray, n: int) -> np.ndarray:
    """(K, M) mean of each row over n samples, n // 2 before each one and the rest after,
    the ends repeated (``scipy.ndimage.uniform_filter1d(x, n, mode="nearest")``'s window;
    from one cumulative sum, without importing scipy.ndimage on the analysis path)."""
    left, right = n // 2, n - 1 - n // 2
    padded = np.concatenate([np.repeat(x[:, :1], left, axis=1), x,
                             np.repeat(x[:, -1:], right, axis=1)], axis=1)
    total = np.concatenate([np.zeros((len(x), 1)), np.cumsum(padded, axis=1)], axis=1)
    return (total[:, n:] - total[:, :-n]) / n


def still_mask(t_grid: np.ndarray, t: np.ndarray, acc: np.ndarray, gyr: np.ndarray,
               limits: StandingLimits | None = None) -> np.ndarray:
    """Is a sensor still around each grid instant?

    Parameters
    ----------
    t_grid : numpy.ndarray
        (M,) grid, s.
    t : numpy.ndarray
        (N,) the sensor's sample times, s.
    acc : numpy.ndarray
        (N, 3) specific force, m/s², sensor frame.
    gyr : numpy.ndarray
        (N, 3) angular rate, rad/s, sensor frame.
    limits : StandingLimits, optional
        What counts as still (default: the defaults).

    Returns
    -------
    numpy.ndarray
        (M,) bool on ``t_grid``.
    """
    return _sensor_state(t_grid, t, acc, gyr, limits or StandingLimits())[0]


def _sensor_state(t_grid: np.ndarray, t: np.ndarray, acc: np.ndarray, gyr: np.ndarray,
                  limits: StandingLimits) -> tuple[np.ndarray, np.ndarray]:
    """(still (M,) bool, gyro activity (M,) rad/s: largest per-axis moving std) on t_grid."""
    a = [np.interp(t_grid, t, acc[:, i]) for i in range(3)]
    g = [np.interp(t_grid, t, gyr[:, i]) for i in range(3)]
    n = _moving_n()
    inside = (t_grid >= t[0]) & (t_grid <= t[-1])
    g_norm = np.sqrt(g[0] * g[0] + g[1] * g[1] + g[2] * g[2])
    g_std = _moving_std(g, n)
    still = (inside & (g_std < limits.gyr_std_max_rad_s)
             & (_moving_std(a, n) < limits.acc_std_max_ms2) & (g_norm < limits.gyr_norm_max_rad_s))
    return still, g_std


def _moving_n() -> int:
    """Samples of the moving window on the grid."""
    return max(3, int(MOVING_WINDOW_S * GRID_HZ))


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) index pairs of True runs."""
    d = np.diff(np.concatenate([[0], mask.astype(int), [0]]))
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1), strict=True))


def _common_span(rec: Recording) -> tuple[float, float]:
    return max(s.t[0] for s in rec.streams.values()), min(s.t[-1] for s in rec.streams.values())


def posture_turn_deg(rec: Recording, win: StandingWindow) -> float:
    """How far the window's posture is from the recording's start.

    Parameters
    ----------
    rec : Recording
        The recording.
    win : StandingWindow
        A candidate standing window.

    Returns
    -------
    float
        deg: the largest angle, over the sensors, between the mean specific force (sensor
        frame) in the window and in the recording's first :data:`START_POSTURE_S` s.
    """
    t0 = _common_span(rec)[0]
    turns = [0.0]
    for s in rec.streams.values():
        start = s.acc[time_slice(s.t, t0, t0 + START_POSTURE_S)].mean(axis=0)
        held = s.acc[time_slice(s.t, win.t0, win.t1)].mean(axis=0)
        cos = float(start @ held) / float(np.linalg.norm(start) * np.linalg.norm(held))
        turns.append(float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))))
    return max(turns)


def find_standing_window(rec: Recording, limits: StandingLimits | None = None
                         ) -> StandingWindow | None:
    """The first common still stretch of at least the limits' ``min_window_s`` (else the
    first of at least their ``min_usable_s``, "short") in the first PREFIX_S s, else in the
    whole recording
    (a stretch with movement after it before one without).  Its ends are
    cut back to where the sensors sway no more than in its middle (a rep's slow start
    is not standing).

    Parameters
    ----------
    rec : Recording
        The recording.
    limits : StandingLimits, optional
        What counts as standing (default: the defaults).

    Returns
    -------
    StandingWindow or None
        The window; None when there is none.
    """
    limits = limits or StandingLimits()
    shortest, usable = limits.min_window_s, limits.min_usable_s
    t_start, t_end = _common_span(rec)
    if t_end - t_start < usable:
        return None
    grid = np.arange(t_start, t_end, 1.0 / GRID_HZ)
    n_prefix = int(PREFIX_S * GRID_HZ)
    if len(grid) > n_prefix:
        # a prefix's still mask is the whole one's but for the last moving window
        known = n_prefix - _moving_n()
        mask, activity = _all_still(rec, grid[:n_prefix], limits)
        win = _first_described(rec, grid, mask[:known], activity[:known], limits,
                               [(shortest, known), (usable, known)], complete=False)
        if win is not None:
            return win
    mask, activity = _all_still(rec, grid, limits)
    last = _runs(mask)[-1][0] if mask.any() else len(mask)
    return _first_described(rec, grid, mask, activity, limits,
                            [(shortest, last), (usable, last), (shortest, len(mask)),
                             (usable, len(mask))])


def find_unsteady_window(rec: Recording, limits: StandingLimits | None = None
                         ) -> StandingWindow | None:
    """A standing window for an athlete who sways more than the limits allow.

    Looked for, as :func:`find_standing_window`'s, at the start (the first PREFIX_S s):
    the first stretch of at least the limits' ``min_window_s`` (else ``min_usable_s``)
    in which every sensor is within :data:`UNSTEADY_FACTOR` times the limits' spreads
    and gyro magnitude and turns no more than :data:`UNSTEADY_TURN_DEG` in any
    :data:`TURN_WINDOW_S`.  Its gyro spread is above the still limit, so its quality
    is "sway" (or "short") and the analysis states the wider uncertainty of that case.

    Parameters
    ----------
    rec : Recording
        The recording.
    limits : StandingLimits, optional
        What counts as standing (default: the defaults).

    Returns
    -------
    StandingWindow or None
        The window, judged by ``limits``; None when there is none.
    """
    limits = limits or StandingLimits()
    relaxed = replace(limits, gyr_std_max_rad_s=UNSTEADY_FACTOR * limits.gyr_std_max_rad_s,
                      acc_std_max_ms2=UNSTEADY_FACTOR * limits.acc_std_max_ms2,
                      gyr_norm_max_rad_s=UNSTEADY_FACTOR * limits.gyr_norm_max_rad_s)
    t_start, t_end = _common_span(rec)
    if t_end - t_start < limits.min_usable_s:
        return None
    grid = np.arange(t_start, min(t_end, t_start + PREFIX_S), 1.0 / GRID_HZ)
    mask, activity = _all_still(rec, grid, relaxed)
    for s in rec.streams.values():
        mask &= _steady_turn(grid, s.t, s.gyr)
    # the last moving window of a prefix is judged without what follows it
    known = len(grid) if t_end <= grid[-1] + 1.0 / GRID_HZ else len(grid) - _moving_n()
    return _first_described(rec, grid, mask, activity, limits,
                            [(limits.min_window_s, known), (limits.min_usable_s, known)])


def _first_described(rec: Recording, grid: np.ndarray, mask: np.ndarray, activity: np.ndarray,
                     limits: StandingLimits, tries: list[tuple[float, int]],
                     complete: bool = True) -> StandingWindow | None:
    """The first window found by the first of ``tries`` ((min_s, how much of the mask is
    looked at), in order) that finds one, settled and described; None when none does."""
    for min_s, upto in tries:
        found = _first_window(grid, mask[:upto], complete=complete, min_s=min_s)
        if found is not None:
            return _describe(rec, *_settled(grid, activity, *found), limits)
    return None


def _steady_turn(grid: np.ndarray, t: np.ndarray, gyr: np.ndarray) -> np.ndarray:
    """(M,) bool on grid: within the TURN_WINDOW_S centred on each instant the sensor's
    integrated rate (rad, about each of its axes) spans at most UNSTEADY_TURN_DEG."""
    w = max(2, int(round(TURN_WINDOW_S * GRID_HZ)))
    out = np.zeros(len(grid), bool)
    if len(grid) < w:
        return out
    turned = np.cumsum(np.stack([np.interp(grid, t, gyr[:, i]) for i in range(3)]), axis=1)
    spans = np.lib.stride_tricks.sliding_window_view(turned / GRID_HZ, w, axis=1)  # (3, M-w+1, w)
    steady = (spans.max(axis=2) - spans.min(axis=2)).max(axis=0) <= np.radians(UNSTEADY_TURN_DEG)
    out[w // 2: w // 2 + len(steady)] = steady
    return out & (grid >= t[0]) & (grid <= t[-1])


def _settled(grid: np.ndarray, activity: np.ndarray, t0: float, t1: float) -> tuple[float, float]:
    """[t0, t1] with each end cut back to where the gyro activity (every sensor's moving
    std, the largest) is at most twice its median over the window's middle half."""
    i0, i1 = np.searchsorted(grid, [t0, t1])
    inner = activity[i0 + (i1 - i0) // 4: i1 - (i1 - i0) // 4]
    calm = activity[i0:i1] <= 2.0 * float(np.median(inner)) + 0.005
    if not calm.any():
        return t0, t1
    k = np.flatnonzero(calm)
    return float(grid[i0 + k[0]]), float(grid[i0 + k[-1]])


def describe_no_window(rec: Recording, limits: StandingLimits | None = None) -> str:
    """What a recording without a standing window holds instead.

    Parameters
    ----------
    rec : Recording
        The recording.
    limits : StandingLimits, optional
        What counts as standing (default: the defaults).

    Returns
    -------
    str
        One phrase.
    """
    limits = limits or StandingLimits()
    usable = limits.min_usable_s
    t_start, t_end = _common_span(rec)
    if t_end - t_start < usable:
        return (f"the sensors share only {max(t_end - t_start, 0.0):.1f} s of recording, too "
                f"short to hold {usable:g} s of standing")
    grid = np.arange(t_start, t_end, 1.0 / GRID_HZ)
    runs = _runs(_all_still(rec, grid, limits)[0])
    if not runs:
        return f"the sensors never stopped moving in {t_end - t_start:.1f} s"
    i0, i1 = max(runs, key=lambda r: r[1] - r[0])
    run_s = (i1 - i0) / GRID_HZ
    edges = (f", too short once its edges ({TRIM_S:g} s each) are left out"
             if run_s >= usable else "")
    return (f"the sensors never stopped moving for {usable:g} s (the longest still "
            f"stretch is {run_s:.1f} s, at {grid[i0]:.1f} s{edges})")


def _all_still(rec: Recording, grid: np.ndarray, limits: StandingLimits
               ) -> tuple[np.ndarray, np.ndarray]:
    """(M,) bool on grid: every sensor still; (M,) the largest gyro activity, rad/s."""
    mask = np.ones(len(grid), bool)
    activity = np.zeros(len(grid))
    for s in rec.streams.values():
        still, g_std = _sensor_state(grid, s.t, s.acc, s.gyr, limits)
        mask &= still
        activity = np.maximum(activity, g_std)
    return mask, activity


def _first_window(grid: np.ndarray, mask: np.ndarray, complete: bool = False,
                  min_s: float = MIN_WINDOW_S) -> tuple[float, float] | None:
    """(t0, t1) s of the first still run of at least min_s once trimmed, or None.

    mask: the still mask over grid[:len(mask)]; unless ``complete``, it goes on
    unknown after its end, so a run reaching the end is not judged (None).
    """
    for i0, i1 in _runs(mask):
        if i1 == len(mask) and not complete:
            return None
        t0, t1 = grid[i0] + TRIM_S, grid[i1 - 1] - TRIM_S
        if t1 - t0 >= min_s:
            return t0, t1
    return None


def time_slice(t: np.ndarray, t0: float, t1: float) -> slice:
    """The samples of a time span, as a slice (what the boolean mask selects, without
    building and applying one).

    Parameters
    ----------
    t : numpy.ndarray
        (N,) strictly increasing times, s.
    t0 : float
        Start, s.
    t1 : float
        End, s.

    Returns
    -------
    slice
        The samples with t0 <= t <= t1.
    """
    return slice(int(np.searchsorted(t, t0, side="left")), int(np.searchsorted(t, t1, side="right")))


def _describe(rec: Recording, t0: float, t1: float, limits: StandingLimits) -> StandingWindow:
    g_std = a_std = 0.0
    for s in rec.streams.values():
        m = time_slice(s.t, t0, t1)
        g_std = max(g_std, float(np.sqrt(np.mean(np.var(s.gyr[m], axis=0)))))
        a_std = max(a_std, float(np.sqrt(np.mean(np.var(s.acc[m], axis=0)))))
    return StandingWindow(float(t0), float(t1), g_std, a_std, limits)
