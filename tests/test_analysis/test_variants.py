"""Valid but unusual tests are analysed, not refused, and every rep is found (issue 12).

One development test per variant of ``benchmarks.bench_variants`` (sample rates 25-400 Hz
and mixed, 1/2/12 reps, heights 1.50/2.05 m, steps 0.10/0.30 m, each leg and profile, the
guided bends), with and without a shank: a rate-, length- or body-dependent constant that
broke one of them would refuse the test or lose reps here.  Accuracy per variant is
``python -m benchmarks variants`` (docs/accuracy.md, "Variants not tuned on").
"""

from __future__ import annotations

import pytest

from benchmarks.bench_variants import VARIANTS, sweep

DEVELOPMENT_SEED = 8000  # bench_variants' seed: neither a training seed nor a held-out batch


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_a_variant_is_analysed_and_its_reps_found(variant):
    outcomes = sweep({variant: VARIANTS[variant]}, n=1, seed=DEVELOPMENT_SEED)
    for (_, sensors), out in outcomes.items():
        (test,) = out.tests
        assert test["refused"] is None, (sensors, test["refused"])
        assert test["n_truth"] >= 1
        assert test["n_pred"] == test["n_matched"] == test["n_truth"], (sensors, test)
