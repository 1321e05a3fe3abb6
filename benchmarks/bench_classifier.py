"""Per-rep features and the rep classifier: what they add to one analysis, and training cost.

Figures: model load (once per process), rep_features and classify_reps per test
(pelvis + thigh and full set), and train() on the labelled reps of 40 simulated
tests (5-fold grouped CV of 3 targets plus the final fits).
"""

from __future__ import annotations

import time

from analysis import classifier as clf
from analysis.features import rep_features
from analysis.pipeline import analyze
from simulator.single_test import SimConfig, simulate
from stepdown.commands.train import simulated_training_set


def _ms(fn, repeat: int = 20) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return 1000.0 * (time.perf_counter() - start) / repeat


def run() -> None:
    clf.shipped_model.cache_clear()
    start = time.perf_counter()
    model = clf.shipped_model()
    print(f"load shipped model: {1000 * (time.perf_counter() - start):.0f} ms "
          f"({clf.SHIPPED_MODEL.stat().st_size / 1e3:.0f} kB)")
    if model is None:
        print("no shipped model: classification figures skipped")
    for sensors in (("pelvis", "thigh"), ("pelvis", "thigh", "shank", "trunk", "wrist")):
        sim = simulate(SimConfig(seed=5, sensors=sensors, profile="poor", n_reps=8))
        a = analyze(sim.recording, classify=False)
        table = rep_features(a)
        feat_ms = _ms(lambda a=a: rep_features(a))
        line = f"{'+'.join(sensors):34s} {len(a.reps)} reps: rep_features {feat_ms:.1f} ms"
        if model is not None:
            ms = _ms(lambda a=a, t=table: clf.classify_reps(t, a.reps, model, min_kappa=0.0))
            line += f", classify_reps {ms:.1f} ms"
        print(line)
    table = simulated_training_set(40, seed=7)
    start = time.perf_counter()
    clf.train(table, source="bench")
    print(f"train on {len(table)} reps of 40 athletes (5-fold grouped CV + fit, 3 targets): "
          f"{time.perf_counter() - start:.1f} s")
