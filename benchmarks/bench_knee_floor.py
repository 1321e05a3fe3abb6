"""What would bring the knee item to its 95 % floor without a shank sensor (issue 12).

Without a shank, with the guided knee bends, the knee is the hip's measured sideways shift
over the foot minus the thigh's long axis times its length (bench_knee_offsets); its two
per-test offsets are the thigh's flexion-axis heading found in the bends and the hip's
measured shift. On the development worlds of bench_knee_offsets (default seed 910,
shifted seed 906; never a held-out batch of tests/conftest.py) this benchmark replaces
each by the simulator's truth and prints, per case, the knee's MAE / bias / slope (cm,
per sensor set and pooled) and the knee item's agreement on clear reps (the true knee more
than 0.5 cm from a threshold, counted as bench_knee_offsets and
tests/test_analysis/test_scoring_accuracy.py count them):

1. as shipped;
2. the thigh's heading about its long axis set to the simulated mounting's (oracle thigh
   heading), all else as shipped;
3. the hip's sideways shift over the ankle replaced by the true one (oracle hip term);
4. both;
5. the true thigh heading plus a random error of sd 0.25-1.0 deg (:data:`HEADING_SD_DEG`,
   :data:`HEADING_DRAWS` draws per test from a fixed rng, the same standard normal draws
   scaled for every sd), the hip as shipped and, in a second row, the true hip;
6. protocols the recorder could ask for (:data:`PROTOCOLS`, new simulations of the same
   tests with only the guided bends changed: :class:`simulator.single_test.SimConfig`
   ``guided_bends``, ``guided_depth``), as shipped and with the true hip, with the bends'
   heading error (mean absolute, median, max). Deeper bends keep every other draw of a
   test; more bends lengthen the recording, so its sway and noise are drawn anew.

The oracles are injected around the shipped analysis, never inside it: the thigh's frame
is turned after the calibration (:func:`with_thigh_heading`), and the hip shift's function
is swapped for the truth while one test is analysed (:func:`analysed`).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pandas as pd

from analysis import measures, pipeline
from analysis.evaluation import agreement, rep_errors, sensor_set_name
from benchmarks.bench_knee_offsets import (
    NO_SHANK,
    WORLDS,
    axis_heading_deg,
    knee_items,
    true_hip_over_m,
)
from benchmarks.long_axis_heading import turned_to_heading
from calibration import Calibration
from calibration.calibrate import GUIDED_METHOD
from sensor_io.errors import InputError
from simulator.single_test import Simulation, simulate_batch

N_TESTS = 60
FLOOR_WORLDS = {k: WORLDS[k] for k in ("default, seed 910", "shifted, seed 906")}
HEADING_SD_DEG = (0.25, 0.5, 0.75, 1.0)
HEADING_DRAWS = 2
"""Heading errors drawn per test and sd (each analysed): more reps for the same sims."""
HEADING_RNG_SEED = 12
PROTOCOLS = {"5 bends": dict(guided_bends=5),
             "bends twice as deep (0.8-1.0)": dict(guided_depth=(0.8, 1.0)),
             "5 bends twice as deep": dict(guided_bends=5, guided_depth=(0.8, 1.0))}
FLOOR = 0.95


def with_thigh_heading(cal: Calibration, sim: Simulation, error_deg: float = 0.0) -> Calibration:
    """The calibration with the test thigh's frame turned about its long axis (y) so that
    its heading error against the simulated mounting is ``error_deg``; its tilt (from the
    standing gravity) is left as found.

    Parameters
    ----------
    cal : Calibration
        The analysis's calibration of ``sim``'s recording.
    sim : Simulation
        The simulated test (its thigh sensor's true mounting, ``R_seg_sensor``).
    error_deg : float
        The heading error left, deg, in the sense :func:`axis_heading_deg` reads it.

    Returns
    -------
    Calibration
        A copy; ``cal`` is unchanged.
    """
    placement = f"thigh_{sim.recording.test_leg}"
    return turned_to_heading(cal, placement, sim.sensors[placement].R_seg_sensor.T, error_deg)


@contextmanager
def _oracles(sim: Simulation, heading_error_deg: float | None, true_hip: bool) -> Iterator[None]:
    """While inside: the analysis calibrates with the thigh's heading error set to
    ``heading_error_deg`` (None: as found) and, with ``true_hip``, takes the hip's
    sideways shift over the ankle from the simulator's truth."""
    calibrated, shift = pipeline._calibrated, measures.hip_medial_shift_m

    def oracle_calibrated(*args, **kwargs):
        return with_thigh_heading(calibrated(*args, **kwargs), sim, heading_error_deg)

    def true_shift(t, *args, **kwargs):
        return true_hip_over_m(sim, t)[1]

    if heading_error_deg is not None:
        pipeline._calibrated = oracle_calibrated
    if true_hip:
        measures.hip_medial_shift_m = true_shift
    try:
        yield
    finally:
        pipeline._calibrated, measures.hip_medial_shift_m = calibrated, shift


def analysed(sim: Simulation, heading_error_deg: float | None = None, true_hip: bool = False):
    """The shipped analysis of a simulated test (no classifier), with the oracles asked for.

    Parameters
    ----------
    sim : Simulation
        The simulated test.
    heading_error_deg : float or None
        The thigh's heading error to leave, deg (0: the true heading); None: as found.
    true_hip : bool
        The hip's sideways shift over the ankle from the truth (only where the analysis
        measures it: a thigh frame from the guided bends).

    Returns
    -------
    analysis.pipeline.Analysis
        The analysis; InputError where it refuses the recording.
    """
    with _oracles(sim, heading_error_deg, true_hip):
        return pipeline.analyze(sim.recording, classify=False)


def _case_rows(sim: Simulation, analysis) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One test's knee errors (rep_errors) and knee items (knee_items), by sensor set."""
    name = sensor_set_name(sim.recording.placements)
    errors = rep_errors(analysis.reps, sim.truth["reps"], sensor_set=name)[0]
    return errors, knee_items(analysis, sim).assign(sensor_set=name)


def _cases(z: np.ndarray) -> dict[str, tuple[float | None, bool]]:
    """Case name -> (heading error, deg, or None as found; true hip) for one test whose
    standard normal heading draws are ``z``."""
    cases: dict[str, tuple[float | None, bool]] = {
        "as shipped": (None, False), "true thigh heading": (0.0, False),
        "true hip term": (None, True), "both true": (0.0, True)}
    for sd in HEADING_SD_DEG:
        for hip in (False, True):
            for j, zj in enumerate(z):
                label = f"true heading + sd {sd:.2f} deg" + (", true hip" if hip else "")
                cases[f"{label}#{j}"] = (float(sd * zj), hip)
    return cases


def collect(seed: int, world: dict, protocol: dict | None = None) -> dict:
    """Every case's knee errors and items over the development tests of one world (a
    protocol: as shipped and with the true hip only), and the bends' heading errors."""
    rng = np.random.default_rng(HEADING_RNG_SEED)
    out: dict[str, dict[str, list]] = {}
    headings, refused, not_guided = [], 0, 0
    for sim in simulate_batch(N_TESTS, seed=seed, sensor_sets=NO_SHANK,
                              calibration_movement=True, **world, **(protocol or {})):
        z = rng.standard_normal(HEADING_DRAWS)  # drawn for every test: the same per world
        cases = ({"as shipped": (None, False), "true hip term": (None, True)} if protocol
                 else _cases(z))
        try:
            shipped = analysed(sim)
        except InputError:
            refused += 1
            continue
        thigh = shipped.calibration.sensors[f"thigh_{sim.recording.test_leg}"]
        not_guided += not thigh.method.startswith(GUIDED_METHOD)
        headings.append(axis_heading_deg(sim, shipped.calibration))
        for case, (heading, hip) in cases.items():
            a = shipped if (heading, hip) == (None, False) else analysed(sim, heading, hip)
            errors, items = _case_rows(sim, a)
            name = case.split("#")[0]
            out.setdefault(name, {"errors": [], "items": []})
            out[name]["errors"].append(errors)
            out[name]["items"].append(items)
    return {"cases": {k: (pd.concat(v["errors"], ignore_index=True),
                          pd.concat(v["items"], ignore_index=True)) for k, v in out.items()},
            "headings": np.abs(headings), "refused": refused, "not_guided": not_guided}


def case_figures(errors: pd.DataFrame, items: pd.DataFrame) -> dict:
    """Knee MAE / bias / slope (cm) per sensor set and pooled, and the knee item on clear
    reps (agreement, count)."""
    knee = agreement(pd.concat([errors, errors.assign(sensor_set="pooled")]))
    knee = knee[knee.measure == "knee_medial_cm"].set_index("sensor_set")
    clear = items[items.rule & items.clear]
    return {"knee": knee, "right": int((clear.pred == clear.true).sum()), "clear": len(clear)}


def _spread(abs_deg: np.ndarray) -> str:
    return (f"{abs_deg.mean():.2f} deg mean absolute, median {np.median(abs_deg):.2f}, "
            f"max {abs_deg.max():.2f}")


def _line(name: str, f: dict) -> str:
    k = f["knee"]
    sets = " · ".join(f"{k.loc[s].mae:.2f} / {k.loc[s].bias:+.2f} / {k.loc[s].slope:.2f}"
                      for s in k.index if s != "pooled")
    p = k.loc["pooled"]
    share = f["right"] / max(f["clear"], 1)
    return (f"  {name:44s} knee {p.mae:.2f} / {p.bias:+.2f} / {p.slope:.2f} cm ({sets}) | "
            f"item {f['right']}/{f['clear']} = {share:.3f}{'  >= floor' if share >= FLOOR else ''}")


def run() -> None:
    print(f"knee MAE / bias / slope (cm) pooled (pelvis+thigh · pelvis+thigh+trunk) | knee item "
          f"on clear reps; {N_TESTS} development tests per world, guided bends, no shank; "
          f"heading-error cases pool {HEADING_DRAWS} draws per test")
    for title, (seed, world) in FLOOR_WORLDS.items():
        start = time.perf_counter()
        base = collect(seed, world)
        h = base["headings"]
        print(f"\n{title}: {len(h)} tests analysed ({base['refused']} refused, "
              f"{base['not_guided']} without the thigh's frame from the bends); bends' heading "
              f"error {_spread(h)}")
        for name, (errors, items) in base["cases"].items():
            print(_line(name, case_figures(errors, items)))
        for protocol, settings in PROTOCOLS.items():
            out = collect(seed, world, settings)
            h = out["headings"]
            print(f"  protocol '{protocol}': {len(h)} tests ({out['refused']} refused, "
                  f"{out['not_guided']} without the bends' frame); bends' heading error "
                  f"{_spread(h)}")
            for name, (errors, items) in out["cases"].items():
                print(_line(f"  {name}", case_figures(errors, items)))
        print(f"  ({time.perf_counter() - start:.0f} s)", flush=True)
