"""How well a change between a test and its retest (same athlete, same session, same straps)
is measured, and what bound holds it: ``python -m benchmarks retest``.

Simulated DEVELOPMENT pairs (:func:`simulator.retest.retest_pair`, athlete seeds
:data:`DEV_SEEDS` without and :data:`DEV_GUIDED_SEEDS` with the guided calibration
movement; never the held-out seeds of ``tests/test_analysis/test_retest_accuracy.py``), each
analysed with the sensor sets below. Per measure and sensor set, and per leg-frame case:
the error of the measured change of the median rep peak against the true change (MAE, bias,
90th percentile of |error|, slope of measured on true change), how often the former bound
(the two tests' stated bounds combined, sqrt(u1² + u2²)) held it, the simulated figure
derived from these errors (:func:`analysis.exercises.change_bound.simulated_change_figure`)
and how often the shipped change bound's simulated part holds them.

Then the real part (:func:`analysis.exercises.change_bound.offset_change_bound`): on the
CMU-MBL development trials (``STEPDOWN_CMU_DATA``; never the held-out step-downs), each
trial's offset of the median rep peak, ours - the lab's, and the spread of their pairwise
differences.
"""

from __future__ import annotations

import math
from itertools import combinations

import numpy as np
import pandas as pd

from analysis.evaluation import change_errors
from analysis.exercises.change_bound import (
    CHANGE_SIMULATED,
    REAL_TRIAL_OFFSETS,
    leg_frames,
    offset_change_bound,
    simulated_change_figure,
)
from analysis.exercises.retest import RETEST_MEASURES
from analysis.pipeline import analyze
from simulator.retest import retest_pairs, with_sensors

DEV_SEEDS = range(8500, 8740)
DEV_GUIDED_SEEDS = range(9500, 9620)
SENSOR_SETS = {"pelvis+thigh": ("pelvis", "thigh"), "+shank": ("pelvis", "thigh", "shank"),
               "+trunk": ("pelvis", "thigh", "trunk"), "+shank+trunk": ("pelvis", "thigh", "shank", "trunk")}
GUIDED_SETS = ("pelvis+thigh", "+trunk")  # a shank's knee hinge replaces the bends' frames


def pair_table(seeds: range, sets: tuple[str, ...] = tuple(SENSOR_SETS), **overrides
               ) -> pd.DataFrame:
    """One row per pair, sensor set and measure: the measured and true change of the median
    rep peak, its error, the pair's leg frames (the two tests' when they agree, else
    "mixed") and the former bound sqrt(u1² + u2²)."""
    rows = []
    for seed, first, second in retest_pairs(seeds, **overrides):
        for name in sets:
            a = analyze(with_sensors(first.recording, SENSOR_SETS[name]), classify=False)
            b = analyze(with_sensors(second.recording, SENSOR_SETS[name]), classify=False)
            ua, ub = a.uncertainty(), b.uncertainty()
            frames = tuple(sorted({leg_frames(ua["case"]), leg_frames(ub["case"])}))
            changes = change_errors(a.reps, b.reps, first.truth["reps"], second.truth["reps"],
                                    RETEST_MEASURES)
            for k, (measured, true) in changes.items():
                u1, u2 = ua["measures"].get(k), ub["measures"].get(k)
                rows.append({"seed": seed, "sensor_set": name, "measure": k,
                             "leg_frames": frames[0] if len(frames) == 1 else "mixed",
                             "frames": frames,
                             "change": measured, "true": true, "error": measured - true,
                             "former": math.hypot(u1, u2) if None not in (u1, u2) else np.nan})
    return pd.DataFrame(rows)


def simulated_part(table: dict, row: pd.Series) -> float:
    """A table's simulated part of the change bound for a row (the wider of its leg frames;
    NaN: no figure)."""
    values = [table.get(f, {}).get(row.measure) for f in row.frames]
    return np.nan if None in values else max(values)


def summarize(table: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Per group: pairs, MAE, bias, p90 |error|, slope, former coverage, the derived figure
    and the shipped simulated part's coverage."""
    table = table.assign(abs_error=table.error.abs(),
                         shipped=table.apply(lambda r: simulated_part(CHANGE_SIMULATED, r), axis=1))

    def one(g: pd.DataFrame) -> pd.Series:
        return pd.Series({**change_figures(g), "shipped_sim": g.shipped.max(),
                          "shipped_holds": (g.abs_error <= g.shipped).mean()})
    return table.groupby(by).apply(one, include_groups=False)


def change_figures(g: pd.DataFrame) -> dict[str, float]:
    """One group of changes (columns ``change``, ``true``, ``error``, ``abs_error`` and
    ``former``, in the measure's unit): pairs, MAE, bias, p90 |error|, slope of the measured
    on the true change, the former bound's mean and coverage, and the derived figure."""
    varied = len(g) > 2 and g.true.std() > 0
    return {"pairs": len(g), "mae": g.abs_error.mean(), "bias": g.error.mean(),
            "p90": g.abs_error.quantile(0.9),
            "slope": np.polyfit(g.true, g.change, 1)[0] if varied else np.nan,
            "former_mean": g.former.mean(), "former_holds": (g.abs_error <= g.former).mean(),
            "figure": simulated_change_figure(g.abs_error.to_numpy())}


def real_part() -> pd.DataFrame:
    """Per leg frames and measure: the offsets' trials, the t-based bound and the 90th
    percentile of the pairwise |differences| (from the stored offsets), and, with the data,
    the offsets re-measured on the CMU development trials."""
    rows = []
    for frames, measures in REAL_TRIAL_OFFSETS.items():
        for k, by_trial in measures.items():
            o = np.array(list(by_trial.values()))
            pairs = np.abs([a - b for a, b in combinations(o, 2)])
            rows.append({"leg_frames": frames, "measure": k, "trials": len(o),
                         "sd": o.std(ddof=1), "bound": offset_change_bound(o),
                         "pairwise_p90": np.quantile(pairs, 0.9), "pairwise_max": pairs.max()})
    return pd.DataFrame(rows)


def remeasured_offsets() -> pd.DataFrame | None:
    """The per-trial offsets re-measured on the CMU development trials (None without the
    data): compare them with :data:`REAL_TRIAL_OFFSETS`."""
    from benchmarks import cmu_real

    root = cmu_real.data_root()
    if root is None:
        return None
    out = []
    for sensor_set, frames in cmu_real.LEG_FRAMES.items():
        rows = [row for trial in cmu_real.TERM_TRIALS
                for row in cmu_real.rep_rows(cmu_real.run_trial(root, trial, sensor_set))]
        out.append(cmu_real.trial_offsets(rows, sensor_set).assign(leg_frames=frames))
    return pd.concat(out, ignore_index=True)


def run() -> None:
    table = pd.concat([pair_table(DEV_SEEDS).assign(guided=False),
                       pair_table(DEV_GUIDED_SEEDS, GUIDED_SETS, calibration_movement=True)
                       .assign(guided=True)], ignore_index=True)
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(f"development pairs: seeds {DEV_SEEDS.start}-{DEV_SEEDS.stop - 1} "
              f"({len(DEV_SEEDS)}), and {DEV_GUIDED_SEEDS.start}-{DEV_GUIDED_SEEDS.stop - 1} "
              f"with the guided bends ({len(DEV_GUIDED_SEEDS)}); error of the change of the "
              "median rep peak (measured - true)")
        print("per measure and sensor set:")
        print("  " + summarize(table, ["measure", "guided", "sensor_set"]).round(2)
              .to_string().replace("\n", "\n  "))
        print("per measure and the pair's leg frames (what the bound is keyed by):")
        print("  " + summarize(table, ["measure", "leg_frames"]).round(2)
              .to_string().replace("\n", "\n  "))
        print("real part: per-trial offsets of the median rep peak (ours - lab), CMU-MBL SUB22 "
              "development trials; bound = t(0.95, k-1) * sqrt(2) * sd")
        print("  " + real_part().round(2).to_string(index=False).replace("\n", "\n  "))
        again = remeasured_offsets()
        if again is None:
            print("  (offsets not re-measured: set STEPDOWN_CMU_DATA)")
        else:
            print("  re-measured offsets (deg):")
            print("  " + again.round(2).to_string(index=False).replace("\n", "\n  "))
