"""The analysis pipeline as a live rep scorer: the recording so far (or its live window,
:mod:`stepdown.live.window`) -> the reps scored in it (:class:`~stepdown.live.live_rep.LiveRep`).
One code path: the same :class:`analysis.pipeline.StepDownPipeline` as `stepdown analyze`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from analysis.rules import ITEMS
from sensor_io.errors import InputError
from stepdown.live.live_rep import LiveRep

if TYPE_CHECKING:
    from analysis.config import AnalysisConfig
    from analysis.pipeline import Analysis
    from analysis.result import AnalysisResult
    from calibration import Calibration
    from sensor_io.recording import Recording

RepScorer = Callable[["Recording", "Calibration | None"], list[LiveRep]]
"""Per-rep live scoring: (the recording so far or its live window, the sensor frames to
use or None to find them in it) -> the reps scored so far, in the window's numbering and
time."""

AddToReps = Callable[["Analysis", list[LiveRep]], list[LiveRep]]
"""(the analysis with its series, its live reps) -> the reps with more on them (the page's traces)."""


def live_config() -> AnalysisConfig:
    """The settings the live path analyses each window with and finds the frames it
    carries with (:func:`stepdown.live.window.find_frames`).

    Returns
    -------
    AnalysisConfig
        The defaults, as `stepdown analyze` without options (the result of a live rep
        saves them).
    """
    from analysis.config import AnalysisConfig  # loads the calibration (scipy): when used

    return AnalysisConfig()


def analysis_scorer(add: AddToReps | None = None) -> RepScorer | None:
    """The analysis pipeline's rep scorer, or None while it is not installed.

    Parameters
    ----------
    add : AddToReps or None
        May add to each rep (the live page's traces).

    Returns
    -------
    RepScorer or None
        (recording or its live window, sensor frames or None) -> the reps scored, in the
        window's numbering and time (s); it raises InputError while a sensor of the minimum
        set has sent no data.
    """
    from analysis.rep_end import rep_end_settled
    from stepdown.completeness import missing_minimum, unmeasured_items

    try:
        from analysis.pipeline import StepDownPipeline
    except ImportError:
        return None
    pipeline = StepDownPipeline(live_config())

    def score(rec: Recording, frames: Calibration | None = None) -> list[LiveRep]:
        if missing := missing_minimum(rec):
            raise InputError(f"no data from {', '.join(missing)} yet")
        analysis = pipeline.analyze(rec, session=frames)
        result = analysis.result()
        near = borderline_items(result)
        reps = [LiveRep(rep, borderline=near.get(rep.index, ()),
                        unmeasured_items=tuple(unmeasured_items(rep.item_values(), rec)))
                for rep in result.reps]
        if reps:
            last = reps[-1]
            reps[-1] = replace(last, settled=rep_end_settled(
                analysis.series.t, analysis.series.depth_rad, last.start_s, last.end_s))
        return reps if add is None else add(analysis, reps)

    return score


def borderline_items(result: AnalysisResult) -> dict[int, tuple[str, ...]]:
    """Rep index -> its items whose measure is within the measure's uncertainty of a threshold.

    They may flip as the test goes on; in checklist order.

    Parameters
    ----------
    result : AnalysisResult
        The analysis result (its ``uncertainty["borderline"]``).

    Returns
    -------
    dict of int to tuple of str
        Rep index -> item names.
    """
    near: dict[int, set[str]] = {}
    for b in (result.uncertainty or {}).get("borderline", []):
        near.setdefault(b["rep"], set()).add(b["item"])
    return {rep: tuple(k for k in ITEMS if k in items) for rep, items in near.items()}
