"""The stated uncertainties hold on held-out simulated tests (analysis.uncertainty).

Each measure's uncertainty is meant as the 90th percentile of its error: on held-out
tests 85-95 % of rep errors must fall inside it, per measure, both in the world the
figures were derived in (the 64-test accuracy batch) and in a shifted one they were
not (tests/conftest.py SHIFTED_WORLD: more sway, other limb proportions, 60 Hz).
A batch's share is a sample: it may leave 85-95 % by up to two binomial standard
errors (at 90 %, n reps), about ±3 points for 350 reps.  The test total's range must
hold the true total in at least 95 % of tests.  Run with -s to see the figures.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from coverage_checks import within_85_to_95

from analysis.evaluation import errors_against_uncertainty
from analysis.uncertainty import find_borderline, measure_uncertainty, total_range
from stepdown.truth_files import truth_document

pytestmark = pytest.mark.slow


def coverage_table(batch, label: str) -> pd.DataFrame:
    errors = pd.concat([errors_against_uncertainty(ev.analysis.reps, ev.sim.truth["reps"],
                                                   ev.analysis.series.knee_source,
                                                   ev.analysis.calibration)
                        for ev in batch], ignore_index=True)
    table = (errors.abs_error <= errors.bound).groupby(errors.measure).agg(["mean", "size"])
    by_case = (errors.abs_error <= errors.bound).groupby([errors.case, errors.measure]).agg(
        ["mean", "size"])
    print(f"\nShare of {label} rep errors inside the stated uncertainty:")
    print(table.round(3))
    print(by_case.round(3))
    return table


@pytest.fixture(scope="module")
def coverage(accuracy_batch):
    return coverage_table(accuracy_batch, "held-out")


@pytest.fixture(scope="module")
def shifted_coverage(shifted_batch):
    return coverage_table(shifted_batch, "shifted-world")


def test_each_uncertainty_covers_85_to_95_percent_of_held_out_errors(coverage):
    assert len(coverage) == 7 and (coverage["size"] >= 50).all()
    assert within_85_to_95(coverage).all(), coverage


def test_each_uncertainty_covers_85_to_95_percent_in_a_shifted_world(shifted_coverage):
    assert len(shifted_coverage) == 7 and (shifted_coverage["size"] >= 40).all()
    assert within_85_to_95(shifted_coverage).all(), shifted_coverage


def test_each_uncertainty_covers_85_to_95_percent_with_the_guided_movement(guided_batch):
    # the "guided bends" cases, on held-out tests without a shank (tests/conftest.py)
    table = coverage_table(guided_batch, "guided-movement")
    assert len(table) == 6 and (table["size"] >= 50).all()
    assert within_85_to_95(table).all(), table


def test_each_uncertainty_covers_85_to_95_percent_with_the_guided_movement_shifted(
        guided_shifted_batch):
    # the "guided bends" cases in the shifted world, where they were not derived
    table = coverage_table(guided_shifted_batch, "guided-movement, shifted-world")
    assert len(table) == 6 and (table["size"] >= 40).all()
    assert within_85_to_95(table).all(), table


@pytest.mark.parametrize("batch", ["accuracy_batch", "shifted_batch", "guided_batch",
                                   "guided_shifted_batch"])
def test_the_total_range_holds_the_true_total(request, batch):
    inside, certain, widths = [], [], []
    for ev in request.getfixturevalue(batch):
        checklist = ev.analysis.checklist
        u = measure_uncertainty(ev.analysis.series.knee_source, ev.analysis.calibration)
        rng = total_range(checklist, find_borderline(checklist, u))
        truth = truth_document(ev.sim)["test"]["total"]
        assert rng.low <= checklist.test.total <= rng.high
        inside.append(rng.low <= truth <= rng.high)
        certain.append(rng.certain)
        widths.append(rng.high - rng.low)
    print(f"\n{batch}: true total inside the range in {np.mean(inside):.3f} of {len(inside)} "
          f"tests; category certain in {np.mean(certain):.3f}; mean range width "
          f"{np.mean(widths):.2f}")
    assert np.mean(inside) >= 0.95
