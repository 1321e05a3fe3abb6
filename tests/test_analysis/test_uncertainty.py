"""Borderline items and the range of totals (analysis.uncertainty), on hand-made reps."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.checklist import score_test
from analysis.result import MeasuredRep, RepMeasures
from analysis.uncertainty import (
    MEASURE_UNCERTAINTY,
    calibration_case,
    describe_uncertainty,
    find_borderline,
    measure_uncertainty,
    total_range,
)

U = {"knee_medial_cm": 1.0, "pelvic_drop_deg": 0.7}  # the rest without uncertainty


def scored(reps, **kw):
    """score_test of reps given by their measures alone (index 1, 2, ...; times made up)."""
    return score_test([MeasuredRep(i, 3.0 * i, None, 3.0 * i + 2.5,
                                   RepMeasures.from_json(r["measures"]))
                       for i, r in enumerate(reps, 1)], **kw)


def rep(knee=None, pelvis=None, trunk=None, **extra):
    return {"measures": {"knee_medial_cm": knee, "pelvic_drop_deg": pelvis,
                         "trunk_lean_deg": trunk, "descent_drop_ratio": 0.5, "impact_ms2": 0.3,
                         **extra}}


def _calibration(method: str, gyr_std_rad_s: float, duration_s: float = 2.5):
    from calibration import Calibration, SensorCalibration, StandingWindow

    sensor = SensorCalibration("shank_left", np.zeros(3), np.eye(3), 9.81, method)
    return Calibration(StandingWindow(0.5, 0.5 + duration_s, gyr_std_rad_s, 0.05),
                       {"shank_left": sensor})


def test_uncertainty_follows_how_the_knee_and_the_calibration_were_measured():
    fa = MEASURE_UNCERTAINTY["functional axis, still"]
    assert measure_uncertainty("shank")["knee_medial_cm"] == fa["knee_medial_cm (shank)"]
    assert measure_uncertainty("thigh+pelvis model")["knee_medial_cm"] == \
        fa["knee_medial_cm (thigh+pelvis model)"]
    assert "knee_medial_cm" not in measure_uncertainty(None)
    assert measure_uncertainty(None)["pelvic_drop_deg"] == fa["pelvic_drop_deg"]
    hinge_still = _calibration("gravity+knee hinge", 0.01)
    assert calibration_case(hinge_still) == "knee hinge, still"
    assert measure_uncertainty("shank", hinge_still)["knee_medial_cm"] == \
        MEASURE_UNCERTAINTY["knee hinge, still"]["knee_medial_cm (shank)"]
    assert calibration_case(_calibration("gravity+knee hinge", 0.05)) == "knee hinge, sway"
    assert calibration_case(_calibration("gravity+flexion axis", 0.01, 1.2)) == \
        "functional axis, sway"  # a short window counts as sway
    for case, table in MEASURE_UNCERTAINTY.items():
        if case.endswith("sway"):  # swaying standing is never stated as surer than still
            still = MEASURE_UNCERTAINTY[case.replace("sway", "still")]
            assert all(table[k] >= still[k] for k in still), case


def test_an_item_is_borderline_only_within_its_measures_uncertainty_of_a_threshold():
    checklist = scored([rep(knee=1.3, pelvis=7.5), rep(knee=3.2, pelvis=5.6),
                            rep(knee=0.2, pelvis=2.0)], pain_nrs=0)
    found = {(b.rep_index, b.item, b.threshold) for b in find_borderline(checklist, U)}
    # knee 1.3 vs 1.0 (±1.0) and 0.2 vs 1.0; 3.2 vs 3.5 but not vs 1.0; pelvis 5.6 vs 5 (±0.7)
    assert found == {(1, "knee", 1.0), (2, "knee", 3.5), (3, "knee", 1.0), (2, "pelvis", 5.0)}
    knee2 = next(b for b in find_borderline(checklist, U) if b.rep_index == 2 and b.item == "knee")
    assert (knee2.level_below, knee2.level_above) == (1, 2)
    assert knee2.to_json() == {"rep": 2, "item": "knee", "measure": "knee_medial_cm",
                               "value": 3.2, "threshold": 3.5, "uncertainty": 1.0}


def test_total_range_spans_borderline_levels_and_unassessed_items():
    # Three reps, knee and pelvis measured, trunk and arm not assessed (no sensor), pain 0.
    reps = [rep(knee=1.3, pelvis=7.5), rep(knee=3.2, pelvis=5.6), rep(knee=0.2, pelvis=8.0)]
    checklist = scored(reps, pain_nrs=0)
    assert checklist.test.items == {"arm": None, "trunk": None, "pelvis": 1, "knee": 1,
                                    "descent": 0, "pain": 0}
    rng = total_range(checklist, find_borderline(checklist, U))
    # Low: knee levels (0, 1, 0) -> majority 0; pelvis (1, 0, 1) -> 1; arm, trunk 0: total 1.
    # High: knee (1, 2, 1) -> 1; pelvis (1, 1, 1) -> 1; arm, trunk 1: total 4.
    assert (rng.low, rng.high) == (1, 4)
    assert rng.categories == ("good", "poor") and not rng.certain
    assert rng.to_json() == {"total_range": [1, 4], "category_range": ["good", "poor"]}


def test_a_clear_fully_measured_test_has_a_single_total():
    reps = [rep(knee=5.0, pelvis=9.0, trunk=15.0, wrist_motion_deg=2.0)] * 3
    checklist = scored(reps, pain_nrs=0)
    assert find_borderline(checklist, U) == []
    rng = total_range(checklist, [])
    assert rng.low == rng.high == checklist.test.total == 4
    assert rng.certain


def test_classifier_items_count_as_unsure():
    reps = [rep(knee=5.0, pelvis=9.0, trunk=15.0)] * 3
    checklist = scored(reps, pain_nrs=0, classifier_items=[{"arm": 1}] * 3)
    assert checklist.test.items["arm"] == 1
    rng = total_range(checklist, find_borderline(checklist, U))
    assert (rng.low, rng.high) == (checklist.test.total - 1, checklist.test.total)


@pytest.mark.parametrize("rule, low, high", [("any", 1, 4), ("worst", 1, 4)])
def test_other_test_rules_bound_the_total_too(rule, low, high):
    reps = [rep(knee=1.3, pelvis=7.5), rep(knee=0.2, pelvis=2.0)]
    checklist = scored(reps, pain_nrs=0, rule=rule)
    rng = total_range(checklist, find_borderline(checklist, U))
    assert rng.low <= checklist.test.total <= rng.high
    assert (rng.low, rng.high) == (low, high)


def _result(reps: int, uncertainty: dict, completeness: dict | None = None):
    """A typed analysis result of ``reps`` clean reps with the given blocks."""
    from analysis.result import AnalysisResult, ItemScore, RecordingSummary, Rep, RepMeasures, TestScore

    typed = tuple(Rep(index=i, start_s=3.0 * i, bottom_s=3.0 * i + 1, end_s=3.0 * i + 2,
                      measures=RepMeasures(), items={"knee": ItemScore(0, "rule")}, total=0)
                  for i in range(1, reps + 1))
    return AnalysisResult(RecordingSummary("left", ("pelvis", "thigh_left")), typed,
                          TestScore(rule="majority", items={"knee": 0}, total=0, piva_total=0,
                                    category="good"),
                          completeness=completeness, uncertainty=uncertainty)


def test_describe_uncertainty_name_a_certain_total_and_unassessed_items():
    wide = {"total_range": [2, 4], "category_range": ["medium", "poor"], "borderline": []}
    assert describe_uncertainty(_result(1, wide, {"not_assessed": ["arm", "trunk"]})) == [
        "could be: total 2–4 (medium to poor), allowing for the items not assessed"]
    certain = {"total_range": [1, 1], "category_range": ["good", "good"], "borderline": []}
    assert describe_uncertainty(_result(1, certain))[0].startswith("certain: total 1;")
    assert describe_uncertainty(_result(0, certain)) == []
    assert describe_uncertainty(_result(1, None)) == []  # stored before it had the block


def test_describe_uncertainty_names_each_borderline_item_and_its_reps():
    near = [{"rep": r, "item": "knee", "measure": "knee_medial_cm", "threshold": 1.0,
             "uncertainty": 0.6, "value": v} for r, v in ((1, 1.2), (2, 0.7), (3, 1.4))]
    u = {"total_range": [0, 2], "category_range": ["good", "medium"], "borderline": near}
    lines = describe_uncertainty(_result(3, u))
    assert lines == ["could be: total 0–2 (good to medium), allowing for 3 borderline rep item(s)",
                     "  ~ knee in reps 1–3 (0.7–1.4 cm) is within ±0.6 cm of the 1 cm threshold"]


@pytest.mark.parametrize(("case", "sensors", "hint"), [
    ("functional axis, sway", ("pelvis", "thigh_left"),
     "  a shank sensor on the test leg would measure the knee to ±0.6 cm; the guided knee "
     "bends before the test (stepdown record asks for them) to ±1.25 cm"),
    ("guided bends, still", ("pelvis", "thigh_left"),
     "  a shank sensor on the test leg would measure the knee to ±0.6 cm"),
    ("functional axis, still", ("pelvis", "thigh_left", "shank_left"), None),  # hinge failed
    ("knee hinge, still", ("pelvis", "thigh_left", "shank_left"), None),
])
def test_a_borderline_knee_without_a_shank_says_what_would_decide_it(case, sensors, hint):
    from dataclasses import replace

    near = [{"rep": 1, "item": "knee", "measure": "knee_medial_cm", "threshold": 1.0,
             "uncertainty": 1.6, "value": 1.5}]
    u = {"total_range": [0, 1], "category_range": ["good", "good"], "borderline": near,
         "case": case}
    result = _result(1, u)
    result = replace(result, recording=replace(result.recording, sensors_used=sensors))
    lines = describe_uncertainty(result)
    assert [line for line in lines if "shank sensor" in line] == ([hint] if hint else [])
    clear = describe_uncertainty(replace(result, uncertainty={**u, "borderline": []}))
    assert not any("shank sensor" in line for line in clear)
    # the bounds named are the analysis's own tables (its saved settings), not the defaults
    tables = {case: {**t, "knee_medial_cm (shank)": 0.45}
              for case, t in MEASURE_UNCERTAINTY.items() if case.startswith("knee hinge")}
    own = describe_uncertainty(replace(result, config={"uncertainty": tables}))
    assert [line for line in own if "shank sensor" in line] == (
        ["  a shank sensor on the test leg would measure the knee to ±0.45 cm"] if hint else [])
    as_sure = [{**near[0], "uncertainty": 0.6}]  # nothing narrower to name
    same = describe_uncertainty(replace(result, uncertainty={**u, "borderline": as_sure}))
    assert not any("shank sensor" in line for line in same)
