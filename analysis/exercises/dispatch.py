"""Analysis of one recorded set, by the exercise its metadata names (:mod:`sensor_io.exercise`)."""

from __future__ import annotations

from typing import Any

from sensor_io.exercise import exercise_of
from sensor_io.recording import Recording


def analyze_set(rec: Recording) -> Any:
    """Analyse a recorded set by the exercise its metadata names.

    Parameters
    ----------
    rec : Recording
        The set's recording.

    Returns
    -------
    HoldSet or HeelTapSet or Analysis
        A hold set's :class:`~analysis.exercises.hold.HoldSet`, a heel-tap set's
        :class:`~analysis.exercises.heel_taps.HeelTapSet`; a test goes to
        :func:`analysis.pipeline.analyze` (its :class:`~analysis.pipeline.Analysis`).
    """
    ex = exercise_of(rec)
    if ex.kind == "hold":
        from analysis.exercises.hold import analyze_hold

        return analyze_hold(rec, ex)
    if ex.kind == "heel_taps":
        from analysis.exercises.heel_taps import analyze_heel_taps

        return analyze_heel_taps(rec, ex)
    from analysis.pipeline import analyze

    return analyze(rec)
