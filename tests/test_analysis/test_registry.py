"""The registry of measures and items (analysis/registry.py) is whole and consistent, and
the modules that used to restate its facts now read them from it."""

from __future__ import annotations

import string

from analysis import registry
from analysis.checklist import PIVA_ITEMS
from analysis.measures import EXTRA, MEASURES, NEEDS
from analysis.result import ITEM_LEVELS, RepMeasures
from analysis.rules import ITEMS, MEASURED_RULES, RuleConfig, score_rep, threshold_names
from analysis.uncertainty import MAX_LEVEL
from stepdown.completeness import SENSOR_FOR_ITEM

TEMPLATE_FIELDS = {"values", "reps", "threshold", "what", "side", "unit"}


def test_every_measure_the_analysis_computes_is_declared_once():
    names = registry.measure_names()
    assert len(set(names)) == len(names)
    assert set(names) == set(MEASURES + EXTRA) == set(RepMeasures.measure_names())
    assert names == RepMeasures.measure_names()  # the JSON's order


def test_every_rule_reads_a_declared_measure_and_a_rule_config_threshold():
    for item in registry.ITEMS:
        for rule in item.rules:
            registry.measure(rule.measure)
            assert [lv.points for lv in rule.levels] == list(range(1, len(rule.levels) + 1))
            assert {lv.setting for lv in rule.levels} <= set(threshold_names())
            assert max(lv.points for lv in rule.levels) <= item.max_points


def test_the_templates_use_only_the_documented_fields():
    for item in registry.ITEMS:
        used = {f for _, f, _, _ in string.Formatter().parse(item.explain) if f}
        assert used <= TEMPLATE_FIELDS, item.name
        assert item.classifier_label or not item.rules


def test_the_former_copies_agree_with_the_registry():
    assert ITEMS == ("arm", "trunk", "pelvis", "knee", "descent", "pain")  # DESIGN.md's table
    assert PIVA_ITEMS == ("arm", "trunk", "pelvis", "knee")
    assert registry.max_points() == MAX_LEVEL == {k: max(v) for k, v in ITEM_LEVELS.items()} == {
        "arm": 1, "trunk": 1, "pelvis": 1, "knee": 2, "descent": 1, "pain": 1}
    assert SENSOR_FOR_ITEM == {"arm": "wrist", "trunk": "trunk"}
    assert NEEDS["knee_medial_cm"] == ("thigh", "shank")
    assert MEASURED_RULES["knee"] == (("knee_medial_cm", ("knee_cm_1", "knee_cm_2")),)


def test_the_rule_scorer_follows_the_registry_levels():
    cfg = RuleConfig()
    knee = {"knee_medial_cm": 2.0}
    assert score_rep(knee, cfg).items["knee"] == 1
    assert score_rep({"knee_medial_cm": cfg.knee_cm_2 + 0.1}, cfg).items["knee"] == 2
    assert score_rep({"impact_ms2": cfg.impact_ms2 + 1}, cfg).items["descent"] == 1


def test_only_the_trunk_lean_peaks_by_magnitude():
    assert [m.name for m in registry.MEASURES if registry.by_magnitude(m.name)] == ["trunk_lean_deg"]
    assert not registry.by_magnitude("depth_deg")  # not a measure: taken as it is


def test_every_item_has_its_words_for_coaches_and_athletes():
    for item in registry.ITEMS:
        assert item.title and item.short and item.short in item.title, item.name
        assert bool(item.cue) == (item.name != "pain")  # pain: nothing to tell the athlete to do


def test_the_thresholds_drawn_beside_a_measure_are_the_ones_its_rules_score_with():
    from stepdown.analysis_plot import _thresholds
    from stepdown.athlete.scoring import rule_thresholds
    from stepdown.web.charts import measure_specs

    knee = registry.measure_levels("knee_medial_cm")
    assert [(i.name, lv.setting, lv.points) for i, lv in knee] == [
        ("knee", "knee_cm_1", 1), ("knee", "knee_cm_2", 2)]
    assert [lv.setting for _, lv in registry.measure_levels("impact_ms2")] == ["impact_ms2"]
    assert registry.measure_levels("hip_flexion_deg") == ()
    cfg = RuleConfig(pelvis_deg=6.5, knee_cm_1=1.2, knee_cm_2=4.0, trunk_deg=12.0)
    for measure, fired in (("pelvic_drop_deg", 6.6), ("knee_medial_cm", 4.1)):
        drawn = [v for v, _ in _thresholds(measure, cfg)]
        (spec,) = [s for s in measure_specs(cfg=cfg) if s.key == measure]
        assert drawn == [v for v, _ in spec.thresholds] == rule_thresholds(cfg)[measure]
        item = registry.measure_levels(measure)[0][0].name
        assert score_rep({measure: fired}, cfg).items[item] == len(drawn)  # above every line
    assert [v for v, _ in _thresholds("trunk_lean_deg", cfg)] == [12.0, -12.0]  # either side
