"""Valid but unusual tests the analysis was not tuned on (issue 12): a sweep of variants.

Per variant, VARIANT_TESTS development tests (``simulate_batch(..., seed=SEED)``: neither
a training seed nor a held-out accuracy batch; the same seeds in every variant, so a
variant differs from the default only in what it changes) are simulated with pelvis,
thigh and shank sensors and analysed twice: with the shank and without it (the shank's
stream dropped; the simulator draws each sensor from its own stream, so that is the same
test simulated without a shank).  Printed per variant and sensor set:

1. tests, refusals (CalibrationError / InputError: a valid test refused), rep precision
   and recall against the truth, rep timing MAE (start, bottom, end; s), the test
   category's agreement with the truth's (``category``; arm and trunk are not assessed
   without a trunk or wrist sensor) and with the category of the truth's items the worn
   sensors assess (``seen_category``), and the share of rep errors inside the stated
   90 % uncertainty (all measures pooled, and the worst measure);
2. MAE, bias and slope of knee_medial_cm, hip_adduction_deg, hip_flexion_deg and
   pelvic_drop_deg against the truth;
3. the share inside the stated uncertainty per measure;
4. why each refused test was refused.

The default is the accuracy batches' world (drawn rates 52-200 Hz, 3-8 reps, leg and
profile drawn, heights 1.55-1.95 m, steps 0.15-0.25 m, no guided bends); a variant
overrides SimConfig fields.  docs/accuracy.md ("Variants not tuned on") quotes the figures.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from analysis.checklist import category
from analysis.evaluation import agreement, errors_against_uncertainty, rep_errors
from analysis.pipeline import analyze
from sensor_io.errors import InputError
from simulator.retest import with_sensors
from simulator.single_test import SEGMENT_CHOICES, Simulation, simulate_batch
from stepdown.truth_files import truth_document

VARIANT_TESTS = 12
SEED = 8000  # test seeds 800_000_000 + i: neither a training seed nor a held-out batch
SENSORS = ("pelvis", "thigh", "shank")
MEASURES = ("knee_medial_cm", "hip_adduction_deg", "hip_flexion_deg", "pelvic_drop_deg")


def every_sensor_at(rate_hz: float) -> dict[str, dict[str, float]]:
    """Overrides sampling every sensor at ``rate_hz``, Hz."""
    return {"rates_hz": dict.fromkeys(SEGMENT_CHOICES, rate_hz)}


VARIANTS: dict[str, dict] = {
    "default": {},
    "25 Hz": every_sensor_at(25.0),
    "50 Hz": every_sensor_at(50.0),
    "400 Hz": every_sensor_at(400.0),
    "mixed 52/104 Hz": {"rates_hz": {"pelvis": 52.0, "thigh": 104.0, "shank": 104.0}},
    "1 rep": {"n_reps": 1},
    "2 reps": {"n_reps": 2},
    "12 reps": {"n_reps": 12},
    "height 1.50 m": {"height_m": 1.50},
    "height 2.05 m": {"height_m": 2.05},
    "step 0.10 m": {"step_height_m": 0.10},
    "step 0.30 m": {"step_height_m": 0.30},
    "left leg": {"test_leg": "left"},
    "right leg": {"test_leg": "right"},
    "good": {"profile": "good"},
    "medium": {"profile": "medium"},
    "poor": {"profile": "poor"},
    "guided bends": {"calibration_movement": True},
    "1 rep, guided bends": {"n_reps": 1, "calibration_movement": True},
}
"""Variant name -> SimConfig overrides on top of the default batch."""


def without_shank(sim: Simulation) -> Simulation:
    """The simulated test with its shank sensor taken off (streams and metadata)."""
    return replace(sim, recording=with_sensors(sim.recording, ("pelvis", "thigh")))


@dataclass
class Outcome:
    """What a batch of tests gave for one variant and sensor set."""

    tests: list[dict] = field(default_factory=list)
    """Per test: ``refused`` (the error's text or None), ``n_pred``/``n_truth``/``n_matched``
    reps, ``category_agrees`` with the truth's category and ``seen_category_agrees`` with
    the category of the truth's items the worn sensors assess (both None when refused)."""
    errors: list[pd.DataFrame] = field(default_factory=list)
    """Per test: :func:`analysis.evaluation.rep_errors` tables (times s, measures)."""
    coverage: list[pd.DataFrame] = field(default_factory=list)
    """Per test: :func:`analysis.evaluation.errors_against_uncertainty` tables."""


def evaluate(sim: Simulation, out: Outcome) -> None:
    """Analyse one simulated test as the app does and add what it gave to ``out``."""
    truth = sim.truth["reps"]
    try:
        analysis = analyze(sim.recording)
    except InputError as err:  # CalibrationError is one
        out.tests.append({"refused": f"{type(err).__name__}: {err}", "n_pred": 0,
                          "n_truth": len(truth), "n_matched": 0, "category_agrees": None,
                          "seen_category_agrees": None})
        return
    errors, counts = rep_errors(analysis.reps, truth)
    test, true_test = analysis.to_json()["test"], truth_document(sim)["test"]
    seen = sum(true_test["items"][k] for k, v in test["items"].items() if v is not None)
    out.tests.append({"refused": None, **counts,
                      "category_agrees": test["category"] == true_test["category"],
                      "seen_category_agrees": test["category"] == category(seen)})
    out.errors.append(errors)
    out.coverage.append(errors_against_uncertainty(analysis.reps, truth,
                                                   analysis.series.knee_source,
                                                   analysis.calibration))


def sweep(variants: dict[str, dict] | None = None, n: int = VARIANT_TESTS, seed: int = SEED
          ) -> dict[tuple[str, str], Outcome]:
    """(variant, sensor set) -> Outcome of ``n`` tests per variant (default :data:`VARIANTS`)."""
    outcomes: dict[tuple[str, str], Outcome] = {}
    for name, overrides in (variants or VARIANTS).items():
        with_shank = outcomes.setdefault((name, "pelvis+thigh+shank"), Outcome())
        no_shank = outcomes.setdefault((name, "pelvis+thigh"), Outcome())
        for sim in simulate_batch(n, seed=seed, sensor_sets=(SENSORS,), **overrides):
            evaluate(sim, with_shank)
            evaluate(without_shank(sim), no_shank)
    return outcomes


def summary_row(out: Outcome) -> dict:
    """Reps, timing, refusals, category and coverage of one Outcome."""
    tests = pd.DataFrame(out.tests)
    row = {"tests": len(tests), "refused": int(tests.refused.notna().sum()),
           "precision": tests.n_matched.sum() / max(tests.n_pred.sum(), 1),
           "recall": tests.n_matched.sum() / max(tests.n_truth.sum(), 1),
           "category": tests.category_agrees.dropna().astype(float).mean(),
           "seen_category": tests.seen_category_agrees.dropna().astype(float).mean()}
    errors = pd.concat(out.errors, ignore_index=True) if out.errors else pd.DataFrame()
    row["timing_mae_s"] = (float(np.nanmean(np.abs(errors[["start_s_err", "bottom_s_err",
                                                          "end_s_err"]].to_numpy(float))))
                           if len(errors) else np.nan)
    cov = pd.concat(out.coverage, ignore_index=True) if out.coverage else pd.DataFrame()
    if len(cov):
        inside = (cov.abs_error <= cov.bound).groupby(cov.measure).mean()
        row["cov90"] = float((cov.abs_error <= cov.bound).mean())
        row["worst_cov90"] = f"{inside.min():.2f} {inside.idxmin().split(' ')[0]}"
    return row


def coverage_table(outcomes: dict[tuple[str, str], Outcome]) -> pd.DataFrame:
    """Per variant and sensor set (rows) and measure (columns): the share of rep errors
    inside the stated 90 % uncertainty."""
    rows = {}
    for key, out in outcomes.items():
        if out.coverage:
            cov = pd.concat(out.coverage, ignore_index=True)
            rows[key] = (cov.abs_error <= cov.bound).groupby(
                cov.measure.str.split(" ").str[0]).mean()
    return pd.DataFrame(rows).T


def measure_table(outcomes: dict[tuple[str, str], Outcome]) -> pd.DataFrame:
    """Per variant, sensor set and measure: n, MAE, bias, slope (the measure's unit)."""
    tables = []
    for (variant, sensors), out in outcomes.items():
        if not out.errors:
            continue
        errors = pd.concat(out.errors, ignore_index=True).assign(sensor_set=sensors)
        table = agreement(errors)
        tables.append(table[table.measure.isin(MEASURES)].assign(variant=variant))
    return pd.concat(tables, ignore_index=True)


def run() -> None:
    outcomes = sweep()
    print(f"{VARIANT_TESTS} development tests per variant (simulate_batch seed {SEED}; "
          "the same seeds in every variant)")
    summary = pd.DataFrame([{"variant": v, "sensors": s, **summary_row(o)}
                            for (v, s), o in outcomes.items()]).set_index(["variant", "sensors"])
    with pd.option_context("display.width", 250, "display.max_columns", 30,
                           "display.max_rows", 200):
        print("  " + summary.round(3).to_string().replace("\n", "\n  "))
        wide = measure_table(outcomes).pivot_table(
            index=["variant", "sensor_set"], columns="measure", values=["mae", "bias", "slope"],
            sort=False)
        for what in ("mae", "bias", "slope"):
            print(f"\n  {what} per measure (cm, deg):")
            print("  " + wide[what][list(MEASURES)].round(2).to_string().replace("\n", "\n  "))
        print("\n  share of rep errors inside the stated 90 % uncertainty, per measure:")
        print("  " + coverage_table(outcomes).round(2).to_string().replace("\n", "\n  "))
    refusals = [(v, s, t["refused"]) for (v, s), o in outcomes.items() for t in o.tests
                if t["refused"]]
    print(f"\n  refused: {len(refusals)}")
    for v, s, why in refusals:
        print(f"    {v} / {s}: {why}")
