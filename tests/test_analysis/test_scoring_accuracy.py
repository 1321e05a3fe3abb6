"""Checklist scoring against the simulator's truth (issue 4 targets).

Per-item agreement counts only reps whose true measure is further than a small
margin from the threshold; borderline reps are reported apart.  Run with -s to
see the figures.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.checklist import category
from analysis.evaluation import match_reps
from analysis.rules import RuleConfig
from stepdown.truth_files import truth_document

pytestmark = pytest.mark.slow

CFG = RuleConfig()
# item -> (true measure, thresholds, margin) for the rule items decided from a measure
MEASURED = {"knee": ("knee_medial_cm", (CFG.knee_cm_1, CFG.knee_cm_2), 0.5),
            "pelvis": ("pelvic_drop_deg", (CFG.pelvis_deg,), 1.0),
            "trunk": ("trunk_lean_deg", (CFG.trunk_deg,), 1.0)}


def rule_rows(batch) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per matched rep and item: predicted and true level, source, borderline, shank worn;
    per test: predicted and true totals and categories."""
    reps, tests = [], []
    for ev in batch:
        truth = truth_document(ev.sim)
        doc = ev.analysis.to_json()
        for i, j in match_reps(doc["reps"], truth["reps"]):
            p, t = doc["reps"][i], truth["reps"][j]
            for item, value in p["items"].items():
                row = {"item": item, "pred": value, "true": t["items"][item],
                       "source": p["sources"][item], "borderline": False,
                       "shank": any(x.startswith("shank") for x in ev.sim.recording.placements)}
                if item in MEASURED:
                    name, thresholds, margin = MEASURED[item]
                    row["borderline"] = any(abs(t["measures"][name] - th) <= margin for th in thresholds)
                reps.append(row)
        assessed = [k for k, v in doc["test"]["items"].items() if v is not None]
        seen_total = sum(truth["test"]["items"][k] for k in assessed)
        tests.append({"pred_total": doc["test"]["total"], "true_total": truth["test"]["total"],
                      "pred_cat": doc["test"]["category"], "true_cat": truth["test"]["category"],
                      "all_assessed": len(assessed) == len(doc["test"]["items"]),
                      "seen_total": seen_total, "seen_cat": category(seen_total)})
    return pd.DataFrame(reps), pd.DataFrame(tests)


@pytest.fixture(scope="module")
def scored(accuracy_batch):
    reps, tests = rule_rows(accuracy_batch)
    rule = reps[reps.source.isin(["rule", "reported"])]
    agree = (rule.assign(ok=rule.pred == rule.true)
             .groupby(["item", "borderline"]).ok.agg(["mean", "size"]).unstack("borderline"))
    print("\nRule items vs truth (agreement, n) — clear reps (False) and borderline reps (True):")
    print(agree.round(3))
    full = tests[tests.all_assessed]
    print(f"Test category accuracy {np.mean(tests.pred_cat == tests.true_cat):.3f}, total MAE "
          f"{np.mean(np.abs(tests.pred_total - tests.true_total)):.3f} over all {len(tests)} tests; "
          f"{np.mean(full.pred_cat == full.true_cat):.3f} and "
          f"{np.mean(np.abs(full.pred_total - full.true_total)):.3f} over the {len(full)} tests whose "
          f"sensors assess every item; {np.mean(tests.pred_cat == tests.seen_cat):.3f} and "
          f"{np.mean(np.abs(tests.pred_total - tests.seen_total)):.3f} against the truth of the items "
          "the worn sensors can assess")
    return reps, tests


@pytest.mark.parametrize("item", ["arm", "trunk", "pelvis", "knee", "descent", "pain"])
def test_rule_items_agree_with_truth_on_clear_reps(scored, item):
    reps, _ = scored
    clear = reps[(reps.item == item) & ~reps.borderline & reps.source.isin(["rule", "reported"])]
    if item == "knee":  # measured with a shank; the body model is the test below
        clear = clear[clear.shank]
    assert len(clear) >= 20, f"too few rule-scored reps for {item}"
    assert (clear.pred == clear.true).mean() >= 0.95


@pytest.mark.xfail(strict=True, reason="no shank and no guided movement: the thigh's axis from "
                   "the reps holds the balance tilt and the hip is taken as over the foot "
                   "(docs/accuracy.md); 81-87 % of clear reps. With the movement: test below")
def test_knee_item_from_the_body_model_agrees_on_clear_reps(scored):
    reps, _ = scored
    clear = reps[(reps.item == "knee") & ~reps.borderline & (reps.source == "rule") & ~reps.shank]
    assert len(clear) >= 20
    assert (clear.pred == clear.true).mean() >= 0.95


@pytest.mark.xfail(strict=True, reason=(
    "82/89 = 0.921 < 0.95 (84/89 while the hip shift's sacrum-to-hip lever turned with the "
    "sacral sensor, 85/89 before the simulated excess grew 7.2 -> 8.5 deg). The excess acted "
    "through that lever (bench_knee_offsets: clear development reps 152 -> 150 of 175 with "
    "it, 154 with either excess once it turns with the bone, as now). On 60-test development "
    "batches the item is 0.880 (default) and 0.864 (shifted), under the floor too: the "
    "knee's per-test offsets from the bends' thigh-axis heading (sd 0.74-1.16 cm) and the "
    "hip term (0.40-0.94 cm); docs/accuracy.md. bench_knee_floor: either fixed alone gives "
    "0.90-0.92, both 0.975; no protocol of more or deeper bends reaches 0.95 with the hip "
    "shift as measured (0.87-0.90): nothing short of a shank does"))
def test_knee_item_without_a_shank_agrees_on_clear_reps_with_the_guided_movement(guided_batch):
    # The thigh's frame from the knee bends, the hip's sideways shift from the pelvis
    # sensor's acceleration (analysis.hip_shift): the issue-12 floor for the knee item.
    reps, _ = rule_rows(guided_batch)
    clear = reps[(reps.item == "knee") & ~reps.borderline & (reps.source == "rule")]
    agreement = (clear.pred == clear.true).mean()
    print(f"\nKnee item without a shank, guided movement: {agreement:.3f} of {len(clear)} clear reps")
    assert len(clear) >= 60
    assert agreement >= 0.95


def decided_rows(batch) -> pd.DataFrame:
    """Per matched rep and rule-decided item (knee, pelvis, trunk): whether the analysis
    itself calls it borderline (its measure within the stated 90 % uncertainty of a
    threshold, ``uncertainty.borderline``) and whether its level is the truth's."""
    rows = []
    for ev in batch:
        truth, doc = truth_document(ev.sim), ev.analysis.to_json()
        flagged = {(b["rep"], b["item"]) for b in doc["uncertainty"]["borderline"]}
        for i, j in match_reps(doc["reps"], truth["reps"]):
            p, t = doc["reps"][i], truth["reps"][j]
            rows += [{"item": item, "flagged": (p["index"], item) in flagged,
                      "ok": p["items"][item] == t["items"][item]}
                     for item in MEASURED if p["sources"][item] == "rule"]
    return pd.DataFrame(rows)


# The clinician's view of the stated uncertainty: an item the analysis does not call
# borderline is a decided one, and must be right, pooled and per item where 20 or more
# are decided.  Without a shank the knee's 1.25-1.6 cm bound leaves most knee items
# borderline: on development seeds (905, 910, 906) 15-53 decided of 113-218, 2 of them
# wrong; the held-out batches, measured once: 113, 29 and 15 knee items decided, 1 wrong
# (shifted world).  That is the honest answer where the floor on truth-clear reps is
# missed (the two xfails above).  Pelvic drop, with its model-to-reality term from real
# recordings (6.4 deg), is nearly always borderline against its 5 deg threshold.
@pytest.mark.parametrize("batch", ["accuracy_batch", "guided_batch", "guided_shifted_batch"])
def test_items_the_analysis_calls_decided_agree_with_the_truth(request, batch):
    rows = decided_rows(request.getfixturevalue(batch))
    decided = rows[~rows.flagged]
    print(f"\n{batch}: rule items called decided, agreement per item (n):")
    print(decided.groupby("item").ok.agg(["mean", "size"]).round(3).to_string())
    assert len(decided) >= 20
    assert decided.ok.mean() >= 0.95
    per_item = decided.groupby("item").ok.agg(["mean", "size"])
    assert (per_item[per_item["size"] >= 20]["mean"] >= 0.95).all(), per_item


def test_test_total_where_every_item_is_assessed(scored):
    # Only 16 tests wear all five sensors; a category is then off only where a
    # test-level item rests on borderline reps (printed above).
    _, tests = scored
    full = tests[tests.all_assessed]
    assert len(full) >= 12
    assert np.mean(np.abs(full.pred_total - full.true_total)) <= 0.5
    assert np.mean(full.pred_cat == full.true_cat) >= 0.8


def test_test_category_and_total_when_all_five_sensors_assess_every_item(full_sensor_batch):
    # The issue-4 targets (category >= 90 %, total MAE <= 0.5) where no item is left
    # unassessed: 64 further tests, all wearing pelvis, thigh, shank, trunk and wrist.
    pred_cat, true_cat, err = [], [], []
    for ev in full_sensor_batch:
        doc, truth = ev.analysis.to_json(), truth_document(ev.sim)
        assert all(v is not None for v in doc["test"]["items"].values())
        pred_cat.append(doc["test"]["category"])
        true_cat.append(truth["test"]["category"])
        err.append(abs(doc["test"]["total"] - truth["test"]["total"]))
    accuracy = np.mean(np.array(pred_cat) == np.array(true_cat))
    print(f"\nAll five sensors, {len(err)} tests: category accuracy {accuracy:.3f}, "
          f"total MAE {np.mean(err):.3f}")
    assert accuracy >= 0.90
    assert np.mean(err) <= 0.5


def test_test_category_and_total_on_what_the_worn_sensors_can_assess(scored):
    # Without a wrist (arm) or trunk sensor those items are not assessed (the
    # classifier could not learn them from pelvis/thigh signals, kappa < 0.1):
    # the total is then a lower bound, right about everything that was assessed.
    _, tests = scored
    assert np.mean(tests.pred_cat == tests.seen_cat) >= 0.90
    assert np.mean(np.abs(tests.pred_total - tests.seen_total)) <= 0.5
    assert (tests.pred_total <= tests.true_total + 1).all()
