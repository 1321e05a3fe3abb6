"""Fast at every size (issue 22): cold start per command; analysis time, peak memory and
throughput against raw vqf from a 30 s test to a 60 min session; scaling exponents.

Figures, in one run:

- **cold start per command**: a fresh ``stepdown`` process per run, bytecode already
  cached (one warm-up run first), median of COLD_RUNS: wall time, CPU time (user + sys of
  the child, which a busy machine inflates less than wall time) and peak RSS. Every
  command's ``--help`` (what importing its module costs), then ``info`` and
  ``analyze --json`` on the 30 s sample test ``data/good_left_pelvis_thigh.parquet``.
  Floors: ``--help`` 0.3 s, ``info`` 0.4 s, ``analyze --json`` 0.6 s.
- **sessions** of 0.5, 5, 20 and 60 min (:func:`simulator.session.simulate_session`:
  five sensors at 100-200 Hz, sets of 5 reps, 60 s rests, 20 s walks; made once and kept in
  the temporary directory with their truth), each analysed in SESSION_RUNS processes of
  its own (medians; a ratio is taken within one process, then its median): the reps
  found against the truth (and those found in none of its reps), wall and CPU time of
  read_recording + analyze, samples/s, raw ``offlineVQF`` on the same samples in the same
  process and the ratio (target >= 70 %), peak RSS (target <= 500 MiB at 60 min) and the
  RSS above the process's own baseline after its imports.
- **scaling exponents**: slope of log(CPU time) and of log(RSS above baseline) against
  log(samples) over the 5, 20 and 60 min sessions (target <= 1.05; the 30 s test is left
  out of the fit, its fixed costs dominate).

Timed figures on the shared 2-core machine move with its load: read CPU time beside wall
time, and several runs before calling a change.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.bench_analysis import profile_breakdown, stepdown_command

ROOT = Path(__file__).resolve().parent.parent
SHORT_TEST = ROOT / "data" / "good_left_pelvis_thigh.parquet"
COLD_RUNS = 5
FLOORS_S = {"--help": 0.3, "info": 0.4, "analyze --json": 0.6}
SESSION_MINUTES = (0.5, 5.0, 20.0, 60.0)
SESSION_RATES_HZ = {"pelvis": 100.0, "thigh": 200.0, "shank": 200.0, "trunk": 100.0,
                    "wrist": 100.0}
SESSION_SEED = 22
SESSION_RUNS = 3  # processes per session: medians (one run moves with the shared machine's load)
PROFILED_MINUTES = 20.0  # the session whose stages are profiled (issue 22's throughput case)
RATIO_TARGET = 0.70
RSS_TARGET_MIB = 500.0
EXPONENT_TARGET = 1.05
MATCH_S = 0.3  # a rep found matches a true one when their bottoms are this close (s)

# One analysis in a fresh process: imports, baseline RSS, then load + analyze (timed), peak
# RSS, then raw offlineVQF over every sensor's own samples (timed). Prints one JSON line.
_CHILD = r"""
import json, sys, time
import numpy as np
from vqf import offlineVQF
from analysis.pipeline import analyze
from sensor_io.recording_io import read_recording

def rss_mib(field="VmRSS"):  # or the peak, VmHWM, which unlike ru_maxrss starts at exec
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field)) / 1024

base = rss_mib()
w0, c0 = time.perf_counter(), time.process_time()
rec = read_recording(sys.argv[1], compact=True)  # as `stepdown analyze` reads it
doc = analyze(rec).to_json()
wall, cpu = time.perf_counter() - w0, time.process_time() - c0
peak = rss_mib("VmHWM")
n = sum(len(s) for s in rec.streams.values())
inputs = [(np.ascontiguousarray(s.gyr, np.float64), np.ascontiguousarray(s.acc, np.float64),
           1.0 / s.rate_hz) for s in rec.streams.values()]
w0, c0 = time.perf_counter(), time.process_time()
for gyr, acc, dt in inputs:
    offlineVQF(gyr, acc, None, dt)
vqf, vqf_cpu = time.perf_counter() - w0, time.process_time() - c0
print(json.dumps({"samples": n, "duration_s": rec.duration_s, "wall_s": wall, "cpu_s": cpu,
                  "vqf_s": vqf, "vqf_cpu_s": vqf_cpu, "peak_mib": peak, "base_mib": base,
                  "reps": len(doc["reps"]), "bottoms": [r["bottom_s"] for r in doc["reps"]]}))
"""


def cold_start(args: list[str], runs: int = COLD_RUNS) -> tuple[float, float, float]:
    """Median wall s, median CPU s and peak RSS MiB of ``runs`` fresh processes (one warm-up)."""
    env = {**os.environ, "STEPDOWN_HOME": tempfile.gettempdir()}
    _measure(args, env)  # writes any missing bytecode
    walls, cpus, rss = [], [], []
    for _ in range(runs):
        wall, cpu, peak = _measure(args, env)
        walls.append(wall)
        cpus.append(cpu)
        rss.append(peak)
    return statistics.median(walls), statistics.median(cpus), max(rss)


# Runs a command as its grandchild and prints its wall s, CPU s and peak RSS (KiB). A process
# started straight from this one would count this process's own peak RSS as its own: Linux
# keeps the pre-exec peak, and subprocess starts children by vfork. The small launcher forks.
_LAUNCHER = r"""
import os, sys, time
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.execvp(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - start
print(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, os.waitstatus_to_exitcode(status))
"""


def _measure(args: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    """Wall s, CPU s (user + sys) and peak RSS MiB of one fresh process; it must exit 0."""
    done = subprocess.run([sys.executable, "-c", _LAUNCHER, *args], capture_output=True,
                          text=True, env=env, check=False)
    wall, cpu, rss_kib, code = done.stdout.split()
    if int(code) != 0:
        raise RuntimeError(f"{' '.join(args)} exited {code}: {done.stderr.strip()[-300:]}")
    return float(wall), float(cpu), float(rss_kib) / 1024


def session_file(minutes: float) -> Path:
    """The benchmark session of ``minutes``, simulated once and kept in the temporary directory."""
    folder = Path(tempfile.gettempdir()) / "stepdown-bench-sessions"
    folder.mkdir(exist_ok=True)
    path = folder / f"session-seed{SESSION_SEED}-{minutes:g}min.parquet"
    if not path.exists() or not _truth_of(path).exists():
        from sensor_io.recording_io import write_recording
        from simulator.session import SessionConfig, simulate_session
        from stepdown.truth_files import jsonable

        start = time.perf_counter()
        cfg = SessionConfig(seed=SESSION_SEED, minutes=minutes, rates_hz=SESSION_RATES_HZ,
                            sensors=tuple(SESSION_RATES_HZ))
        sim = simulate_session(cfg)
        _truth_of(path).write_text(json.dumps(jsonable(sim.truth)))
        tmp = path.with_suffix(".tmp.parquet")
        write_recording(sim.recording, tmp)
        tmp.replace(path)
        print(f"  (simulated the {minutes:g} min session in {time.perf_counter() - start:.0f} s: "
              f"{path})", flush=True)
    return path


def _truth_of(path: Path) -> Path:
    return path.with_suffix(".truth.json")


def analyse_in_child(path: Path) -> dict[str, float]:
    """The child's figures (see _CHILD) for one recording, with the reps it found matched
    to the simulator's truth: ``true_reps``, ``matched`` and ``false_reps`` (bottoms
    within MATCH_S)."""
    done = subprocess.run([sys.executable, "-c", _CHILD, str(path)], capture_output=True,
                          text=True, check=False, cwd=ROOT)
    if done.returncode != 0:
        raise RuntimeError(f"analysis of {path.name} failed: {done.stderr.strip()[-400:]}")
    out = json.loads(done.stdout.strip().splitlines()[-1])
    truth = np.array([r["bottom_s"] for r in json.loads(_truth_of(path).read_text())["reps"]])
    found = np.array(out.pop("bottoms"))
    near = np.abs(found[:, None] - truth[None, :]) < MATCH_S if len(found) else np.zeros((0, 1))
    out.update(true_reps=len(truth), matched=int(near.any(axis=0).sum()) if len(found) else 0,
               false_reps=int((~near.any(axis=1)).sum()))
    return out


def exponent(x: list[float], y: list[float]) -> float:
    """Least-squares slope of log(y) against log(x)."""
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def _print_cold_starts() -> None:
    from stepdown.cli import COMMAND_MODULES

    cmd = stepdown_command()
    rows = [(f"{name} --help", cmd + [name, "--help"]) for name in COMMAND_MODULES]
    rows = [("--help", cmd + ["--help"])] + rows + [
        ("info", cmd + ["info", str(SHORT_TEST)]),
        ("analyze --json", cmd + ["analyze", str(SHORT_TEST), "--json"])]
    bare = cold_start([sys.executable, "-c", "pass"])
    print(f"cold start, fresh process, bytecode cached, median of {COLD_RUNS} "
          f"(bare interpreter: {bare[0]:.2f} s wall, {bare[1]:.2f} s CPU, {bare[2]:.0f} MiB)")
    print(f"  {'command':<22}{'wall s':>8}{'CPU s':>8}{'RSS MiB':>9}  floor")
    for label, args in rows:
        wall, cpu, rss = cold_start(args)
        floor = FLOORS_S.get(label)
        verdict = "" if floor is None else (
            f"{floor:g} s: {'met' if wall <= floor else 'missed'} (wall), "
            f"{'met' if cpu <= floor else 'missed'} (CPU)")
        print(f"  {label:<22}{wall:8.2f}{cpu:8.2f}{rss:9.0f}  {verdict}", flush=True)


def median_of_runs(path: Path, runs: int = SESSION_RUNS) -> dict[str, float]:
    """:func:`analyse_in_child` ``runs`` times (fresh processes): the median of each timed
    figure and of the peak RSS, and ``ratio`` and ``wall_ratio``, the medians of each
    process's raw vqf time over its analysis time (CPU, wall)."""
    done = [analyse_in_child(path) for _ in range(runs)]
    out = dict(done[0])
    for key in ("wall_s", "cpu_s", "vqf_s", "vqf_cpu_s", "peak_mib", "base_mib"):
        out[key] = statistics.median(r[key] for r in done)
    out["ratio"] = statistics.median(r["vqf_cpu_s"] / r["cpu_s"] for r in done)
    out["wall_ratio"] = statistics.median(r["vqf_s"] / r["wall_s"] for r in done)
    return out


def _print_sessions() -> None:
    results = {}
    for minutes in SESSION_MINUTES:
        results[minutes] = median_of_runs(session_file(minutes))
    print(f"analysis of simulated sessions, five sensors at 100-200 Hz, each in its own process, "
          f"median of {SESSION_RUNS} (targets: >= {RATIO_TARGET:.0%} of raw vqf, <= "
          f"{RSS_TARGET_MIB:.0f} MiB at 60 min)")
    print("  throughput and the ratio to raw vqf from CPU time (wall time in brackets: the "
          "machine's load inflates it)")
    print("  reps: found / true (false: found where the truth has none; the walks between "
          "sets are not reps)")
    print(f"  {'length':>8}{'samples':>10}{'reps':>14}{'wall s':>8}{'CPU s':>8}{'M smp/s':>9}"
          f"{'vqf M/s':>9}{'ratio':>7}{'(wall)':>8}{'peak MiB':>10}{'above base':>11}")
    for minutes, r in results.items():
        rate = r["samples"] / r["cpu_s"] / 1e6
        vqf = r["samples"] / r["vqf_cpu_s"] / 1e6
        reps = f"{r['matched']}/{r['true_reps']} ({r['false_reps']})"
        print(f"  {minutes:>6g} m{r['samples']:>10}{reps:>14}{r['wall_s']:8.2f}{r['cpu_s']:8.2f}"
              f"{rate:9.2f}{vqf:9.2f}{r['ratio']:7.0%}"
              f"{r['wall_ratio']:8.0%}{r['peak_mib']:10.0f}"
              f"{r['peak_mib'] - r['base_mib']:11.0f}", flush=True)
    fit = [m for m in SESSION_MINUTES if m >= 5.0]
    n = [results[m]["samples"] for m in fit]
    t_exp = exponent(n, [results[m]["cpu_s"] for m in fit])
    m_exp = exponent(n, [results[m]["peak_mib"] - results[m]["base_mib"] for m in fit])
    print(f"  scaling exponent over {', '.join(f'{m:g}' for m in fit)} min (target <= "
          f"{EXPONENT_TARGET}): time {t_exp:.2f}, memory above baseline {m_exp:.2f}")
    last = results[SESSION_MINUTES[-1]]
    ratio = last["ratio"]
    print(f"  60 min: peak {last['peak_mib']:.0f} MiB "
          f"({'met' if last['peak_mib'] <= RSS_TARGET_MIB else 'MISSED'}), "
          f"{ratio:.0%} of raw vqf ({'met' if ratio >= RATIO_TARGET else 'MISSED'})")
    _print_stages(session_file(PROFILED_MINUTES))


def _print_stages(path: Path) -> None:
    """Where the time of one analysis goes besides the filter (cProfile, so every figure is
    inflated alike; read the shares)."""
    stages, hot = profile_breakdown(path)
    listed = sum(v for k, v in stages.items() if k != "of which vqf")
    vqf = stages.get("of which vqf", 0.0)
    print(f"  where a {PROFILED_MINUTES:g} min analysis spends its time (cProfile, s):")
    print("    " + ", ".join(f"{k} {v:.3f}" for k, v in stages.items()))
    print(f"    the stages {listed:.3f} s, vqf {vqf / listed:.0%} of them")
    print("    most own time: " + "; ".join(hot))


def run() -> None:
    _print_cold_starts()
    _print_sessions()


if __name__ == "__main__":
    run()
