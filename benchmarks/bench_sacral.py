"""What an athlete whose sacral soft tissue differs from the model costs.

The simulator's pelvis sensor reads an excess anterior tilt over the bone that builds over
its first 15 deg of tilt (``simulator.virtual_imu.sacral_tissue``), and the analysis takes
the same excess out (``analysis.soft_tissue``): both use the 8.5 deg (falling past 40 deg
of thigh inclination) measured on one real body (CMU-MBL SUB22; docs/real_data.md).  On the
simulator's default world the model is therefore exactly right, and simulated hip flexion cannot show
what a wrong model costs.
How much the excess varies between people is not known (one subject).  This benchmark
simulates the same tests with other excesses (the analysis keeps its own) and prints, per
excess, MAE, bias and slope of hip flexion, pelvic drop and hip adduction against the truth,
and how often the simulated part of the stated 90 % hip-flexion interval
(``analysis.uncertainty.measure_uncertainty``, without the model-to-reality term) holds the
error.
"""

from __future__ import annotations

import pandas as pd

from analysis.evaluation import agreement, errors_against_uncertainty, rep_errors, sensor_set_name
from analysis.pipeline import analyze
from simulator.single_test import simulate_batch
from simulator.virtual_imu import SACRAL_EXCESS_DEG

N_TESTS = 16
SEED = 47  # neither a training seed nor a held-out accuracy batch
EXCESSES_DEG = (0.0, 4.5, SACRAL_EXCESS_DEG, 10.0)
SENSOR_SETS = (("pelvis", "thigh"),)
MEASURES = ("hip_flexion_deg", "pelvic_drop_deg", "hip_adduction_deg")


def evaluate(excess_deg: float) -> tuple[pd.DataFrame, float]:
    """(agreement table, share of hip flexion errors inside the simulated bound) of
    N_TESTS pelvis + thigh tests whose sacral excess is ``excess_deg``."""
    errors, within = [], []
    for sim in simulate_batch(N_TESTS, seed=SEED, sensor_sets=SENSOR_SETS,
                              sacral_excess_deg=excess_deg):
        a = analyze(sim.recording, classify=False)
        errors.append(rep_errors(a.reps, sim.truth["reps"],
                                 sensor_set=sensor_set_name(sim.recording.placements))[0])
        held = errors_against_uncertainty(a.reps, sim.truth["reps"], a.series.knee_source,
                                          a.calibration)
        flexion = held[held.measure == "hip_flexion_deg"]
        within += list(flexion.abs_error <= flexion.bound)
    table = agreement(pd.concat(errors, ignore_index=True))
    return table[table.measure.isin(MEASURES)], sum(within) / max(len(within), 1)


def run() -> None:
    rows = []
    for excess in EXCESSES_DEG:
        table, covered = evaluate(excess)
        for r in table.itertuples():
            rows.append({"sacral excess deg": excess, "measure": r.measure, "n": r.n,
                         "mae": r.mae, "bias": r.bias, "slope": r.slope,
                         "hip flexion sim. bound holds": covered})
    out = pd.DataFrame(rows)
    print(f"{N_TESTS} pelvis + thigh tests (seed {SEED}) per excess; the analysis takes out "
          f"{SACRAL_EXCESS_DEG} deg:")
    with pd.option_context("display.width", 160):
        print(out.round(3).to_string(index=False))
