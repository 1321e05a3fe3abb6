"""The rule scorer: every rule, its boundary, sources, reasons and TOML overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis.rules import RuleConfig, load_rule_config, score_rep
from sensor_io.errors import InputError

ROOT = Path(__file__).resolve().parents[2]


def measures(**over):
    base = {"knee_medial_cm": 0.0, "hip_adduction_deg": 5.0, "pelvic_drop_deg": 0.0,
            "trunk_lean_deg": 0.0, "wrist_motion_deg": 0.0, "descent_drop_ratio": 0.6,
            "impact_ms2": 0.5}
    return base | over


def test_clean_rep_scores_zero_from_rules():
    rep = score_rep(measures(), pain_nrs=0)
    assert rep.items == dict(arm=0, trunk=0, pelvis=0, knee=0, descent=0, pain=0)
    assert rep.sources == dict(arm="rule", trunk="rule", pelvis="rule", knee="rule",
                               descent="rule", pain="reported")


@pytest.mark.parametrize(("item", "measure", "threshold"), [
    ("pelvis", "pelvic_drop_deg", 5.0),
    ("trunk", "trunk_lean_deg", 10.0),
    ("arm", "wrist_motion_deg", 25.0),
    ("descent", "descent_drop_ratio", 1.5),
    ("descent", "impact_ms2", 5.0),
])
def test_binary_rules_fire_strictly_above_the_threshold(item, measure, threshold):
    assert score_rep(measures(**{measure: threshold})).items[item] == 0  # at: not above
    assert score_rep(measures(**{measure: threshold + 0.01})).items[item] == 1
    assert score_rep(measures(**{measure: threshold - 0.01})).items[item] == 0


@pytest.mark.parametrize(("knee_cm", "level"), [
    (-2.0, 0), (0.99, 0), (1.0, 0), (1.01, 1), (3.5, 1), (3.51, 2), (8.0, 2),
])
def test_knee_has_three_levels(knee_cm, level):
    rep = score_rep(measures(knee_medial_cm=knee_cm))
    assert rep.items["knee"] == level
    (reason,) = rep.reasons["knee"]
    assert reason.thresholds == (1.0, 3.5) and reason.level == level


def test_knee_second_level_follows_the_athletes_foot():
    cfg = RuleConfig().with_foot_offset(0.045)
    assert cfg.knee_cm_2 == pytest.approx(4.5)
    assert score_rep(measures(knee_medial_cm=4.0), cfg).items["knee"] == 1
    assert score_rep(measures(knee_medial_cm=4.6), cfg).items["knee"] == 2
    assert cfg.origin_of("knee_cm_2") == "the athlete's foot medial offset"
    assert cfg.origin_of("knee_cm_1") == "default heuristic"


def test_pain_from_reported_nrs():
    assert score_rep(measures(), pain_nrs=0).items["pain"] == 0
    assert score_rep(measures(), pain_nrs=0.5).items["pain"] == 0
    assert score_rep(measures(), pain_nrs=1).items["pain"] == 1
    rep = score_rep(measures())
    assert rep.items["pain"] is None and rep.sources["pain"] == "not_assessed"
    with pytest.raises(InputError, match="pain NRS"):
        score_rep(measures(), pain_nrs=11)


def test_unmeasurable_measures_are_not_assessed_not_zero():
    rep = score_rep(measures(trunk_lean_deg=None, wrist_motion_deg=float("nan"),
                             knee_medial_cm=None) | {"pelvic_drop_deg": None})
    for item in ("trunk", "arm", "knee", "pelvis"):
        assert rep.items[item] is None
        assert rep.sources[item] == "not_assessed"
    missing = score_rep({"pelvic_drop_deg": 6.0})  # keys absent altogether
    assert missing.items["pelvis"] == 1 and missing.sources["descent"] == "not_assessed"


def test_descent_decided_from_either_measure():
    only_impact = score_rep(measures(descent_drop_ratio=None, impact_ms2=7.0))
    assert only_impact.items["descent"] == 1 and only_impact.sources["descent"] == "rule"
    only_drop = score_rep(measures(descent_drop_ratio=0.7, impact_ms2=None))
    assert only_drop.items["descent"] == 0 and only_drop.sources["descent"] == "rule"
    both = score_rep(measures(descent_drop_ratio=1.8, impact_ms2=1.0))
    fired = [r.measure for r in both.reasons["descent"] if r.fired]
    assert both.items["descent"] == 1 and fired == ["descent_drop_ratio"]


def test_reason_names_measure_value_threshold_and_origin():
    (reason,) = score_rep(measures(pelvic_drop_deg=7.2)).reasons["pelvis"]
    assert reason.to_json() == {"measure": "pelvic_drop_deg", "value": 7.2, "thresholds": [5.0],
                                "fired": True, "level": 1, "origin": "default heuristic"}
    (quiet,) = score_rep(measures(pelvic_drop_deg=3.0)).reasons["pelvis"]
    assert not quiet.fired and quiet.value == 3.0


def test_bad_measure_value_is_refused():
    with pytest.raises(InputError, match="pelvic_drop_deg"):
        score_rep(measures(pelvic_drop_deg="high"))


def test_override_changes_thresholds_and_refuses_unknown_names():
    cfg = RuleConfig().override({"pelvis_deg": 7, "test_rule": "any"}, origin="clinic")
    assert cfg.pelvis_deg == 7.0 and cfg.test_rule == "any"
    assert score_rep(measures(pelvic_drop_deg=6.0), cfg).items["pelvis"] == 0
    assert cfg.origin_of("pelvis_deg") == "clinic"
    with pytest.raises(InputError, match="'pelvis_degs'"):
        RuleConfig().override({"pelvis_degs": 7})
    with pytest.raises(InputError, match="test_rule"):
        RuleConfig(test_rule="mean")
    with pytest.raises(InputError, match="trunk_deg"):
        RuleConfig(trunk_deg=-1.0)
    with pytest.raises(InputError, match="knee_cm_2"):
        RuleConfig(knee_cm_2=0.5)


def test_shipped_toml_is_the_defaults():
    assert load_rule_config(ROOT / "data" / "rules_default.toml") == RuleConfig()


def test_toml_overrides_a_base_and_refuses_unknown_keys_by_name(tmp_path):
    good = tmp_path / "clinic.toml"
    good.write_text("pelvis_deg = 6.5\ntrunk_deg = 12\n")
    cfg = load_rule_config(good, base=RuleConfig().with_foot_offset(0.04))
    assert (cfg.pelvis_deg, cfg.trunk_deg, cfg.knee_cm_2) == (6.5, 12.0, pytest.approx(4.0))
    assert cfg.origin_of("trunk_deg") == "set in clinic.toml"
    table = tmp_path / "table.toml"
    table.write_text("[rules]\nimpact_ms2 = 9.5\n")
    assert load_rule_config(table).impact_ms2 == 9.5
    bad = tmp_path / "bad.toml"
    bad.write_text("pelvis_deg = 6\nknee_threshold = 2\n")
    with pytest.raises(InputError, match=r"bad\.toml: unknown rule setting\(s\) 'knee_threshold'"):
        load_rule_config(bad)
    wrong_type = tmp_path / "type.toml"
    wrong_type.write_text('pelvis_deg = "five"\n')
    with pytest.raises(InputError, match="pelvis_deg must be a non-negative number"):
        load_rule_config(wrong_type)
    broken = tmp_path / "broken.toml"
    broken.write_text("pelvis_deg = = 6\n")
    with pytest.raises(InputError, match="not valid TOML"):
        load_rule_config(broken)
    with pytest.raises(InputError, match="cannot read"):
        load_rule_config(tmp_path / "absent.toml")
