"""The pelvis frame's heading from the guided bends against the simulator's truth.

Per simulated test with the guided knee bends (pelvis + thigh, development seeds 903 and
904, neither a training seed nor a held-out batch): the heading error (deg) of the
pelvis frame from the sacral skin normal alone, from the bends alone and fused
(:mod:`calibration.pelvis_heading`), as the estimated lateral axis turned forward against
the true one (``bench_bias_mechanisms``' psi); the stated sd as a promise (the sd of
error / stated sd, and the share of errors within 1.645 stated sd); and the bends' weight
where they sway least and most.  Prints one row per world.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from analysis.pipeline import session_calibration
from benchmarks.bench_bias_mechanisms import SHIFTED
from calibration.pelvis_heading import turned_about_vertical
from calibration.segment_frames import frame_from_normal
from simulator.single_test import Simulation, simulate_batch

N_TESTS = 80
WORLDS = {"default world (seed 903)": (903, {}), "shifted world (seed 904)": (904, SHIFTED)}


def _psi_deg(sim: Simulation, R_sensor_seg: np.ndarray) -> float:
    error = sim.sensors["pelvis"].R_seg_sensor @ R_sensor_seg
    return float(np.degrees(np.arctan2(error[0, 2], error[2, 2])))


def heading_errors(sims: Iterable[Simulation]) -> pd.DataFrame:
    """Per test: heading error (deg) of the skin normal alone (``normal``), the bends alone
    (``bends``) and the calibrated frame (``fused``), the stated sd (deg), the bends'
    weight and their sway (the athlete's sway times the share standing on both feet
    gives, deg)."""
    rows = []
    for sim in sims:
        cal = session_calibration(sim.recording).sensors["pelvis"]
        normal = frame_from_normal(cal.R_sensor_seg[:, 1], -1.0).R_sensor_seg
        x = cal.R_sensor_seg[:, 0]
        turn = np.arctan2(x @ normal[:, 2], x @ normal[:, 0])  # the fused turn, rad
        weight = cal.bends_weight or 0.0
        bends = turned_about_vertical(normal, turn / weight) if weight else normal
        rows.append({"normal": _psi_deg(sim, normal), "bends": _psi_deg(sim, bends),
                     "fused": _psi_deg(sim, cal.R_sensor_seg), "stated_sd": cal.heading_sd_deg,
                     "weight": weight,
                     "bends_sway": sim.scenario.sway_deg * sim.scenario.standing_sway_share})
    return pd.DataFrame(rows)


def rms(x: pd.Series | np.ndarray) -> float:
    """Root mean square."""
    return float(np.sqrt(np.mean(np.square(x))))


def run() -> None:
    out = []
    for world, (seed, options) in WORLDS.items():
        e = heading_errors(simulate_batch(N_TESTS, seed=seed, sensor_sets=(("pelvis", "thigh"),),
                                          calibration_movement=True, **options))
        most = e.bends_sway >= e.bends_sway.median()
        out.append({"world": world, "tests": len(e), "skin normal rms": rms(e.normal),
                    "bends rms": rms(e.bends), "fused rms": rms(e.fused),
                    "z sd": float(np.std(e.fused / e.stated_sd)),
                    "within 1.645 sd": float(np.mean(e.fused.abs() <= 1.645 * e.stated_sd)),
                    "weight, calmer half": e.weight[~most].mean(),
                    "weight, swaying half": e.weight[most].mean()})
    print(f"pelvis heading error (deg) with the guided bends, {N_TESTS} tests per world:")
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print("  " + pd.DataFrame(out).round(2).to_string(index=False).replace("\n", "\n  "))
