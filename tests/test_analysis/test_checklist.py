"""The checklist: per-rep totals, test-level rules, the JSON contract, flags, explanations."""

from __future__ import annotations

import json

import pytest

from analysis.checklist import (
    aggregate_items,
    category,
    compress_reps,
    piva_total,
    rep_total,
    score_test,
)
from analysis.result import MeasuredRep
from analysis.rules import ITEMS, RuleConfig
from sensor_io.errors import InputError


def items(**on):
    return {item: on.get(item, 0) for item in ITEMS}


def rep(index, **m):
    base = {"knee_medial_cm": 0.0, "hip_adduction_deg": 5.0, "hip_internal_rotation_deg": 2.0,
            "hip_flexion_deg": 40.0, "pelvic_drop_deg": 1.0, "trunk_lean_deg": None,
            "descent_drop_ratio": 0.6, "impact_ms2": 0.5}
    return MeasuredRep.from_json({"index": index, "start_s": 3.0 * index,
                                  "bottom_s": 3.0 * index + 1.2, "end_s": 3.0 * index + 2.5,
                                  "measures": base | m})


@pytest.mark.parametrize(("n_reps", "n_present", "expected"), [
    (5, 3, 1), (5, 2, 0), (3, 2, 1), (3, 1, 0), (6, 4, 1), (6, 3, 0), (1, 1, 1), (2, 1, 0),
])
def test_majority_means_more_than_half(n_reps, n_present, expected):
    reps = [items(pelvis=int(i < n_present)) for i in range(n_reps)]
    assert aggregate_items(reps)["pelvis"] == expected


def test_knee_majority_is_the_highest_level_reached_or_exceeded_by_most():
    # 2,2,1,1,0: level ≥1 in 4 of 5, level 2 in 2 of 5 -> 1
    assert aggregate_items([items(knee=k) for k in (2, 2, 1, 1, 0)])["knee"] == 1
    # 2,2,2,0,0 -> 2 (3 of 5 reach 2)
    assert aggregate_items([items(knee=k) for k in (2, 2, 2, 0, 0)])["knee"] == 2
    # 2,2,1,0,0: no level reached in > half by 2, but ≥1 in 3 of 5 -> 1
    assert aggregate_items([items(knee=k) for k in (2, 2, 1, 0, 0)])["knee"] == 1
    # 2,2,0,0,0 -> 0
    assert aggregate_items([items(knee=k) for k in (2, 2, 0, 0, 0)])["knee"] == 0
    # 4 of 6 at ≥1, 3 of 6 at 2 -> 1
    assert aggregate_items([items(knee=k) for k in (2, 2, 2, 1, 0, 0)])["knee"] == 1


def test_any_and_worst_rules():
    reps = [items(pelvis=1), items(knee=2, arm=1), items(trunk=1), items()]
    assert aggregate_items(reps, "any") == items(pelvis=1, knee=2, arm=1, trunk=1)
    assert aggregate_items(reps, "worst") == items(knee=2, arm=1)  # rep 2 has the top total
    tie = [items(pelvis=1), items(trunk=1)]
    assert aggregate_items(tie, "worst") == items(pelvis=1)  # first of equals
    with pytest.raises(InputError, match="test rule"):
        aggregate_items(reps, "median")


def test_not_assessed_items_stay_none_and_count_reps_that_assessed_them():
    reps = [items(trunk=None) for _ in range(5)]
    assert aggregate_items(reps)["trunk"] is None
    mixed = [items(descent=1), items(descent=1), items(descent=None), items(descent=0)]
    assert aggregate_items(mixed)["descent"] == 1  # 2 of 3 assessed


def test_totals_and_categories():
    full = items(arm=1, trunk=1, pelvis=1, knee=2, descent=1, pain=1)
    assert rep_total(full) == 7 and piva_total(full) == 5
    assert rep_total(items(trunk=None, pelvis=1)) == 1
    assert [category(t) for t in range(9)] == (
        ["good"] * 2 + ["medium"] * 2 + ["poor"] * 5)


def test_score_test_builds_the_contract_exactly():
    reps = [rep(1), rep(2, pelvic_drop_deg=6.2, knee_medial_cm=2.1), rep(3, pelvic_drop_deg=7.0),
            rep(4, pelvic_drop_deg=5.5, knee_medial_cm=4.0), rep(5)]
    out = score_test(reps, pain_nrs=[0, 0, 2, 0, 0]).to_json()
    json.dumps(out)  # serialisable
    assert set(out) == {"reps", "test"}
    first = out["reps"][0]
    assert list(first) == ["index", "start_s", "bottom_s", "end_s", "measures", "items",
                           "sources", "total"]
    assert first["measures"]["trunk_lean_deg"] is None
    assert list(first["items"]) == list(ITEMS)
    assert first["sources"]["trunk"] == "not_assessed" and first["items"]["trunk"] is None
    assert first["sources"]["pain"] == "reported"
    assert [r["total"] for r in out["reps"]] == [0, 2, 2, 3, 0]
    assert out["reps"][3]["items"]["knee"] == 2
    why = score_test(reps).reps[3].reasons_json()
    assert why["knee"] == [{"measure": "knee_medial_cm", "value": 4.0, "thresholds": [1.0, 3.5],
                            "fired": True, "level": 2, "origin": "default heuristic"}]
    assert [r["measure"] for r in why["descent"]] == ["descent_drop_ratio", "impact_ms2"]
    assert out["test"] == {"rule": "majority",
                           "items": {"arm": None, "trunk": None, "pelvis": 1, "knee": 0,
                                     "descent": 0, "pain": 0},
                           "total": 1, "piva_total": 1, "category": "good"}


def test_score_test_rule_from_argument_or_config():
    reps = [rep(1, pelvic_drop_deg=9.0), rep(2), rep(3)]
    assert score_test(reps).test.items["pelvis"] == 0
    assert score_test(reps, rule="any").test.items["pelvis"] == 1
    cfg = RuleConfig(test_rule="worst")
    assert score_test(reps, cfg).test.rule == "worst"


def test_pain_one_number_applies_to_every_rep_and_length_is_checked():
    reps = [rep(i) for i in range(1, 4)]
    result = score_test(reps, pain_nrs=3)
    assert all(r.items["pain"] == 1 for r in result.reps)
    assert result.test.items["pain"] == 1 and result.test.total == 1
    with pytest.raises(InputError, match="pain_nrs has 2 values for 3 reps"):
        score_test(reps, pain_nrs=[1, 2])


def test_classifier_fills_unassessed_items_and_disagreement_is_flagged():
    reps = [rep(1, pelvic_drop_deg=7.0), rep(2), rep(3)]
    cls = [{"trunk": 1, "arm": 0, "pelvis": 0}, {"trunk": 1, "arm": 0, "pelvis": 0},
           {"trunk": 0, "arm": 0, "pelvis": 0}]
    proba = [{"trunk": 0.8, "arm": 0.9, "pelvis": 0.65}, {"trunk": 0.7, "arm": 0.95},
             {"trunk": 0.6, "arm": 0.9}]
    result = score_test(reps, classifier_items=cls, classifier_proba=proba)
    r1 = result.reps[0]
    assert r1.items["trunk"] == 1 and r1.sources["trunk"] == "classifier"
    assert r1.probabilities["trunk"] == 0.8
    assert r1.items["pelvis"] == 1 and r1.sources["pelvis"] == "rule"  # the rule stands
    assert result.test.items["trunk"] == 1  # 2 of 3 by classifier
    (flag,) = result.flags
    assert flag.to_json() == {"rep": 1, "item": "pelvis", "rule": 1, "classifier": 0,
                              "probability": 0.65}
    assert "disagree on pelvis" in flag.text()
    agreeing = score_test(reps, classifier_items=[{"pelvis": 1}, {"pelvis": 0}, {"pelvis": 0}])
    assert agreeing.flags == ()
    with pytest.raises(InputError, match="unknown item 'hips'"):
        score_test(reps, classifier_items=[{"hips": 1}] * 3)


def test_compress_reps():
    assert compress_reps([2, 3, 4, 5]) == "reps 2–5"
    assert compress_reps([1, 3, 4]) == "reps 1, 3–4"
    assert compress_reps([2]) == "rep 2"
    assert compress_reps([5, 1, 2]) == "reps 1–2, 5"
    assert compress_reps([1, 3, 5]) == "reps 1, 3, 5"


def test_explanations_name_the_fault_value_side_reps_and_threshold():
    reps = [rep(1), rep(2, pelvic_drop_deg=6.2), rep(3, pelvic_drop_deg=7.4),
            rep(4, pelvic_drop_deg=6.8), rep(5, pelvic_drop_deg=7.0)]
    lines = score_test(reps).explanations(test_leg="left")
    assert lines == ["pelvis dropped 6.2–7.4° on the right in reps 2–5; "
                     "threshold 5° (default heuristic)"]
    right = score_test(reps).explanations(test_leg="right")
    assert "on the left" in right[0]
    assert score_test([rep(1), rep(2)]).explanations() == []


def test_explanations_for_knee_descent_pain_trunk_arm_and_classifier():
    reps = [rep(1, knee_medial_cm=1.6, trunk_lean_deg=12.0, wrist_motion_deg=40.0),
            rep(2, knee_medial_cm=4.6, descent_drop_ratio=3.1),
            rep(3, knee_medial_cm=4.1, impact_ms2=9.2)]
    cfg = RuleConfig().with_foot_offset(0.04)
    lines = score_test(reps, cfg, pain_nrs=[0, 2, 0],
                       classifier_items=[None, {"arm": 1}, None],
                       classifier_proba=[None, {"arm": 0.87}, None]).explanations()
    assert lines == [
        "hand left the waist (wrist moved 40°) in rep 1; threshold 25° (default heuristic)",
        "hand left the waist in rep 2 (classifier, probability 0.87; "
        "not measured by the sensors worn)",
        "trunk leaned 12.0° sideways in rep 1; threshold 10° (default heuristic)",
        "knee inside the entire foot (4.1–4.6 cm medial) in reps 2–3; "
        "threshold 4 cm (the athlete's foot medial offset)",
        "knee inside the second toe (1.6 cm medial) in rep 1; threshold 1 cm (default heuristic)",
        "descent not controlled: sudden drop, descent speed ratio 3.1 in rep 2; "
        "threshold 1.5 (default heuristic)",
        "descent not controlled: impact at the bottom 9.2 m/s² in rep 3; "
        "threshold 5 m/s² (default heuristic)",
        "pain reported (NRS 2) in rep 2; counted from NRS 1",
    ]


def test_explanation_names_a_configured_threshold(tmp_path):
    cfg = RuleConfig().override({"pelvis_deg": 6.0}, origin="set in clinic.toml")
    lines = score_test([rep(1, pelvic_drop_deg=6.5)], cfg).explanations("left")
    assert lines == ["pelvis dropped 6.5° on the right in rep 1; threshold 6° (set in clinic.toml)"]
