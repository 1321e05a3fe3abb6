"""analysis.evaluation.change_errors: the measured and true change of the median rep peak,
as the retest and band benchmarks score a change bound."""

from __future__ import annotations

import pytest

from analysis.evaluation import change_errors


def _reps(*values):
    return [{"measures": {"knee_medial_cm": v, "trunk_lean_deg": None}} for v in values]


def test_the_change_is_of_the_median_rep_peak_and_unmeasured_measures_are_left_out():
    first, second = _reps(1.0, 5.0, 2.0), _reps(0.5, 0.0, 9.0, 1.0)  # medians 2.0 and 0.75
    truth_a, truth_b = _reps(2.0, 2.0), _reps(1.0, None, 1.0)          # medians 2.0 and 1.0
    out = change_errors(first, second, truth_a, truth_b, ("knee_medial_cm", "trunk_lean_deg"))
    assert set(out) == {"knee_medial_cm"}  # no test measured trunk lean
    assert out["knee_medial_cm"] == pytest.approx((-1.25, -1.0))
