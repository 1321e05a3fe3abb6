"""The simulator against real signals: standing sway, angular speeds, impacts (issue 12).

Reads the development trials of one subject of the public CMU-MBL
``IMU_Exercise_Prediction`` dataset from a local clone named by ``STEPDOWN_CMU_DATA``
(nothing of it is in this repository; skipped when unset). ``StepDnH``/``StepDnL``
are held out for acceptance and never read here. Prints, per segment, for real
trials and for simulated whole-body tests (docs/simulator.md):

- ``still_dps``: gyro variation (rms about its mean, so a gyro bias does not count) over
  the stillest 1 s (sway while standing), °/s;
- ``speed_p99_dps``: 99th percentile of the angular speed over the file, °/s;
- ``impact_p99_ms2``: 99.5th percentile of the high-passed (> 4 Hz) specific-force
  magnitude, m/s².
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy.signal import butter, sosfiltfilt

from benchmarks.cmu_real import HELD_OUT, data_root, trial_dir
from sensor_io.xsens_csv import read_xsens_file
from simulator.single_test import SimConfig, simulate

DEV_TRIALS = ("Pose", "SqSL", "SqHalfSL", "StepUpH", "StepUpL")
SEGMENT_OF = {"Pelvis": "pelvis", "Chest": "trunk", "LeftThigh": "thigh", "RightThigh": "thigh",
              "LeftShank": "shank", "RightShank": "shank"}
N_SIM = 6


def signal_stats(acc: np.ndarray, gyr: np.ndarray, rate_hz: float) -> dict[str, float]:
    """The three figures of one sensor: acc (N,3) m/s², gyr (N,3) rad/s."""
    speed = np.degrees(np.linalg.norm(gyr, axis=1))
    n = min(int(rate_hz), len(gyr))
    box = np.ones(n) / n
    var = sum(np.convolve(g * g, box, "valid") - np.convolve(g, box, "valid") ** 2
              for g in np.degrees(gyr).T)
    still = float(np.sqrt(np.maximum(var, 0.0)).min())
    sos = butter(2, 4.0, "highpass", fs=rate_hz, output="sos")
    impact = np.abs(sosfiltfilt(sos, np.linalg.norm(acc, axis=1))) if len(acc) > 30 else acc[:, 0] * 0
    return {"still_dps": still, "speed_p99_dps": float(np.percentile(speed, 99)),
            "impact_p99_ms2": float(np.percentile(impact, 99.5))}


def real_table(root: Path) -> pd.DataFrame:
    rows = []
    for trial in DEV_TRIALS:
        assert trial not in HELD_OUT
        for path in sorted(trial_dir(root, trial).glob("*.csv")):
            for sensor, q in read_xsens_file(path).sensors.items():
                if sensor in SEGMENT_OF:
                    rows.append({"source": f"real {trial}", "segment": SEGMENT_OF[sensor],
                                 **signal_stats(q["Accelerometer"], q["Gyroscope"], 100.0)})
    return pd.DataFrame(rows)


def sim_table() -> pd.DataFrame:
    rows = []
    for seed in range(N_SIM):
        sim = simulate(SimConfig(seed=900 + seed, sensors=("pelvis", "thigh", "shank", "trunk")))
        stand = sim.scenario.standing_s
        for name, s in sim.recording.streams.items():
            seg = name.split("_")[0]
            calib = s.t < stand - 0.2
            rows.append({"source": "simulated, calibration standing", "segment": seg,
                         **signal_stats(s.acc[calib], s.gyr[calib], s.rate_hz)})
            rows.append({"source": "simulated, whole test", "segment": seg,
                         **signal_stats(s.acc, s.gyr, s.rate_hz)})
    return pd.DataFrame(rows)


def run() -> None:
    root = data_root()
    tables = [sim_table()]
    if root is not None:
        tables.append(real_table(root))
    else:
        print("STEPDOWN_CMU_DATA not set (or not the clone): simulator figures only")
    table = pd.concat(tables, ignore_index=True)
    summary = table.groupby(["source", "segment"]).median().round(2).unstack("segment")
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print("medians per file (real) or test (simulated):")
        print("  " + summary.to_string().replace("\n", "\n  "))
