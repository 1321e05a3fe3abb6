"""Isometric holds: where each hold starts and ends, time under tension, steadiness.

The hold (single-leg, knee bent and pushed out) is found on the test thigh's
inclination from vertical relative to standing (:func:`analysis.measures.depth_rad`):
a hold is a stretch of at least ``min_hold_s`` where the thigh is bent at least
``min_depth_deg`` and *still*: the inclination's standard deviation over a centred
``still_window_s`` window stays under ``still_std_deg``. Its start and end are that
stretch's ends; time under tension (s) is their difference.

Steadiness, in units a coach reads:

- ``pelvis_sway_deg``: how much the pelvis rocks sideways during the hold, the standard
  deviation (rms about the mean) of the pelvic obliquity, deg;
- ``tremor_dps``: the shaking of the thigh, rms of the thigh gyro's angular rate in the
  6-14 Hz band (physiological and fatigue tremor), deg/s, above the same band's level in
  the standing calibration (the sensor's own noise and resting tremor); 1 s windows with
  a transient (a bump, above 3x the median window) are left out;
- ``pelvic_drop_deg`` and ``depth_deg``: the hold position (mean pelvic drop, swing side
  lower > 0, and mean thigh inclination, both relative to standing).

A recording where the thigh is bent but never still for ``min_hold_s`` is a hold that
never steadied: :class:`NoSteadyHold` (an InputError, one line).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.ndimage import uniform_filter1d
from scipy.signal import butter, sosfiltfilt

from calibration.standing import time_slice
from sensor_io.errors import InputError
from sensor_io.exercise import ExerciseSet
from sensor_io.recording import Recording

if TYPE_CHECKING:
    from analysis.exercises.set_result import HoldEntry, HoldSetResult
    from analysis.result import JSONDoc

HOLD_UNCERTAINTY: dict[str, float] = {"tut_s": 0.2, "depth_deg": 0.9, "pelvis_sway_deg": 0.05,
                                      "tremor_dps": 0.8}
"""90 % of simulated errors are smaller (unit in the name): the larger 90th percentile of the
two sensor sets on 32 simulated holds (benchmarks/bench_programme.py, seed 3500: p90 tut
0.16/0.20 s, depth 0.86/0.73°, sway 0.022/0.017°, tremor 0.41/0.77 °/s), rounded up to
0.05, on holds recorded without the guided knee bends; with them (record's default since)
the same seeds' p90 are within these bounds (tut 0.15/0.10 s, depth 0.65/0.51°, sway
0.027/0.017°, tremor 0.22/0.63 °/s), so they are kept for both; not yet known on real
athletes."""
UNCERTAINTY_BASIS = ("90th percentile of the absolute error on simulated hold sets "
                     "(benchmarks/bench_programme.py), rounded up to 0.05; not yet known on "
                     "real athletes")
TREMOR_BAND_HZ = (6.0, 14.0)
TREMOR_WINDOW_S = 1.0
TRANSIENT_FACTOR = 6.0


class NoSteadyHold(InputError):
    """The recording has no hold that steadied (or no hold at all)."""


@dataclass(frozen=True)
class HoldDetector:
    """Hold-finding parameters: degrees and seconds (see module docstring)."""

    min_depth_deg: float = 10.0
    """A hold bends the thigh at least this far from standing, degrees."""
    still_std_deg: float = 2.5
    """Still: the depth's standard deviation within ``still_window_s`` below this, degrees."""
    still_window_s: float = 1.0
    """Window of the stillness test, s."""
    min_hold_s: float = 3.0
    """Shortest hold, s."""
    max_break_s: float = 0.2
    """Breaks of stillness shorter than this are bridged, s."""

    def find(self, t: np.ndarray, depth_deg: np.ndarray) -> list[tuple[float, float]]:
        """The holds of a depth signal.

        Parameters
        ----------
        t : numpy.ndarray
            (N,) sample times, s.
        depth_deg : numpy.ndarray
            (N,) thigh inclination relative to standing, degrees.

        Returns
        -------
        list of (float, float)
            (start_s, end_s) of each hold, s.
        """
        steady = self.steady_mask(t, depth_deg)
        return [(t[a], t[b - 1]) for a, b in _runs(steady, t, self.max_break_s)
                if t[b - 1] - t[a] >= self.min_hold_s]

    def steady_mask(self, t: np.ndarray, depth_deg: np.ndarray) -> np.ndarray:
        """Which samples are part of a steady hold.

        Parameters
        ----------
        t : numpy.ndarray
            (N,) sample times, s.
        depth_deg : numpy.ndarray
            (N,) thigh inclination relative to standing, degrees.

        Returns
        -------
        numpy.ndarray
            (N,) bool: bent at least min_depth_deg and still (see module docstring).
        """
        dt = float(np.median(np.diff(t)))
        win = max(3, int(round(self.still_window_s / dt)))
        mean = uniform_filter1d(depth_deg, win, mode="nearest")
        var = uniform_filter1d(depth_deg**2, win, mode="nearest") - mean**2
        return (depth_deg >= self.min_depth_deg) & (np.sqrt(np.maximum(var, 0.0)) < self.still_std_deg)

    def bent_s(self, t: np.ndarray, depth_deg: np.ndarray) -> float:
        """How long the thigh stayed bent, still or not.

        Parameters
        ----------
        t : numpy.ndarray
            (N,) sample times, s.
        depth_deg : numpy.ndarray
            (N,) thigh inclination relative to standing, degrees.

        Returns
        -------
        float
            Longest time it stayed bent at least min_depth_deg, s.
        """
        runs = _runs(depth_deg >= self.min_depth_deg, t, self.max_break_s)
        return max((t[b - 1] - t[a] for a, b in runs), default=0.0)


def _runs(mask: np.ndarray, t: np.ndarray, max_break_s: float) -> list[tuple[int, int]]:
    """[start, stop) index runs of True in ``mask``, breaks shorter than max_break_s bridged."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    runs: list[tuple[int, int]] = []
    for a, b in zip(starts, stops, strict=True):
        if runs and t[a] - t[runs[-1][1] - 1] < max_break_s:
            runs[-1] = (runs[-1][0], b)
        else:
            runs.append((a, b))
    return runs


@dataclass(frozen=True)
class Hold:
    """One hold: times in s on the recording's clock, angles in deg, tremor in deg/s."""

    index: int
    """1-based hold number."""
    start_s: float
    """Start, s."""
    end_s: float
    """End, s."""
    depth_deg: float
    """Mean thigh inclination from standing, degrees."""
    pelvis_sway_deg: float | None
    """Standard deviation of the pelvic drop over the hold, degrees (None: no pelvis data)."""
    tremor_dps: float | None
    """RMS of the thigh's 6-14 Hz angular rate above standing, deg/s."""
    pelvic_drop_deg: float | None
    """Mean pelvic drop over the hold, degrees."""
    completed: bool | None
    """Held for the prescription's minimum hold time; None when none was given."""

    @property
    def tut_s(self) -> float:
        """Time under tension, s."""
        return self.end_s - self.start_s

    def entry(self) -> HoldEntry:
        """The hold's entry of the set document (values rounded as written).

        Returns
        -------
        HoldEntry
            The fields and ``tut_s``.
        """
        from analysis.exercises.set_result import HoldEntry

        r = lambda v, n=2: None if v is None else round(float(v), n)  # noqa: E731
        return HoldEntry(index=self.index, start_s=r(self.start_s), end_s=r(self.end_s),
                         tut_s=r(self.tut_s, 1), depth_deg=r(self.depth_deg, 1),
                         pelvis_sway_deg=r(self.pelvis_sway_deg), tremor_dps=r(self.tremor_dps),
                         pelvic_drop_deg=r(self.pelvic_drop_deg, 1), completed=self.completed)


@dataclass(frozen=True)
class HoldSet:
    """The analysis of one hold set, with what was prescribed."""

    test_leg: str
    """``left`` or ``right``: the leg holding."""
    exercise: ExerciseSet
    """The set as recorded: prescription, load."""
    holds: tuple[Hold, ...]
    """The holds, in time order."""
    calibration: JSONDoc
    """The standing window (``window_s``, s)."""
    warnings: tuple[str, ...] = ()
    """Plain-language doubts about the recording."""

    @property
    def tut_s(self) -> float:
        """Total time under tension, s (the set's training volume)."""
        return float(sum(h.tut_s for h in self.holds))

    @property
    def completed(self) -> int:
        """How many holds lasted the prescribed minimum."""
        return sum(1 for h in self.holds if h.completed)

    def result(self) -> HoldSetResult:
        """The set's typed document, what the catalog, the rules and the reports read.

        Returns
        -------
        HoldSetResult
            The holds, the summary against the prescription, units, uncertainty, warnings.
        """
        from analysis.exercises.set_result import HoldSetResult, HoldSummary, StatedUncertainty

        p = self.exercise.prescription
        summary = HoldSummary(
            holds=len(self.holds), tut_s=round(self.tut_s, 1), prescribed_holds=p.get("holds"),
            prescribed_hold_s=None if p.get("hold_s") is None else tuple(p["hold_s"]),
            completed=self.completed if "hold_s" in p else None,
            pelvis_sway_deg=_median(h.pelvis_sway_deg for h in self.holds),
            tremor_dps=_median(h.tremor_dps for h in self.holds))
        return HoldSetResult(
            self.exercise, self.test_leg, self.calibration, tuple(h.entry() for h in self.holds),
            summary, {"tut_s": "s", "pelvis_sway_deg": "deg rms about the hold's mean",
                      "tremor_dps": "deg/s rms, 6-14 Hz, above standing"},
            StatedUncertainty(dict(HOLD_UNCERTAINTY), UNCERTAINTY_BASIS), self.warnings)

    def to_json(self) -> JSONDoc:
        """The set's document (``format`` ``stepdown-exercise``): :meth:`result`'s.

        Returns
        -------
        dict
            ``exercise``, ``test_leg``, ``calibration``, ``holds``, ``summary``, ``units``,
            ``uncertainty`` and ``warnings``.
        """
        return self.result().to_json()


def _median(values: Any) -> float | None:
    v = [x for x in values if x is not None]
    return round(float(np.median(v)), 2) if v else None


def band_power(gyr: np.ndarray, t: np.ndarray, spans: list[tuple[float, float]],
               band_hz: tuple[float, float] = TREMOR_BAND_HZ) -> list[float | None]:
    """Mean square of the band-passed gyro magnitude over each span, in 1 s windows with a
    transient (> TRANSIENT_FACTOR x the median window) left out.

    Parameters
    ----------
    gyr : numpy.ndarray
        (N, 3) angular rate, rad/s, sensor frame (the magnitude does not depend on the
        mounting).
    t : numpy.ndarray
        (N,) sample times, s.
    spans : list of (float, float)
        (start_s, end_s) of each span, s.
    band_hz : (float, float)
        The pass band, Hz.

    Returns
    -------
    list of float or None
        Per span the mean square, (deg/s)²; None for a span shorter than one window.
    """
    fs = 1.0 / float(np.median(np.diff(t)))
    hi = min(band_hz[1], 0.45 * fs)
    sos = butter(2, (band_hz[0], hi), "bandpass", fs=fs, output="sos")
    power = np.sum(np.degrees(sosfiltfilt(sos, gyr, axis=0)) ** 2, axis=1)
    out: list[float | None] = []
    for a, b in spans:
        sl = time_slice(t, a, b)
        n = max(1, int(round(TREMOR_WINDOW_S * fs)))
        k = (sl.stop - sl.start) // n
        if k < 1:
            out.append(None)
            continue
        windows = power[sl.start:sl.start + k * n].reshape(k, n).mean(axis=1)
        kept = windows[windows <= TRANSIENT_FACTOR * np.median(windows)]
        out.append(float(kept.mean()))
    return out


def analyze_hold(rec: Recording, exercise: ExerciseSet,
                 detector: HoldDetector | None = None) -> HoldSet:
    """Find and measure every hold of a hold set (see module docstring).

    Parameters
    ----------
    rec : Recording
        The set's recording.
    exercise : ExerciseSet
        The set as its metadata describes it.
    detector : HoldDetector, optional
        The hold-finding parameters (default: the defaults).

    Returns
    -------
    HoldSet
        The set; :class:`NoSteadyHold` when no hold steadied.
    """
    from analysis.pipeline import analyze

    detector = detector or HoldDetector()
    front = analyze(rec, classify=False)  # calibration, motion and measure series of the test
    t = front.series.t
    depth = np.degrees(front.series.depth_rad)
    spans = detector.find(t, depth)
    if not spans:
        bent = detector.bent_s(t, depth)
        if bent >= detector.min_hold_s:
            raise NoSteadyHold(
                f"no steady hold: the thigh was bent for up to {bent:.0f} s but never still for "
                f"{detector.min_hold_s:g} s (its angle moved more than "
                f"{detector.still_std_deg:g}° sd within {detector.still_window_s:g} s)")
        raise NoSteadyHold(f"no hold found: the test thigh never stayed bent "
                           f"{detector.min_depth_deg:g}° or more for {detector.min_hold_s:g} s")
    drop = front.series.series.get("pelvic_drop_deg")
    thigh = rec.stream("thigh")
    stand = (front.calibration.window.t0, front.calibration.window.t1)
    powers = band_power(thigh.gyr, thigh.t, [stand, *spans])
    floor = powers[0] or 0.0
    hold_min = (exercise.prescription.get("hold_s") or [None])[0]
    holds = []
    for i, ((a, b), power) in enumerate(zip(spans, powers[1:], strict=True), 1):
        sl = time_slice(t, a, b)
        holds.append(Hold(
            index=i, start_s=float(a), end_s=float(b), depth_deg=float(depth[sl].mean()),
            pelvis_sway_deg=None if drop is None else float(np.std(drop[sl])),
            tremor_dps=None if power is None else float(np.sqrt(max(power - floor, 0.0))),
            pelvic_drop_deg=None if drop is None else float(drop[sl].mean()),
            completed=None if hold_min is None else bool(b - a >= hold_min)))
    warnings = [w for w in front.warnings() if "step-down" not in w]
    n_rx = exercise.prescription.get("holds")
    if n_rx is not None and len(holds) < n_rx:
        warnings.append(f"{len(holds)} holds found, {n_rx} prescribed")
    return HoldSet(rec.test_leg, exercise, tuple(holds),
                   {"window_s": front.calibration.to_json()["window_s"]}, tuple(warnings))
