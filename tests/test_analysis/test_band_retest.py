"""Band feedback and practice-then-retest: changes judged against the stated uncertainty."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from analysis.exercises.band import compare_band
from analysis.exercises.change import MeasureChange, compare_reps
from analysis.exercises.change_bound import (
    BAND_CHANGE_SIMULATED,
    change_bound,
    offset_change_bound,
)
from analysis.exercises.heel_taps import analyze_heel_taps
from analysis.exercises.retest import Retest, compare_tests
from analysis.pipeline import analyze
from sensor_io.errors import InputError
from sensor_io.exercise import exercise_of
from simulator.heel_taps import HeelTapConfig, simulate_heel_taps
from simulator.single_test import SimConfig, simulate

SENSORS = ("pelvis", "thigh", "shank")


def _taps(seed: int, band: bool, knee_scale: float, movement_seed: int | None = None):
    sim = simulate_heel_taps(HeelTapConfig(seed=seed, band=band, knee_scale=knee_scale,
                                           profile="poor", reps=6, sensors=SENSORS,
                                           movement_seed=movement_seed))
    return sim, analyze_heel_taps(sim.recording, exercise_of(sim.recording)).result()


def test_a_change_is_beyond_the_uncertainty_only_when_larger_than_the_combined_bound():
    before = [{"knee_medial_cm": v} for v in (2.0, 2.5, 3.0)]
    after = [{"knee_medial_cm": v} for v in (1.0, 1.5, 2.0)]
    (c,) = compare_reps(before, after, ["knee_medial_cm"], {"knee_medial_cm": 0.6},
                        {"knee_medial_cm": 0.8})
    assert c.change == pytest.approx(-1.0) and c.uncertainty == pytest.approx(1.0)
    assert c.beyond_uncertainty is False  # |-1.0| is not above 1.0
    (c,) = compare_reps(before, after, ["knee_medial_cm"], {"knee_medial_cm": 0.6},
                        {"knee_medial_cm": 0.7})
    assert c.beyond_uncertainty is True
    (c,) = compare_reps(before, after, ["knee_medial_cm"], {}, {"knee_medial_cm": 0.7})
    assert c.beyond_uncertainty is None  # no stated uncertainty: no verdict


def test_a_retest_in_one_session_is_judged_by_the_change_bound_not_the_two_tests_bounds():
    before = [{"pelvic_drop_deg": v} for v in (7.0, 8.0, 9.0)]
    after = [{"pelvic_drop_deg": v} for v in (0.5, 1.5, 2.5)]
    u = {"pelvic_drop_deg": 6.6}
    (former,) = compare_reps(before, after, ["pelvic_drop_deg"], u, u)
    assert former.uncertainty == pytest.approx(9.33, abs=0.01) and not former.beyond_uncertainty
    cases = ("functional axis, still", "functional axis, sway")
    (paired,) = compare_reps(before, after, ["pelvic_drop_deg"], u, u, cases)
    assert paired.uncertainty == change_bound("pelvic_drop_deg", cases) < former.uncertainty
    assert paired.uncertainty > change_bound("pelvic_drop_deg", cases, real=False)
    assert paired.beyond_uncertainty  # 6.5 deg less drop in the median is beyond it
    (unstated,) = compare_reps(before, after, ["pelvic_drop_deg"], {}, u, cases)
    assert unstated.uncertainty is None  # a measure a test states nothing for: no verdict
    # two leg frames: the wider of their bounds
    mixed = change_bound("hip_adduction_deg", ("knee hinge, still", "functional axis, still"))
    assert mixed == max(change_bound("hip_adduction_deg", (c,))
                        for c in ("knee hinge, still", "functional axis, still"))


def test_the_real_part_is_the_spread_of_the_trials_offsets():
    # offsets 0, 1, 2: sd 1, t(0.95, 2 dof) = 2.92 -> 2.92 * sqrt(2)
    assert offset_change_bound([0.0, 1.0, 2.0]) == pytest.approx(2.919986 * 2 ** 0.5, rel=1e-5)
    assert offset_change_bound([3.0, 3.0, 3.0]) == 0.0  # a constant offset cancels


def test_band_helps_this_athlete_so_no_band_control_does_not_match():
    """Seed 5 (poor) drops its knee 5-7 cm; with the band the same athlete's knee moves
    0.3 x as far (truth): the no-band knee is worse beyond the uncertainty."""
    sim_b, band = _taps(5, True, 0.3)
    sim_f, free = _taps(5, False, 1.0, movement_seed=1005)  # the same session's next set
    cmp = compare_band([band, free])
    knee = next(c for c in cmp.changes if c.measure == "knee_medial_cm")
    true_change = (sorted(r["measures"]["knee_medial_cm"] for r in sim_f.truth["reps"])[3]
                   - sorted(r["measures"]["knee_medial_cm"] for r in sim_b.truth["reps"])[3])
    assert knee.change > 2.0 and knee.change == pytest.approx(true_change, abs=1.0)
    assert knee.beyond_uncertainty is True and cmp.matched is False


def test_no_band_control_matches_when_the_band_changes_nothing():
    _, band = _taps(5, True, 1.0)
    _, free = _taps(5, False, 1.0, movement_seed=1005)
    cmp = compare_band([band, free])
    assert cmp.matched is True
    assert cmp.to_json()["band_sets"] == 1 and cmp.to_json()["no_band_sets"] == 1


def test_sets_that_state_their_case_get_the_paired_bound_and_older_documents_the_former():
    _, band = _taps(5, True, 0.3)
    _, free = _taps(5, False, 1.0, movement_seed=1005)
    cases = (band.uncertainty.case, free.uncertainty.case)
    assert all(c.startswith("knee hinge") for c in cases)  # a shank: the knee's hinge axis
    paired = {c.measure: c.uncertainty for c in compare_band([band, free]).changes}
    for k in ("knee_medial_cm", "hip_adduction_deg"):
        assert paired[k] == change_bound(k, cases, simulated=BAND_CHANGE_SIMULATED)
        # the taps' own simulated part, not the step-down retest's
        assert change_bound(k, cases, real=False, simulated=BAND_CHANGE_SIMULATED) == \
            pytest.approx(BAND_CHANGE_SIMULATED["knee hinge"][k], abs=0.1)
    assert paired["hip_internal_rotation_deg"] is None  # unvalidated: no stated bound, no verdict
    old = replace(free, uncertainty=replace(free.uncertainty, case=None))  # written before
    former = {c.measure: c.uncertainty for c in compare_band([band, old]).changes}
    for k in ("knee_medial_cm", "hip_adduction_deg"):
        assert former[k] == pytest.approx(math.hypot(band.uncertainty.measures[k],
                                                     free.uncertainty.measures[k]))


def test_band_comparison_needs_both_kinds_of_set():
    _, free = _taps(7, False, 1.0)
    with pytest.raises(InputError, match="got 0 with and 1 without"):
        compare_band([free])


def test_retest_after_practice_says_which_measures_changed_beyond_uncertainty():
    first = analyze(simulate(SimConfig(seed=5, profile="poor", sensors=SENSORS)).recording)
    second = analyze(simulate(SimConfig(seed=6, profile="good", sensors=SENSORS)).recording)
    r = compare_tests(first.result(), second.result(), ["heel taps 2 x 10"])
    knee = next(c for c in r.changes if c.measure == "knee_medial_cm")
    assert knee.change < -2 and knee.beyond_uncertainty
    assert "knee_medial_cm" in r.verdict() and r.to_json()["practice"] == ["heel taps 2 x 10"]
    same = compare_tests(first.result(), first.result())
    assert not same.total_change_beyond_uncertainty
    assert all(not c.beyond_uncertainty for c in same.changes)
    assert same.verdict().startswith("no change in the score beyond the measurement uncertainty")
    lo, hi = same.first_range
    assert f"its uncertain items allow totals {lo}-{hi} and {lo}-{hi}" in same.verdict()



def test_a_retest_verdict_says_both_a_measure_beyond_and_a_score_within_its_uncertainty():
    # The demo's case: the knee fell beyond its bound, the totals' ranges still overlap.
    knee = MeasureChange("knee_medial_cm", 4.66, 1.10, 5, 5, 1.5)
    drop = MeasureChange("pelvic_drop_deg", 7.72, 2.66, 5, 5, 6.0)
    r = Retest(3, 1, (1, 5), (0, 2), "medium", "good", (knee, drop))
    assert r.verdict() == ("no change in the score beyond the measurement uncertainty: total "
                           "3 -> 1 (medium -> good); its uncertain items allow totals 1-5 and "
                           "0-2; beyond their uncertainty, lower after practice: knee_medial_cm")
