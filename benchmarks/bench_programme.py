"""Programme exercises (issue 15): accuracy against simulator truth, the 90 % bounds the
analyses state, and how long a set's analysis takes.

Holds (``HOLD_BENCH_SETS`` sets of 2 holds) and heel-tap sets (``TAP_BENCH_SETS`` of 8
taps) drawn from seeds no test uses; per measure and sensor set: n, MAE, bias, slope and
the 90th percentile of the absolute error, the figure
:data:`analysis.exercises.hold.HOLD_UNCERTAINTY` and
:data:`analysis.exercises.heel_taps.TAP_UNCERTAINTY` state (rounded up to 0.05; the
larger of the two sensor sets). ``tests/test_analysis/test_exercise_accuracy.py`` checks them on a
held-out batch.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import pandas as pd

from analysis.evaluation import agreement, sensor_set_name
from analysis.exercises.evaluation import hold_errors, tap_errors
from analysis.exercises.heel_taps import analyze_heel_taps
from analysis.exercises.hold import analyze_hold
from sensor_io.exercise import exercise_of
from simulator.heel_taps import HeelTapConfig, simulate_heel_taps
from simulator.hold import HoldConfig, simulate_hold

BENCH_SEED = 3500
HOLD_BENCH_SETS, TAP_BENCH_SETS = 16, 12
SETS = (("pelvis", "thigh"), ("pelvis", "thigh", "shank"))


def evaluate(sims: Iterable[Any], analyze: Callable, errors: Callable, pred_key: str,
             truth_key: str) -> tuple[pd.DataFrame, list[float]]:
    """Analyse each simulated set (timed), match it to its truth: the error table and the
    analysis times (s)."""
    errs, seconds = [], []
    for sim in sims:
        t0 = time.perf_counter()
        res = analyze(sim.recording, exercise_of(sim.recording))
        seconds.append(time.perf_counter() - t0)
        e, _ = errors(res.to_json()[pred_key], sim.truth[truth_key],
                      sensor_set=sensor_set_name(sim.recording.placements))
        errs.append(e)
    return pd.concat(errs, ignore_index=True), seconds


def hold_batch(seed: int, n: int) -> tuple[pd.DataFrame, list[float]]:
    sims = (simulate_hold(HoldConfig(seed=seed + k, sensors=SETS[k % 2], holds=2,
                                     test_leg=("left", "right")[(k // 2) % 2],
                                     hold_s=(10.0, 20.0))) for k in range(n))
    return evaluate(sims, analyze_hold, hold_errors, "holds", "holds")


def tap_batch(seed: int, n: int) -> tuple[pd.DataFrame, list[float]]:
    sims = (simulate_heel_taps(HeelTapConfig(seed=seed + k, sensors=SETS[k % 2], reps=8,
                                             profile=("good", "medium", "poor")[k % 3],
                                             test_leg=("left", "right")[(k // 2) % 2]))
            for k in range(n))
    return evaluate(sims, analyze_heel_taps, tap_errors, "taps", "reps")


def p90_table(errors: pd.DataFrame, measures: tuple[str, ...]) -> pd.DataFrame:
    """agreement() of the measures with the 90th percentile of |error| beside it."""
    table = agreement(errors)
    table = table[table.measure.isin(measures)].copy()
    table["p90"] = [float(np.nanpercentile(
        errors.loc[errors.sensor_set == row.sensor_set, f"{row.measure}_err"].abs(), 90))
        for row in table.itertuples()]
    return table


def stated(table: pd.DataFrame) -> dict[str, float]:
    """Per measure the larger p90 of the sensor sets, rounded up to 0.05."""
    return {m: round(math.ceil(g.p90.max() / 0.05 - 1e-9) * 0.05, 2)
            for m, g in table.groupby("measure")}


def run() -> None:
    from analysis.exercises.heel_taps import TAP_UNCERTAINTY
    from analysis.exercises.hold import HOLD_UNCERTAINTY

    with pd.option_context("display.width", 200, "display.max_rows", 100):
        holds, t_hold = hold_batch(BENCH_SEED, HOLD_BENCH_SETS)
        table = p90_table(holds, tuple(HOLD_UNCERTAINTY))
        print(f"holds: {len(holds)} on {HOLD_BENCH_SETS} sets (seed {BENCH_SEED})")
        print(table.round(3).to_string(index=False))
        print(f"p90 rounded up: {stated(table)}; stated: {HOLD_UNCERTAINTY}")
        print(f"analysis of a 2-hold set (~40 s): median {np.median(t_hold):.2f} s")
        taps, t_tap = tap_batch(BENCH_SEED + 100, TAP_BENCH_SETS)
        table = p90_table(taps, tuple(TAP_UNCERTAINTY))
        print(f"\nheel taps: {len(taps)} on {TAP_BENCH_SETS} sets (seed {BENCH_SEED + 100})")
        print(table.round(3).to_string(index=False))
        print(f"p90 rounded up: {stated(table)}; stated: {TAP_UNCERTAINTY}")
        print(f"analysis of an 8-tap set: median {np.median(t_tap):.2f} s")
