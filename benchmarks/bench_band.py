"""How well a band comparison's change is measured, and what bound holds it:
``python -m benchmarks band``.

Simulated DEVELOPMENT pairs (:func:`simulator.heel_taps.band_pair`: one athlete, one
session, the same straps; a heel-tap set with the band, which moves the knee in less a
third of the time not at all, and one without it), athlete seeds :data:`DEV_SEEDS` with
the guided calibration movement (as ``stepdown record`` records a set) and
:data:`DEV_NO_BENDS_SEEDS` without it (sets recorded before the bends); never the held-out
seeds of ``tests/test_analysis/test_band_accuracy.py``. Each pair is analysed as
``stepdown programme band`` reads it (:func:`analysis.exercises.heel_taps.analyze_heel_taps`,
the taps of the set's document) with pelvis + thigh and with a shank. Per measure of
:data:`analysis.exercises.band.KNEE_MEASURES` and leg-frame case: the error of the measured
change of the median tap peak (no band - band) against the true change (MAE, bias, slope,
90th percentile of |error|), how often the former bound (sqrt(u_band² + u_no-band²) of the
sets' stated bounds) held it, the figure derived from these errors
(:func:`analysis.exercises.change_bound.simulated_change_figure`), and how often the
retest's simulated part (:data:`~analysis.exercises.change_bound.CHANGE_SIMULATED`) and the
band's own (:data:`~analysis.exercises.change_bound.BAND_CHANGE_SIMULATED`) hold them.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from analysis.evaluation import change_errors
from analysis.exercises import change_bound as cb
from analysis.exercises.band import KNEE_MEASURES
from analysis.exercises.heel_taps import analyze_heel_taps
from benchmarks.bench_retest import change_figures, simulated_part
from sensor_io.exercise import exercise_of
from simulator.heel_taps import band_pair
from simulator.retest import with_sensors

DEV_SEEDS = range(8200, 8360)
DEV_NO_BENDS_SEEDS = range(8400, 8460)
SENSOR_SETS = {"pelvis+thigh": ("pelvis", "thigh"), "+shank": ("pelvis", "thigh", "shank")}


def pair_table(seeds: range, **overrides) -> pd.DataFrame:
    """One row per pair, sensor set and measure: the measured and true change of the median
    tap peak (no band - band), its error, the pair's leg frames (the two sets' when they
    agree, else "mixed") and the former bound sqrt(u1² + u2²)."""
    rows = []
    for seed in seeds:
        band, free = band_pair(seed, **overrides)
        for name, segments in SENSOR_SETS.items():
            a, b = (analyze_heel_taps(r, exercise_of(r)).result()
                    for r in (with_sensors(band.recording, segments),
                              with_sensors(free.recording, segments)))
            frames = tuple(sorted({cb.leg_frames(s.uncertainty.case) for s in (a, b)}))
            changes = change_errors([t.rep for t in a.taps], [t.rep for t in b.taps],
                                    band.truth["reps"], free.truth["reps"], KNEE_MEASURES)
            for k, (measured, true) in changes.items():
                u1, u2 = a.uncertainty.measures.get(k), b.uncertainty.measures.get(k)
                rows.append({"seed": seed, "sensor_set": name, "measure": k,
                             "knee_scale": band.truth["knee_scale"],
                             "leg_frames": frames[0] if len(frames) == 1 else "mixed",
                             "frames": frames, "change": measured, "true": true,
                             "error": measured - true,
                             "former": math.hypot(u1, u2) if None not in (u1, u2) else np.nan})
    return pd.DataFrame(rows)


def summarize(table: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Per group: pairs, MAE, bias, p90 |error|, slope, the former bound's mean and
    coverage, the derived figure, and the coverage of the retest's and the band's simulated
    parts (NaN: no figure)."""
    table = table.assign(
        abs_error=table.error.abs(),
        retest=table.apply(lambda r: simulated_part(cb.CHANGE_SIMULATED, r), axis=1),
        band=table.apply(lambda r: simulated_part(cb.BAND_CHANGE_SIMULATED, r), axis=1))

    def holds(g: pd.DataFrame, col: str) -> float:
        return (g.abs_error <= g[col]).mean() if g[col].notna().all() else np.nan

    def one(g: pd.DataFrame) -> pd.Series:
        return pd.Series({
            **change_figures(g), "former_holds": holds(g, "former"),
            "retest_sim": g.retest.max(), "retest_holds": holds(g, "retest"),
            "band_sim": g.band.max(), "band_holds": holds(g, "band")})
    return table.groupby(by).apply(one, include_groups=False)


def run() -> None:
    table = pd.concat([pair_table(DEV_SEEDS).assign(bends=True),
                       pair_table(DEV_NO_BENDS_SEEDS, calibration_movement=False)
                       .assign(bends=False)], ignore_index=True)
    with pd.option_context("display.width", 220, "display.max_columns", 20):
        print(f"development band pairs: seeds {DEV_SEEDS.start}-{DEV_SEEDS.stop - 1} "
              f"({len(DEV_SEEDS)}) with the guided bends, {DEV_NO_BENDS_SEEDS.start}-"
              f"{DEV_NO_BENDS_SEEDS.stop - 1} ({len(DEV_NO_BENDS_SEEDS)}) without; error of "
              "the change of the median tap peak, no band - band (measured - true)")
        print(f"true knee change (cm): median {table[table.measure == 'knee_medial_cm'].true.median():.2f}, "
              f"range {table[table.measure == 'knee_medial_cm'].true.min():.2f} to "
              f"{table[table.measure == 'knee_medial_cm'].true.max():.2f}")
        print("per measure, bends and sensor set:")
        print("  " + summarize(table, ["measure", "bends", "sensor_set"]).round(2)
              .to_string().replace("\n", "\n  "))
        print("per measure and the pair's leg frames (what the bound is keyed by):")
        print("  " + summarize(table, ["measure", "leg_frames"]).round(2)
              .to_string().replace("\n", "\n  "))
