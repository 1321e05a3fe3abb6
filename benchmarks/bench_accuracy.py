"""Accuracy on whole-body simulated tests: MAE, bias and slope per measure and sensor set.

The issue-12 floors (tests/test_analysis/test_accuracy.py asserts them) beside the figures, on the
held-out accuracy batch (64 tests, seed 2026, the default whole-body physics), and on
the same seeds with the idealised body for comparison (``physics="ideal"``).
"""

from __future__ import annotations

import pandas as pd

from analysis.evaluation import agreement, rep_errors, sensor_set_name
from analysis.pipeline import analyze
from simulator.single_test import simulate_batch

N_TESTS, SEED = 64, 2026


def agreement_on(n: int, seed: int, **overrides) -> tuple[pd.DataFrame, float, float]:
    """(agreement table, rep precision, rep recall) of n simulated tests."""
    tables, found, truth, matched = [], 0, 0, 0
    for sim in simulate_batch(n, seed=seed, **overrides):
        analysis = analyze(sim.recording, classify=False)
        e, c = rep_errors(analysis.reps, sim.truth["reps"],
                          sensor_set=sensor_set_name(sim.recording.placements))
        tables.append(e)
        found, truth, matched = found + c["n_pred"], truth + c["n_truth"], matched + c["n_matched"]
    return agreement(pd.concat(tables, ignore_index=True)), matched / found, matched / truth


def run() -> None:
    for label, overrides in (("whole-body physics (default)", {}),
                             ("idealised body", {"physics": "ideal", "balance": None})):
        table, precision, recall = agreement_on(N_TESTS, SEED, **overrides)
        print(f"{label}: {N_TESTS} tests (seed {SEED}); reps precision {precision:.3f}, "
              f"recall {recall:.3f}")
        wide = table.pivot(index="measure", columns="sensor_set", values=["mae", "bias", "slope"])
        with pd.option_context("display.width", 250, "display.max_columns", 30):
            for what in ("mae", "bias", "slope"):
                print(f"  {what}:")
                print("    " + wide[what].round(3).to_string().replace("\n", "\n    "))
