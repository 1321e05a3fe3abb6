"""`stepdown simulate` and `make demo`: how long a simulated test and the demo take.

Figures: simulate (5 reps, minimum set and all five sensors), truth document,
Parquet write, the --plot PNG, and one whole `python -m stepdown.demo` run.
"""

from __future__ import annotations

import contextlib
import io
import tempfile
from functools import partial
from pathlib import Path

from benchmarks.timing import best_of
from sensor_io.recording_io import write_recording
from simulator.single_test import SimConfig, simulate
from stepdown import demo
from stepdown.truth_files import plot_recording, truth_document


def run() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for sensors in (("pelvis", "thigh"), ("pelvis", "thigh", "shank", "trunk", "wrist")):
            cfg = SimConfig(seed=2, sensors=sensors, profile="poor", n_reps=5)
            path = Path(tmp) / "t.parquet"
            t_sim, sim = best_of(partial(simulate, cfg))
            t_truth, _ = best_of(partial(truth_document, sim, cfg))
            t_write, _ = best_of(partial(write_recording, sim.recording, path))
            print(f"{len(sensors)} sensors, {sim.recording.duration_s:.0f} s test: simulate "
                  f"{t_sim:.2f} s, truth {t_truth * 1e3:.1f} ms, write {t_write * 1e3:.0f} ms "
                  f"({path.stat().st_size / 1e6:.2f} MB)")
        t_plot, _ = best_of(partial(plot_recording, sim.recording, sim.truth,
                                   Path(tmp) / "t.png"), repeats=1)
        print(f"--plot PNG (5 sensors): {t_plot:.2f} s")
    with contextlib.redirect_stdout(io.StringIO()):
        t_demo, _ = best_of(partial(demo.main, []), repeats=1)
    print(f"demo over data/ (with the analysis if present): {t_demo:.2f} s")
