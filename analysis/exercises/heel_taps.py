"""Heel taps: reps, depth, tempo, and per tap the test's knee and pelvis control.

A heel tap is a step-down with a light touch of the heel, so a heel-tap set goes
through the test's analysis unchanged (:func:`analysis.pipeline.analyze`: the same
segmentation, the same per-rep measures and rule items, one code path); this module
adds what a set of taps is judged on:

- per tap: ``depth_deg``, the peak inclination of the test thigh from vertical over
  the tap, relative to standing (deg; ~25-45° for a heel reaching the floor from a
  15-25 cm step), and its tempo: ``duration_s`` (start to end), ``descent_s`` (start
  to bottom), ``ascent_s`` (bottom to end);
- per set: the tap count against the prescription, the cadence (taps per minute,
  first start to last start), and the control summary: the median of each tap's knee
  and pelvis measures and the share of taps with neither a knee nor a pelvis fault.

Each tap is the test's :class:`analysis.checklist.RepResult` (measures, items, sources)
with the depth and tempo beside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from analysis.checklist import RepResult
from calibration.standing import time_slice
from sensor_io.errors import InputError
from sensor_io.exercise import ExerciseSet
from sensor_io.recording import Recording

if TYPE_CHECKING:
    from analysis.exercises.set_result import HeelTapSetResult, TapControl, TapEntry
    from analysis.result import JSONDoc

CONTROL_MEASURES = ("knee_medial_cm", "pelvic_drop_deg")
UNCERTAINTY_BASIS = ("the test's stated uncertainty for the per-tap measures "
                     "(analysis/uncertainty.py); depth and duration: 90th percentile of the "
                     "absolute error on simulated taps (benchmarks/bench_programme.py); not yet "
                     "known on real athletes")
TAP_UNCERTAINTY: dict[str, float] = {"depth_deg": 1.6, "duration_s": 0.1}
"""90 % of simulated errors of a tap's depth (deg) and duration (s) are smaller: the larger
90th percentile of the two sensor sets on 96 simulated taps (benchmarks/bench_programme.py,
seed 3600), rounded up to 0.05, over sets recorded with the guided knee bends (record's
default: depth 1.56° pelvis+thigh, 0.69° with a shank; duration 0.04/0.07 s) and without
them (1.43°, 0.83°; 0.04/0.06 s); not yet known on real athletes. The knee and pelvis
measures state the test's own uncertainty (:mod:`analysis.uncertainty`)."""
CONTROL_ITEMS = ("knee", "pelvis")


class NoTaps(InputError):
    """A heel-tap set in which no tap was found."""


@dataclass(frozen=True)
class HeelTap:
    """One tap: the test's scored rep, its depth (deg) and tempo (s)."""

    rep: RepResult
    """The tap scored as a step-down rep (times in s, measures, items)."""
    depth_deg: float
    """Peak of the thigh's inclination from standing over the tap, degrees."""

    @property
    def duration_s(self) -> float:
        """Start to end, s."""
        return float(self.rep.end_s - self.rep.start_s)

    @property
    def descent_s(self) -> float:
        """Start to bottom, s."""
        return float(self.rep.bottom_s - self.rep.start_s)

    @property
    def ascent_s(self) -> float:
        """Bottom to end, s."""
        return float(self.rep.end_s - self.rep.bottom_s)

    @property
    def controlled(self) -> bool | None:
        """Neither a knee nor a pelvis fault (None when one was not assessed)."""
        items = [self.rep.items.get(k) for k in CONTROL_ITEMS]
        return None if any(v is None for v in items) else not any(items)

    def entry(self, where: str) -> TapEntry:
        """The tap's entry of the set document (values rounded as written).

        Parameters
        ----------
        where : str
            Which tap it is ("tap 3"), for an error message.

        Returns
        -------
        TapEntry
            The rep as the analysis contract gives it, depth and tempo.
        """
        from analysis.exercises.set_result import TapEntry
        from analysis.result import Rep

        return TapEntry(Rep.from_json(self.rep.to_json(), where), depth_deg=round(self.depth_deg, 1),
                        duration_s=round(self.duration_s, 2), descent_s=round(self.descent_s, 2),
                        ascent_s=round(self.ascent_s, 2), controlled=self.controlled)


@dataclass(frozen=True)
class HeelTapSet:
    """The analysis of one heel-tap set, with its step height, load, band and prescription."""

    test_leg: str
    """``left`` or ``right``: the leg on the step."""
    exercise: ExerciseSet
    """The set as recorded: load, band, prescription."""
    step_height_m: float | None
    """Step height, m (None when not recorded)."""
    taps: tuple[HeelTap, ...]
    """The taps, in time order."""
    calibration: JSONDoc
    """The calibration's summary (standing window, s; quality figures)."""
    uncertainty: dict[str, float]
    """Each measure's 90 % uncertainty, in the measure's unit."""
    warnings: tuple[str, ...] = ()
    """Plain-language doubts about the recording."""
    case: str | None = None
    """The calibration case of the test's uncertainty
    (:func:`analysis.uncertainty.calibration_case`): what a band comparison's change bound
    is keyed by."""

    @property
    def cadence_per_min(self) -> float | None:
        """Taps per minute from the first tap's start to the last's (None for one tap)."""
        if len(self.taps) < 2:
            return None
        span = self.taps[-1].rep.start_s - self.taps[0].rep.start_s
        return 60.0 * (len(self.taps) - 1) / span

    @property
    def volume_kg(self) -> float:
        """Training volume: taps x added load (kg; 0 at body weight)."""
        return len(self.taps) * self.exercise.load_kg

    def control(self) -> TapControl:
        """The set's control of knee and pelvis.

        Returns
        -------
        TapControl
            The median of each knee and pelvis measure over the taps (unit in its name),
            and ``controlled_share``, the share of taps with neither fault (0-1).
        """
        from analysis.exercises.set_result import TapControl

        medians = {}
        for k in CONTROL_MEASURES:
            values = [t.rep.measures.get(k) for t in self.taps]
            values = [v for v in values if v is not None]
            medians[k] = round(float(np.median(values)), 2) if values else None
        judged = [t.controlled for t in self.taps if t.controlled is not None]
        return TapControl(**medians, controlled_share=round(sum(judged) / len(judged), 2)
                          if judged else None)

    def result(self) -> HeelTapSetResult:
        """The set's typed document, what the catalog, the rules and the reports read.

        Returns
        -------
        HeelTapSetResult
            The taps, the summary with cadence and control, uncertainty, warnings.
        """
        from analysis.exercises.set_result import HeelTapSetResult, StatedUncertainty, TapSummary

        cadence = self.cadence_per_min
        summary = TapSummary(
            taps=len(self.taps), prescribed_reps=self.exercise.prescription.get("reps"),
            cadence_per_min=None if cadence is None else round(cadence, 1),
            depth_deg=round(float(np.median([t.depth_deg for t in self.taps])), 1),
            volume_kg=round(self.volume_kg, 1), control=self.control())
        return HeelTapSetResult(
            self.exercise, self.test_leg, self.step_height_m, self.calibration,
            tuple(t.entry(f"tap {i}") for i, t in enumerate(self.taps, 1)), summary,
            StatedUncertainty(self.uncertainty, UNCERTAINTY_BASIS, self.case), self.warnings)

    def to_json(self) -> JSONDoc:
        """The set's document (``format`` ``stepdown-exercise``): :meth:`result`'s.

        Returns
        -------
        dict
            ``exercise``, ``test_leg``, ``step_height_m``, ``calibration``, ``taps``,
            ``summary``, ``uncertainty`` and ``warnings``.
        """
        return self.result().to_json()


def tap_depths_deg(t: np.ndarray, depth_rad: np.ndarray, reps: list[RepResult]) -> list[float]:
    """Peak of the depth signal over each rep.

    Parameters
    ----------
    t : numpy.ndarray
        (N,) sample times, s.
    depth_rad : numpy.ndarray
        (N,) thigh inclination relative to standing, rad.
    reps : list of RepResult
        The reps (``start_s``, ``end_s`` in s).

    Returns
    -------
    list of float
        Each rep's peak, degrees (NaN for a rep without samples).
    """
    out = []
    for r in reps:
        sl = time_slice(t, r.start_s, r.end_s)
        out.append(float(np.degrees(depth_rad[sl].max())) if sl.stop > sl.start else float("nan"))
    return out


def analyze_heel_taps(rec: Recording, exercise: ExerciseSet) -> HeelTapSet:
    """The test's analysis of every tap plus depth, tempo and the set's control.

    Parameters
    ----------
    rec : Recording
        The set's recording.
    exercise : ExerciseSet
        The set as its metadata describes it.

    Returns
    -------
    HeelTapSet
        The set; :class:`NoTaps` when no tap was found.
    """
    from analysis.pipeline import analyze
    from calibration import CalibrationError

    try:
        front = analyze(rec, classify=False)
    except CalibrationError as err:
        if "no reps" not in str(err):
            raise
        raise NoTaps(f"no heel taps found: {err}") from None
    reps = list(front.checklist.reps)
    if not reps:
        raise NoTaps("no heel taps found: the test thigh never went down and back up "
                     "as a tap does (at least 8° from standing)")
    depths = tap_depths_deg(front.series.t, front.series.depth_rad, reps)
    taps = tuple(HeelTap(r, d) for r, d in zip(reps, depths, strict=True))
    warnings = [w for w in front.warnings() if "step-down" not in w]
    n_rx = exercise.prescription.get("reps")
    if n_rx is not None and len(taps) != n_rx:
        warnings.append(f"{len(taps)} taps found, {n_rx} prescribed")
    u = front.uncertainty()
    return HeelTapSet(rec.test_leg, exercise, rec.step_height_m, taps,
                      {"window_s": front.calibration.to_json()["window_s"]},
                      dict(u["measures"]) | TAP_UNCERTAINTY, tuple(warnings), u["case"])
