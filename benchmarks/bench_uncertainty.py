"""Re-derive the measure uncertainties of analysis.uncertainty from simulation.

Prints, per measure (and per knee method), the 90th percentile of the absolute
rep-peak error on ``simulate_batch(UNCERTAINTY_TESTS, seed=UNCERTAINTY_SEED)``
beside the value shipped in :mod:`analysis.uncertainty`.  Update the constants
there when the analysis changes what these figures are; the held-out check is
``tests/test_analysis/test_uncertainty_accuracy.py``.
"""

from __future__ import annotations

import pandas as pd

from analysis.evaluation import errors_against_uncertainty
from analysis.pipeline import analyze
from analysis.uncertainty import UNCERTAINTY_SEED, UNCERTAINTY_TESTS
from simulator.single_test import simulate_batch

QUANTILE = 0.9


def error_table() -> pd.DataFrame:
    """Absolute rep-peak error per measure, one row per matched rep and measure."""
    tables = []
    for sim in simulate_batch(UNCERTAINTY_TESTS, seed=UNCERTAINTY_SEED):
        analysis = analyze(sim.recording, classify=False)
        tables.append(errors_against_uncertainty(analysis.reps, sim.truth["reps"],
                                                 analysis.series.knee_source,
                                                 analysis.calibration))
    return pd.concat(tables, ignore_index=True)


def run() -> None:
    table = error_table()
    summary = table.groupby(["case", "measure"]).agg(
        reps=("abs_error", "size"), mae=("abs_error", "mean"),
        p90=("abs_error", lambda x: x.quantile(QUANTILE)), shipped=("bound", "first"))
    print(f"{UNCERTAINTY_TESTS} simulated tests (seed {UNCERTAINTY_SEED}): "
          f"{QUANTILE:.0%} quantile of |error| per measure vs the shipped uncertainty")
    with pd.option_context("display.width", 160):
        print("  " + summary.round(3).to_string().replace("\n", "\n  "))
