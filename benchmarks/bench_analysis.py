"""The whole analysis against the raw filter, and `stepdown analyze` wall time (issue 3, Speed).

Figures, in one run on the same data (simulated pelvis + thigh recordings, both
sensors at 100 Hz: a ~30 s test of 6 reps and a ~5 min one of 60 reps):

- raw vqf: ``offlineVQF`` (the mode file analysis uses) on the recording's own
  samples, and :func:`benchmarks.bench_orientation.vqf_throughput` on a synthetic
  signal of the same length, in samples/s;
- the whole analysis: load (Parquet) -> calibrate -> orient -> kinematics ->
  segment -> score, in samples/s, and its ratio to raw vqf (target ≥ 25 %);
  then a cProfile of one run: time per stage and the functions with the most
  own time (where to look when the target is missed);
- ``stepdown analyze FILE --json`` on the 30 s recording as a subprocess, wall
  time including interpreter start, best of 3 (target < 1.5 s), and how much of
  it is Python start-up plus imports.

Samples are counted per sensor sample (2 sensors × n samples = 2n), as in
bench_orientation. Every time is the best of REPEATS runs; on a busy 2-core
machine the short test's ratio moves by a few points from one run to the next
(the fixed cost there is mostly small numpy calls, which feel the load most), so
read several runs before calling a change.
"""

from __future__ import annotations

import cProfile
import os
import pstats
import subprocess
import sys
import tempfile
from pathlib import Path

from vqf import offlineVQF

from analysis.pipeline import analyze
from benchmarks.bench_orientation import vqf_throughput
from benchmarks.timing import best_of
from sensor_io.recording import Recording
from sensor_io.recording_io import read_recording, write_recording
from simulator.single_test import SimConfig, simulate

RATIO_TARGET = 0.25
CLI_TARGET_S = 1.5
SHORT_REPS, LONG_REPS = 6, 60
REPEATS = 3
HEAVY_IMPORTS = ("numpy", "pandas", "pyarrow.parquet", "scipy.signal", "scipy.spatial.transform",
                 "vqf", "sklearn", "skops.io")
# What an analysis of a file cannot do without (the import floor of `stepdown analyze`),
# and the classifier's model loading on top of it.
FLOOR = "numpy, pandas, pyarrow.parquet, scipy.signal, scipy.spatial.transform, vqf, typer, rich"
CLASSIFIER = "sklearn, skops.io"


def two_sensor_recording(n_reps: int, seed: int = 3) -> Recording:
    """A simulated pelvis + thigh test, both at 100 Hz, with sensor noise, bias and gaps."""
    cfg = SimConfig(seed=seed, sensors=("pelvis", "thigh"), n_reps=n_reps, profile="medium",
                    rates_hz={"pelvis": 100.0, "thigh": 100.0})
    return simulate(cfg).recording


def n_samples(rec: Recording) -> int:
    return sum(len(s) for s in rec.streams.values())


def raw_vqf_s(rec: Recording) -> float:
    """Best time (s) of offlineVQF over every sensor's own samples (no resampling, no checks)."""
    def once() -> None:
        for s in rec.streams.values():
            offlineVQF(s.gyr, s.acc, None, 1.0 / s.rate_hz)
    return best_of(once, REPEATS)[0]


# Stages of analyze() by the function that does each, found in a profile of the
# real call (so the breakdown follows analyze() as it changes): (label, file, function).
STAGES = (
    ("load", "recording_io.py", "read_recording"),
    ("standing window", "calibrate.py", "standing_window"),
    ("orient (vqf + resampling)", "segment_motion.py", "sensor_orientations"),
    ("of which vqf", "orientation.py", "estimate_orientation"),
    ("calibrate frames", "calibrate.py", "calibrate"),
    ("segment motion (onto the grid)", "segment_motion.py", "segment_motion"),
    ("walking bouts", "pipeline.py", "_walking"),
    ("rep segmentation", "rep_segmentation.py", "segment"),
    ("heading drift", "segment_motion.py", "correct_heading_drift"),
    ("measure series", "measures.py", "measure_series"),
    ("scoring", "checklist.py", "score_test"),
)


def profile_breakdown(path: Path, top: int = 6) -> tuple[dict[str, float], list[str]]:
    """cProfile of one read_recording (compact, as ``stepdown analyze`` reads) + analyze:
    seconds per stage (cumulative, stages of STAGES found in the profile; a stage called
    more than once, e.g. rep segmentation per set, is summed) and the ``top`` functions by
    own time, as text lines."""
    prof = cProfile.Profile()
    prof.enable()
    analyze(read_recording(path, compact=True))
    prof.disable()
    stats = pstats.Stats(prof).stats  # (file, line, func) -> (cc, nc, own s, cumulative s, ...)
    stages = {}
    for label, file, func in STAGES:
        hits = [v[3] for (f, _, fn), v in stats.items() if fn == func and f.endswith(file)]
        if hits:
            stages[label] = sum(hits)
    by_own = sorted(stats.items(), key=lambda kv: -kv[1][2])[:top]
    hot = [f"{Path(f).name}:{line} {fn} {v[2] * 1e3:.1f} ms own ({v[1]} calls)"
           for (f, line, fn), v in by_own]
    return stages, hot


def whole_analysis_s(path: Path) -> float:
    """Best wall time (s) of read_recording (compact, as the CLI) + analyze (scoring
    included)."""
    return best_of(lambda: analyze(read_recording(path, compact=True)), REPEATS)[0]


def stepdown_command() -> list[str]:
    """The installed ``stepdown`` script beside this interpreter, else ``python -m stepdown``."""
    script = Path(sys.executable).with_name("stepdown")
    return [str(script)] if script.exists() else [sys.executable, "-m", "stepdown"]


def cli_wall_s(args: list[str], repeats: int = REPEATS) -> float:
    """Best wall time (s) of a fresh process (interpreter start included); it must exit 0."""
    env = {**os.environ, "STEPDOWN_HOME": tempfile.gettempdir()}

    def once() -> None:
        done = subprocess.run(args, capture_output=True, text=True, env=env, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} exited {done.returncode}: "
                               f"{done.stderr.strip().splitlines()[-1:]}")
    return best_of(once, repeats)[0]


def _report_throughput(label: str, rec: Recording, path: Path) -> None:
    n = n_samples(rec)
    raw = raw_vqf_s(rec)
    synthetic = vqf_throughput(n // len(rec.streams), mode="offline")
    whole = whole_analysis_s(path)
    ratio = raw / whole
    print(f"{label}: {len(rec.streams)} sensors, {rec.duration_s:.0f} s, {n} samples")
    print(f"  raw vqf (offline) on these samples {n / raw / 1e6:6.2f} M samples/s "
          f"(synthetic, same length: {synthetic / 1e6:.2f} M samples/s)")
    print(f"  whole analysis (load..score)       {n / whole / 1e6:6.2f} M samples/s "
          f"= {ratio:.0%} of raw vqf (target >= {RATIO_TARGET:.0%}: "
          f"{'met' if ratio >= RATIO_TARGET else 'MISSED'}); {whole * 1e3:.0f} ms")
    stages, hot = profile_breakdown(path)
    print("  profiled stages: " + ", ".join(f"{k} {v * 1e3:.1f} ms" for k, v in stages.items()))
    print("  most own time: " + "; ".join(hot))


def run() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        files = {}
        for label, reps in (("short", SHORT_REPS), ("long", LONG_REPS)):
            rec = two_sensor_recording(reps)
            files[label] = Path(tmp) / f"{label}.parquet"
            write_recording(rec, files[label])
            _report_throughput(f"{label} test ({reps} reps)", rec, files[label])

        start_only = cli_wall_s([sys.executable, "-c", "pass"])
        imports = cli_wall_s([sys.executable, "-c", "import stepdown.cli, analysis.pipeline"])
        help_s = cli_wall_s(stepdown_command() + ["--help"])
        cli = cli_wall_s(stepdown_command() + ["analyze", str(files["short"]), "--json"])
        print(f"stepdown analyze FILE --json, {read_recording(files['short']).duration_s:.0f} s "
              f"two-sensor test, fresh process, best of {REPEATS}: {cli:.2f} s "
              f"(target < {CLI_TARGET_S} s: {'met' if cli < CLI_TARGET_S else 'MISSED'})")
        print(f"  of which: bare interpreter {start_only:.2f} s, importing stepdown.cli + "
              f"analysis.pipeline {imports:.2f} s, `stepdown --help` {help_s:.2f} s")
        alone = {m: cli_wall_s([sys.executable, "-c", f"import {m}"]) for m in HEAVY_IMPORTS}
        floor = cli_wall_s([sys.executable, "-c", f"import {FLOOR}"])
        with_cls = cli_wall_s([sys.executable, "-c", f"import {FLOOR}, {CLASSIFIER}"])
        print(f"  import floor of an analysis ({FLOOR}): {floor:.2f} s; "
              f"with the classifier's {CLASSIFIER}: {with_cls:.2f} s")
        print("  each import alone in a fresh interpreter (overlapping: scipy and sklearn import "
              "numpy): " + ", ".join(f"{m} {v:.2f} s" for m, v in alone.items()))


if __name__ == "__main__":
    run()
