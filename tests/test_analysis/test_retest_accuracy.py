"""The change bound of a retest holds on held-out simulated test-retest pairs
(analysis.exercises.change_bound; derived by ``python -m benchmarks retest`` on seeds
8500-8739 and 9500-9619).

Held out: athlete seeds :data:`HELD_OUT` (each pair analysed with pelvis + thigh, + shank and
+ trunk) and :data:`HELD_OUT_GUIDED` (with the guided bends; without a shank). Checked is
the change bound's simulated part (``real=False``): the real part is what simulation cannot
show. Per measure, 85-95 % of the changes' errors must lie inside it; a batch's share is a
sample and may leave that range by up to two binomial standard errors (at 90 %, n changes),
as in test_uncertainty_accuracy. Run with -s to see the figures.
"""

from __future__ import annotations

import pandas as pd
import pytest
from coverage_checks import change_coverage, with_change_bounds, within_85_to_95

from benchmarks.bench_retest import GUIDED_SETS, pair_table

pytestmark = pytest.mark.slow
HELD_OUT = range(8800, 8820)
HELD_OUT_GUIDED = range(9800, 9810)


@pytest.fixture(scope="module")
def pairs() -> pd.DataFrame:
    table = pd.concat([pair_table(HELD_OUT),
                       pair_table(HELD_OUT_GUIDED, GUIDED_SETS, calibration_movement=True)],
                      ignore_index=True)
    return with_change_bounds(table)


def test_the_change_bound_holds_90_percent_of_held_out_changes(pairs):
    inside = change_coverage(pairs, "changes")
    assert pairs.sim.notna().all()
    assert within_85_to_95(inside).all(), inside


def test_the_former_bound_over_covers_as_the_benchmark_found(pairs):
    """sqrt(u1² + u2²) of the two tests' stated bounds, on the development pairs: it held
    100 % of the pelvic drop and hip adduction changes (the model-to-reality term counted
    twice), 98-100 % of trunk lean and knee, and it was 1.6-21 times the simulated part of
    the change bound. Held out: the same pattern; and the change bound with its real part
    is narrower than the former for pelvic drop, knee and trunk lean (not for hip adduction
    from the thigh's functional axis, whose real part is the wider: docs/programme.md)."""
    held = (pairs.abs_error <= pairs.former).groupby(pairs.measure).mean()
    new = (pairs.abs_error <= pairs.sim).groupby(pairs.measure).mean()
    widths = pairs.groupby(["measure", "leg_frames"])[["former", "bound", "sim"]].mean()
    print("\nShare of held-out changes inside the former bound:", held.round(3).to_dict())
    print(widths.round(2))
    assert held["pelvic_drop_deg"] == 1.0 and held["hip_adduction_deg"] == 1.0
    assert (held >= new).all()
    assert (widths.former > 1.5 * widths.sim).all()
    narrower = widths.drop("hip_adduction_deg", level="measure")
    assert (narrower.bound < narrower.former).all()
