"""Live and final result lines when items or sensors are missing."""

import numpy as np

from analysis.result import AnalysisResult, ItemScore, RecordingSummary, Rep, RepMeasures, TestScore
from sensor_io.recording import Recording, SensorStream
from stepdown.completeness import items_lost_in_reps, not_measured, verdict_line
from stepdown.live.lines import rep_line


def _rec(gaps=(), wrist=False):
    t = np.arange(0, 30, 0.01)
    s = SensorStream(t, np.tile([0, 0, 9.81], (len(t), 1)), np.zeros((len(t), 3)))
    streams = {"pelvis": s, "thigh_left": s}
    if wrist:
        streams["wrist_left"] = s
    return Recording(streams=streams, test_leg="left", extra={"gaps": list(gaps)})


def _rep(i, **items):
    base = {"arm": None, "trunk": None, "pelvis": 0, "knee": 0, "descent": 0, "pain": None}
    return {"index": i, "total": sum(v or 0 for v in {**base, **items}.values()),
            "items": {**base, **items}}


TEST = TestScore(rule="majority", items={}, total=1, piva_total=1, category="good")


def _typed(rep: dict) -> Rep:
    """A rep of the typed result with the items of ``rep`` (:func:`_rep`)."""
    items = {k: ItemScore(v, "not_assessed" if v is None else "rule")
             for k, v in rep["items"].items()}
    return Rep(index=rep["index"], start_s=2.0 * rep["index"], bottom_s=None,
               end_s=2.0 * rep["index"] + 1.5, measures=RepMeasures(), items=items,
               total=rep["total"])


def _result(reps: list[dict], completeness: dict) -> AnalysisResult:
    return AnalysisResult(RecordingSummary("left", ("pelvis", "thigh_left")),
                          tuple(map(_typed, reps)), TEST, completeness=completeness)


def test_not_measured_leaves_out_the_sensor_sets_limits_and_pain():
    rep = _rep(1, knee=None)
    assert not_measured(rep, _rec()) == ["knee"]
    assert not_measured(rep, _rec(wrist=True)) == ["arm", "knee"]  # a worn wrist: a loss
    silent_wrist = _rec(gaps=[{"sensor": "wrist_left", "start_s": 0.0, "end_s": 30.0,
                               "reason": "never sent data"}])
    assert "arm" in not_measured(rep, silent_wrist)


def test_rep_line_names_what_was_not_measured():
    assert rep_line({**_rep(3), "not_measured": ["knee"]}) == "rep 3: total 0  knee not measured"
    assert rep_line({**_rep(4, pelvis=1), "not_measured": ["knee"]}) == \
        "rep 4: total 1  pelvis=1  knee not measured"


def test_items_lost_in_some_reps_withhold_the_category():
    reps = [_rep(1), _rep(2, knee=None), _rep(3, knee=None), _rep(4)]
    assert items_lost_in_reps([_typed(r) for r in reps]) == {"knee": [2, 3]}
    doc = _result(reps, {"not_assessed": ["arm", "trunk"]})
    line = verdict_line(_rec(), doc)
    assert line.startswith("total 1 (category not decided: knee not measured in reps 2, 3)")
    assert "good" not in line


def test_a_silent_minimum_sensor_withholds_the_category_an_optional_one_does_not():
    reps = [_rep(1), _rep(2)]
    doc = _result(reps, {"not_assessed": ["arm"], "total_upper_bound": 2})
    thigh = {"sensor": "thigh_left", "start_s": 15.9, "end_s": 33.4, "reason": "no data to the end"}
    assert "no thigh_left data 15.9-33.4 s (no data to the end)" in verdict_line(_rec([thigh]), doc)
    shank = {**thigh, "sensor": "shank_left"}
    line = verdict_line(_rec([shank]), doc)
    assert line == ("total 1 (good), Piva 0-6 subtotal 1, rule majority; arm not assessed: "
                    "a lower bound, at most 2")
    short = {**thigh, "end_s": 16.4}  # half a second: no rep can hide in it
    assert "(good)" in verdict_line(_rec([short]), doc)
