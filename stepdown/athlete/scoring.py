"""Live rep scoring with each rep's knee and pelvis traces, for the live page.

The same analysis as `stepdown record`'s scorer
(:func:`~stepdown.live.scoring.analysis_scorer`, one code path); each rep additionally
carries ``trace``: its knee medial displacement (cm) and pelvic drop (deg) from start
to end, thinned to at most ``points`` samples, with the rule thresholds they are scored against.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

TRACED = (("knee_medial_cm", "cm", ("knee_cm_1", "knee_cm_2")),
          ("pelvic_drop_deg", "deg", ("pelvis_deg",)))
"""(measure, unit, RuleConfig threshold fields) drawn on the live page."""


def rep_trace(t: np.ndarray, series: dict[str, np.ndarray | None], start_s: float,
              end_s: float, thresholds: dict[str, list[float]], points: int = 80) -> dict[str, Any]:
    """One rep's traces: {"t": s from the rep's start, measure: values (None where not
    finite), "thresholds": {measure: [...]}, "units": {measure: unit}}; a measure no
    sensor gives is left out."""
    idx = np.flatnonzero((t >= start_s) & (t <= end_s))
    idx = idx[:: max(1, -(-len(idx) // points))]
    out: dict[str, Any] = {"t": [round(float(x), 3) for x in t[idx] - start_s],
                           "thresholds": {}, "units": {}}
    for name, unit, _ in TRACED:
        values = series.get(name)
        if values is None:
            continue
        out[name] = [round(float(v), 2) if np.isfinite(v) else None for v in values[idx]]
        out["thresholds"][name] = thresholds[name]
        out["units"][name] = unit
    return out


def traced_scorer() -> Callable[[Any], list[dict[str, Any]]] | None:
    """A live scorer (recording so far -> reps so far, as ``stepdown record``'s scorer)
    whose reps carry a ``trace``; None while the analysis is not installed."""
    from stepdown.live.scoring import analysis_scorer

    def add_traces(result: Any, reps: list[dict[str, Any]]) -> None:
        cfg = result.config
        thresholds = {name: [float(getattr(cfg, f)) for f in fields] for name, _, fields in TRACED}
        for rep in reps:
            rep["trace"] = rep_trace(result.series.t, result.series.series, rep["start_s"],
                                     rep["end_s"], thresholds)

    return analysis_scorer(add_traces)
