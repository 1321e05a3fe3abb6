"""Recording files: write and read (with full validation) time and file size.

Two sizes: a typical test (8 sensors at 100 Hz for 60 s, 48 k rows) and a long
session (8 sensors at 200 Hz for 10 min, 960 k rows), as Parquet and as CSV; the Parquet
file also read compact (float32 samples, as the analysis reads), with the memory its
samples take either way.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from benchmarks.timing import best_of
from sensor_io.recording import PLACEMENTS, Recording, SensorStream
from sensor_io.recording_io import read_recording, write_recording

G = 9.81


def synthetic_recording(rate_hz: float, duration_s: float, seed: int = 0) -> Recording:
    """All 8 placements swaying slowly: |a| ≈ g, |ω| up to ~2 rad/s, µT magnetometer."""
    rng = np.random.default_rng(seed)
    streams = {}
    for i, p in enumerate(PLACEMENTS):
        t = i * 1e-3 + np.arange(int(rate_hz * duration_s)) / rate_hz
        theta = 0.3 * np.sin(2 * np.pi * t)
        acc = G * np.column_stack([np.zeros_like(t), np.sin(theta), np.cos(theta)])
        gyr = np.column_stack([0.6 * np.pi * np.cos(2 * np.pi * t), np.zeros_like(t),
                               np.zeros_like(t)])
        mag = np.array([20.0, 0.0, -40.0]) + rng.normal(0, 0.5, (len(t), 3))
        streams[p] = SensorStream(t, acc + rng.normal(0, 0.02, acc.shape),
                                  gyr + rng.normal(0, 0.01, gyr.shape), mag)
    return Recording(streams=streams, test_leg="left", pain_nrs=[0, 1, 0, 0, 2])


def run() -> None:
    cases = (("typical test 8×100 Hz×60 s", 100.0, 60.0),
             ("long session 8×200 Hz×600 s", 200.0, 600.0))
    with tempfile.TemporaryDirectory() as tmp:
        for label, rate, duration in cases:
            rec = synthetic_recording(rate, duration)
            rows = sum(len(s) for s in rec.streams.values())
            print(f"{label}: {rows} rows")
            for suffix in (".parquet", ".csv"):
                path = Path(tmp) / f"r{suffix}"
                w = best_of(lambda p=path, r=rec: write_recording(r, p), 1)[0]
                r = best_of(lambda p=path: read_recording(p), 1)[0]
                size_mb = path.stat().st_size / 1e6
                print(f"  {suffix:8s} write {w:6.2f} s  read+validate {r:6.2f} s  "
                      f"{size_mb:7.2f} MB  ({rows / r / 1e6:.2f} M rows/s read)")
                if suffix == ".parquet":
                    _print_compact(path)


def _samples_mb(rec: Recording) -> float:
    """MB the streams' arrays hold (views of one block counted once per stream)."""
    return sum(a.nbytes for s in rec.streams.values() for a in (s.t, s.acc, s.gyr, s.mag)
               if a is not None) / 1e6


def _print_compact(path: Path) -> None:
    """Read time and the samples' memory of a plain and a compact read (analysis reads
    compact: float32 samples)."""
    full, compact = read_recording(path), read_recording(path, compact=True)
    r = best_of(lambda: read_recording(path, compact=True), 1)[0]
    print(f"  {'compact':8s} read+validate {r:6.2f} s; samples in memory "
          f"{_samples_mb(full):.0f} MB plain, {_samples_mb(compact):.0f} MB compact")
