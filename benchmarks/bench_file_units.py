"""The per-file unit check of the Xsens CSV import against every real development file.

``sensor_io.xsens_csv.check_file_units`` refuses one rep file whose accelerometer can only
be in g or gyroscope only in °/s. Here, over every rep file of the subject's development
trials of the public CMU-MBL dataset (``STEPDOWN_CMU_DATA``; ``StepDnH``/``StepDnL`` held
out and never read): per file and sensor, the median |a| (m/s²) and the 99th percentile of
the largest axis |ω| (rad/s), how many real files the check refuses (must be 0), and how
many it refuses when the same files are written in g or in °/s (what it catches).
Skipped when the clone is not there.
"""

from __future__ import annotations

import numpy as np

from benchmarks.cmu_real import HELD_OUT, SUBJECT, data_root
from sensor_io.errors import InputError
from sensor_io.xsens_csv import (
    FILE_ACC_IN_G,
    FILE_GYR_AXIS_Q99_MAX,
    check_file_units,
    read_xsens_file,
)

G = 9.80665


def _refused(acc: np.ndarray, gyr: np.ndarray) -> bool:
    try:
        check_file_units(acc, gyr, "")
    except InputError:
        return True
    return False


def run() -> None:
    root = data_root()
    if root is None:
        print("skipped: set STEPDOWN_CMU_DATA to a clone of CMU-MBL/IMU_Exercise_Prediction")
        return
    trials = sorted(d for d in (root / "data" / "parsed_h5_csv" / SUBJECT).iterdir()
                    if d.is_dir() and d.name not in HELD_OUT)
    med, q99, refused = [], [], np.zeros(3, dtype=int)
    for trial in trials:
        for path in sorted(trial.glob("*.csv")):
            for cols in read_xsens_file(path).sensors.values():
                acc, gyr = cols["Accelerometer"], cols["Gyroscope"]
                ok = np.isfinite(acc).all(axis=1) & np.isfinite(gyr).all(axis=1)
                acc, gyr = acc[ok], gyr[ok]
                med.append(np.median(np.linalg.norm(acc, axis=1)))
                q99.append(np.quantile(np.abs(gyr).max(axis=1), 0.99))
                refused += [_refused(acc, gyr), _refused(acc / G, gyr),
                            _refused(acc, np.degrees(gyr))]
    n = len(med)
    lo, hi = FILE_ACC_IN_G
    print(f"{len(trials)} development trials, {n} file-sensor streams")
    print(f"median |a| per file: {min(med):.2f}-{max(med):.1f} m/s² "
          f"(refused as g: {lo:g}-{hi:g})")
    print(f"99th percentile of the largest axis |ω|: {min(q99):.3f}-{max(q99):.2f} rad/s "
          f"(refused as °/s: > {FILE_GYR_AXIS_Q99_MAX:.1f})")
    print(f"refused as read: {refused[0]}; written in g: {refused[1]} ({refused[1] / n:.1%}); "
          f"gyro written in °/s: {refused[2]} ({refused[2] / n:.1%})")
