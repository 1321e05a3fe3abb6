"""The analysis pipeline as a live rep scorer: the recording so far (or its live window,
:mod:`stepdown.live.window`) -> the reps scored in it, as analysis JSON ``reps`` entries.
One code path: the same :func:`analysis.pipeline.analyze` as `stepdown analyze`."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from analysis.rules import ITEMS
from sensor_io.errors import InputError

if TYPE_CHECKING:
    from calibration import Calibration
    from sensor_io.recording import Recording

RepScorer = Callable[["Recording", "Calibration | None"], list[dict[str, Any]]]
"""Per-rep live scoring: (the recording so far or its live window, the sensor frames to
use or None to find them in it) -> the reps scored so far (analysis JSON ``reps``
entries: index, start_s, end_s, items, total)."""


def analysis_scorer(add: Callable[[Any, list[dict[str, Any]]], None] | None = None,
                    ) -> RepScorer | None:
    """The analysis pipeline's rep scorer, or None while it is not installed; ``add``
    (the analysis result, the reps) may add to each rep (the live page's traces)."""
    from analysis.rep_end import rep_end_settled
    from stepdown.completeness import missing_minimum, not_measured

    try:
        from analysis.pipeline import analyze
    except ImportError:
        return None

    def score(rec: Recording, frames: Calibration | None = None) -> list[dict[str, Any]]:
        if missing := missing_minimum(rec):
            raise InputError(f"no data from {', '.join(missing)} yet")
        result = analyze(rec, session=frames)
        reps = [{**rep, "not_measured": not_measured(rep, rec)}
                for rep in reps_with_borderline(result.to_json())]
        if reps:
            reps[-1]["settled"] = rep_end_settled(result.series.t, result.series.depth_rad,
                                                  reps[-1]["start_s"], reps[-1]["end_s"])
        if add is not None:
            add(result, reps)
        return reps

    return score


def reps_with_borderline(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The analysis' reps, each with ``borderline``: its items whose measure is within the
    measure's uncertainty of a threshold (they may flip as the test goes on)."""
    near: dict[int, set[str]] = {}
    for b in (doc.get("uncertainty") or {}).get("borderline", []):
        near.setdefault(b["rep"], set()).add(b["item"])
    return [{**rep, "borderline": [k for k in ITEMS if k in near.get(rep["index"], ())]}
            for rep in doc["reps"]]
