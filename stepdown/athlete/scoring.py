"""Knee and pelvis traces for the live page: each scored rep's, and the rep in progress.

The same analysis as `stepdown record`'s scorer
(:func:`~stepdown.live.scoring.analysis_scorer`, one code path); each rep additionally
carries ``trace``: its knee medial displacement (cm) and pelvic drop (deg) from start
to end, thinned to at most ``points`` samples, with the rule thresholds they are scored
against.  While a rep is in progress, :func:`live_tracer` gives its trace so far from the
same analysis of the live window, one point every TRACE_STEP_S.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from analysis import registry
from stepdown.live.live_rep import RepTrace

if TYPE_CHECKING:
    from analysis.pipeline import Analysis
    from analysis.rules import RuleConfig
    from calibration.calibrate import Calibration
    from sensor_io.recording import Recording
    from stepdown.live.live_rep import LiveRep
    from stepdown.live.scoring import RepScorer

TRACED = (("knee_medial_cm", "cm"), ("pelvic_drop_deg", "deg"))
"""(measure, unit) drawn on the live page."""
TRACE_STEP_S = 0.05  # s between two points of the trace of the rep in progress (20 Hz)
IN_REP_DEG = 2.0     # depth (deg) beyond which the thigh has left standing: a rep's start


def rep_trace(t: np.ndarray, series: dict[str, np.ndarray | None], start_s: float,
              end_s: float, thresholds: dict[str, list[float]], points: int = 80) -> RepTrace:
    """One rep's traces from ``start_s`` to ``end_s``, thinned to at most ``points`` samples.

    Each :data:`TRACED` measure of ``series`` (on ``t``; a measure no sensor gives is left
    out) with its ``thresholds``.

    Parameters
    ----------
    t : numpy.ndarray
        (N,) sample times, s.
    series : dict of str to numpy.ndarray or None
        Measure -> (N,) values in its unit (cm, deg); None: no sensor gives it.
    start_s : float
        Start of the rep, s on the clock of ``t``.
    end_s : float
        End of the rep, s on the clock of ``t``.
    thresholds : dict of str to list of float
        Measure -> its rule thresholds, in its unit.
    points : int
        At most this many samples.

    Returns
    -------
    RepTrace
        Times from ``start_s`` (s, to ms), values to 0.01 (None where not finite).
    """
    idx = np.flatnonzero((t >= start_s) & (t <= end_s))
    idx = idx[:: max(1, -(-len(idx) // points))]
    given = [(name, unit) for name, unit in TRACED if series.get(name) is not None]
    return RepTrace(
        start_s=round(float(start_s), 3), t=tuple(round(float(x), 3) for x in t[idx] - start_s),
        values={name: tuple(round(float(v), 2) if np.isfinite(v) else None
                            for v in series[name][idx]) for name, _ in given},
        thresholds={name: tuple(thresholds[name]) for name, _ in given},
        units=dict(given))


def rule_thresholds(config: RuleConfig) -> dict[str, list[float]]:
    """The thresholds each traced measure is scored against (a RuleConfig's).

    Parameters
    ----------
    config : RuleConfig
        The rule thresholds in force.

    Returns
    -------
    dict of str to list of float
        {measure: [value, ...]} in the measure's unit.
    """
    return {name: [float(config.threshold(level.setting))
                   for _, level in registry.measure_levels(name)] for name, _ in TRACED}


def traced_scorer() -> RepScorer | None:
    """A live scorer whose reps carry a ``trace``.

    Recording so far -> reps so far, as ``stepdown record``'s scorer.

    Returns
    -------
    RepScorer or None
        The scorer; None while the analysis is not installed.
    """
    from stepdown.live.scoring import analysis_scorer

    def add_traces(result: Analysis, reps: list[LiveRep]) -> list[LiveRep]:
        thresholds = rule_thresholds(result.config)
        return [replace(rep, trace=rep_trace(result.series.t, result.series.series,
                                             rep.start_s, rep.end_s, thresholds))
                for rep in reps]

    return analysis_scorer(add_traces)


def current_rep_trace(t: np.ndarray, depth_rad: np.ndarray, series: dict[str, np.ndarray | None],
                      since_s: float, thresholds: dict[str, list[float]]) -> RepTrace | None:
    """The trace of the rep in progress (as :func:`rep_trace`), or None while the thigh stands.

    Its start: the last sample before the deepest point after ``since_s`` where the depth was
    within IN_REP_DEG of standing; it runs to the last sample, one point a TRACE_STEP_S.

    Parameters
    ----------
    t : numpy.ndarray
        (N,) sample times, s.
    depth_rad : numpy.ndarray
        (N,) rep depth (thigh), rad.
    series : dict of str to numpy.ndarray or None
        Measure -> (N,) values in its unit; None: no sensor gives it.
    since_s : float
        The end of the last rep shown, s on the clock of ``t``.
    thresholds : dict of str to list of float
        Measure -> its rule thresholds, in its unit.

    Returns
    -------
    RepTrace or None
        The trace so far; None while the thigh stands.
    """
    after = np.flatnonzero(t > since_s)
    if len(after) == 0:
        return None
    d = np.degrees(depth_rad[after])
    deepest = int(np.argmax(d))
    if d[deepest] < IN_REP_DEG:
        return None
    standing = np.flatnonzero(d[:deepest + 1] < IN_REP_DEG)
    start = float(t[after[standing[-1] if len(standing) else 0]])
    points = int(np.ceil((t[-1] - start) / TRACE_STEP_S)) + 1
    return rep_trace(t, series, start, float(t[-1]), thresholds, points=points)


def live_tracer() -> Callable[[Recording, float, Calibration | None], RepTrace | None] | None:
    """A tracer of the rep in progress, from the analysis of the live window.

    (live window, end of the last rep shown in the window's time, s, the sensor frames to
    use or None to find them in the window) -> the trace of the rep in progress or None
    (:func:`current_rep_trace`), as the rep will be scored
    (:func:`~stepdown.live.scoring.analysis_scorer`, with the same frames).  The tracer
    raises InputError while the window cannot be analysed (no calibration yet).

    Returns
    -------
    callable or None
        The tracer; None while the analysis is not installed.
    """
    try:
        from analysis.pipeline import StepDownPipeline
    except ImportError:
        return None
    from stepdown.live.scoring import live_config

    pipeline = StepDownPipeline(live_config().clone(classify=False))  # the frames' settings

    def trace(rec: Recording, since_s: float, frames: Calibration | None = None) -> RepTrace | None:
        result = pipeline.analyze(rec, session=frames)
        return current_rep_trace(result.series.t, result.series.depth_rad, result.series.series,
                                 since_s, rule_thresholds(result.config))

    return trace
