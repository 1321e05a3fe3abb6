"""`stepdown batch` on Dask against a plain loop: 200 simulated recordings (issue 14).

The same 200 recordings (simulate_batch, seed 14: legs, sensor sets, profiles and
rep counts varied) are re-analysed into fresh outputs three ways: a plain in-process
loop (``run_batch(client=None)``: the same reading, analysis and writing, no Dask),
then a local cluster of 1 and of 2 single-threaded worker processes. Each cluster is
started and warmed (every worker imports the analysis and analyses one recording)
before the clock starts, and so is the loop's process; the start-up is printed apart.

Targets: >= 1.8x the loop's recordings/s with 2 workers, < 10 % slower than the loop
with 1 worker. This machine has 2 cores, shared with other work; read the figures with
the load printed beside them. "ms/rec in task" is the time a recording took inside its
task (reading, analysis, writing): when it grows on the workers against the loop, the
cores were busier, not the scheduler slower.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

N_RECORDINGS = 200
SEED = 14


def _write_one(args: tuple[int, str]) -> None:
    from sensor_io.recording_io import write_recording
    from simulator.single_test import simulate_batch

    i, folder = args
    sim = next(simulate_batch(1, seed=SEED * 1000 + i))  # one varied test per seed
    write_recording(sim.recording, Path(folder) / f"rec-{i:03d}.parquet")


def archive(n: int = N_RECORDINGS) -> Path:
    """n simulated recordings as Parquet files, written once (2 processes) into a folder
    under the system's temporary directory and reused by later runs (they are seeded)."""
    folder = Path(tempfile.gettempdir()) / f"stepdown-bench-batch-{SEED}-{n}"
    if len(list(folder.glob("rec-*.parquet"))) == n:
        print(f"{n} simulated recordings reused from {folder}")
        return folder
    folder.mkdir(exist_ok=True)
    start = time.perf_counter()
    with ProcessPoolExecutor(2) as pool:
        list(pool.map(_write_one, [(i, str(folder)) for i in range(n)], chunksize=8))
    print(f"{n} simulated recordings written in {time.perf_counter() - start:.1f} s to {folder}")
    return folder


def _warm(source, scratch: Path, client) -> None:
    """Every worker (or this process) imports the analysis and analyses one recording."""
    from stepdown.batch.tables import Dest
    from stepdown.batch.task import Job, analyze_one

    job = Job(source, source.list_recordings()[0], Dest(str(scratch / "warm-up")))
    if client is None:
        analyze_one(job)
    else:
        workers = list(client.scheduler_info()["workers"])
        futures = [client.submit(analyze_one, job, workers=[w], pure=False) for w in workers]
        client.gather(futures)


def timed_run(source, dest: Path, client) -> tuple[float, object, float]:
    """(wall s, report, summed seconds the recordings took inside their tasks)."""
    from stepdown.batch.runner import run_batch

    inside: list[float] = []
    start = time.perf_counter()
    report = run_batch(source, str(dest), client=client,
                       on_outcome=lambda out: inside.append(out.seconds))
    return time.perf_counter() - start, report, sum(inside)


def run() -> None:
    from stepdown.batch.runner import close, connect, worker_peak_memory
    from stepdown.batch.source import Source

    tmp = Path(tempfile.mkdtemp(prefix="bench-batch-"))
    try:
        source = Source(str(archive()))
        print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
              f"on {os.cpu_count()} cores")
        _warm(source, tmp, None)
        loop_s, report, loop_in = timed_run(source, tmp / "out-loop", None)
        assert report.analysed == N_RECORDINGS, report
        rows = [("plain loop", loop_s, None, None, loop_in)]
        for n in (1, 2):
            start = time.perf_counter()
            client = connect("local", workers=n)
            _warm(source, tmp, client)
            startup = time.perf_counter() - start
            try:
                seconds, report, inside = timed_run(source, tmp / f"out-{n}", client)
                assert report.analysed == N_RECORDINGS, report
                peak = worker_peak_memory(client)
            finally:
                close(client)
            rows.append((f"dask, {n} worker{'s' if n > 1 else ''}", seconds, startup, peak, inside))
        print(f"{'':<16}{'s':>7}{'rec/s':>8}{'vs loop':>9}{'ms/rec in task':>16}{'start-up s':>12}"
              "  peak RSS per worker")
        for name, seconds, startup, peak, inside in rows:
            mem = ", ".join(f"{v / 2**20:.0f} MiB" for v in sorted(peak.values())) if peak else "–"
            print(f"{name:<16}{seconds:>7.2f}{N_RECORDINGS / seconds:>8.1f}"
                  f"{loop_s / seconds:>8.2f}x{1000 * inside / N_RECORDINGS:>16.0f}"
                  f"{(f'{startup:.1f}' if startup else '–'):>12}  {mem}")
        one, two = rows[1][1], rows[2][1]
        print(f"scheduler overhead at 1 worker: {100 * (one - loop_s) / loop_s:+.1f} % "
              f"(target < 10 %); speed-up at 2 workers: {loop_s / two:.2f}x (target >= 1.8x)")
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
