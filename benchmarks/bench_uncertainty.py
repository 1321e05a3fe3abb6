"""Re-derive the measure uncertainties of analysis.uncertainty from simulation.

Prints, per calibration case and measure (and per knee method), the 90th percentile
of the absolute rep-peak error on ``simulate_batch(UNCERTAINTY_TESTS,
seed=UNCERTAINTY_SEED)`` and on GUIDED_TESTS tests with the guided calibration movement,
beside the value shipped in :mod:`analysis.uncertainty`.  Update the constants
there when the analysis changes what these figures are; the held-out check is
``tests/test_analysis/test_uncertainty_accuracy.py``.
"""

from __future__ import annotations

import pandas as pd

from analysis.evaluation import errors_against_uncertainty
from analysis.pipeline import analyze
from analysis.uncertainty import GUIDED_TESTS, UNCERTAINTY_SEED, UNCERTAINTY_TESTS
from simulator.single_test import simulate_batch

QUANTILE = 0.9


GUIDED_SETS = (("pelvis", "thigh"), ("pelvis", "thigh", "trunk"))


def error_table(guided: bool = False) -> pd.DataFrame:
    """Absolute rep-peak error per measure, one row per matched rep and measure; with
    ``guided``, of GUIDED_TESTS tests without a shank recorded with the guided
    calibration movement (the "guided bends" cases)."""
    tables = []
    batch = (simulate_batch(GUIDED_TESTS, seed=UNCERTAINTY_SEED, sensor_sets=GUIDED_SETS,
                            calibration_movement=True) if guided
             else simulate_batch(UNCERTAINTY_TESTS, seed=UNCERTAINTY_SEED))
    for sim in batch:
        analysis = analyze(sim.recording, classify=False)
        tables.append(errors_against_uncertainty(analysis.reps, sim.truth["reps"],
                                                 analysis.series.knee_source,
                                                 analysis.calibration))
    return pd.concat(tables, ignore_index=True)


def run() -> None:
    table = pd.concat([error_table(), error_table(guided=True)], ignore_index=True)
    summary = table.groupby(["case", "measure"]).agg(
        reps=("abs_error", "size"), mae=("abs_error", "mean"),
        p90=("abs_error", lambda x: x.quantile(QUANTILE)), shipped=("bound", "first"))
    print(f"{UNCERTAINTY_TESTS} simulated tests (seed {UNCERTAINTY_SEED}): "
          f"{QUANTILE:.0%} quantile of |error| per measure vs the shipped uncertainty")
    with pd.option_context("display.width", 160):
        print("  " + summary.round(3).to_string().replace("\n", "\n  "))
