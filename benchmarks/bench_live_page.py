"""Live page latency: from a rep's end to its result on the athlete's page (target <= 200 ms).

`stepdown record --emulate --live-page` streams simulated 5-rep tests in real time
(speed 1) from emulated sensors (the thigh a Polar Verity Sense: 12 samples a
notification at 52 Hz, so its newest sample is 0-230 ms old); Debian's headless Chromium
shows the page.  A rep's end is where the analysis of the whole saved recording ends it.
A rep reaches the page twice: provisional, as soon as the athlete is on the way back up
(:mod:`stepdown.live.reps`), then final (confirmed or corrected) once its end is certain.
Per rep, rep end -> page is the wall time from that end to the page's DOM showing the
result: the record loop's clock at publishing minus the end (poll wait, trigger, the
analysis of the live window; negative when shown before the end), plus publish -> DOM
updated (bus, server-sent event, JSON parse, render; the same machine's clock).
Printed per rep, then the median, 90th percentile and worst over ``RUNS`` recordings,
for the first result and for the final one, and how many finals corrected the
provisional result.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

CHROMIUM = Path("/usr/bin/chromium")
REPO = Path(__file__).resolve().parents[1]
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


def start_record(out: Path, speed: float = 1.0, extra: tuple[str, ...] = (), seed: int = 8,
                 ) -> tuple[subprocess.Popen, list[str], str]:
    """`stepdown record --emulate --live-page` (a simulated 5-rep test, ``seed``) on a free
    port, as a subprocess whose output lines a thread collects into the returned list;
    returns once the page is served, with its URL."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "stepdown", "record", "--emulate", "--emulate-speed", str(speed),
         "--leg", "left", "--athlete", "a-1", "--pelvis", "x", "--thigh", "x", "--seed", str(seed),
         "--live-page", "--page-address", "127.0.0.1:0", "--out", str(out), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "200"})
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True).start()
    deadline = time.monotonic() + 60
    while not (served := [x for x in lines if x.startswith("live page:")]):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("record did not serve the live page:\n" + "".join(lines))
        time.sleep(0.05)
    return proc, lines, served[0].split()[2]


SEEDS = (8, 1, 4)  # one recording each: three simulated athletes
RUNS = len(SEEDS)


def run() -> None:
    if not CHROMIUM.exists():
        print("live page latency: skipped (needs /usr/bin/chromium)")
        return
    first, final_lat, pushes, scores, statuses, traces = [], [], [], [], [], []
    for k in range(RUNS):
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "bench.parquet"
            received, lines = _one_run(out, SEEDS[k])
            rep_events = [e for e in received if e["kind"] == "rep"]
            if not rep_events:
                print("live page latency: no rep reached the page\n" + "".join(lines[-20:]))
                return
            final, work_ms = _final_reps(out)
        scores.append(work_ms)
        traces += [len([e for e in received if e["kind"] == "trace" and e["trace_index"] == i])
                   for i in {e["rep_index"] for e in rep_events}]
        for f in final:
            mine = [e for e in rep_events if e["rep_bottom_s"] is not None
                    and abs(e["rep_bottom_s"] - f.bottom_s) < 0.5]
            if not mine:
                print(f"seed {SEEDS[k]} rep {f.index}: never shown")
                continue
            lat = [1000 * (e["rep_end_s"] + e["rep_lag_s"] - f.end_s) + e["lag_ms"] for e in mine]
            done = [i for i, e in enumerate(mine) if e["rep_status"] != "provisional"]
            first.append(lat[0])
            pushes.append(mine[0]["lag_ms"])
            statuses.append(mine[done[0]]["rep_status"] if done else "never final")
            if done:
                final_lat.append(lat[done[0]])
            print(f"seed {SEEDS[k]} rep {f.index}: first on the page {lat[0]:+5.0f} ms "
                  f"({mine[0]['rep_status']}; publish -> DOM {mine[0]['lag_ms']:4.1f} ms), final "
                  + (f"{lat[done[0]]:+5.0f} ms ({statuses[-1]})" if done else "never"))
    pct = lambda xs, q: float(np.percentile(xs, q))  # noqa: E731
    n = len(first)
    print(f"rep end -> page (first result): median {pct(first, 50):.0f} ms, p90 {pct(first, 90):.0f} ms, "
          f"worst {max(first):.0f} ms over {n} reps in {RUNS} runs (target <= 200 ms); "
          f"publish -> DOM median {pct(pushes, 50):.1f} ms")
    if final_lat:
        print(f"rep end -> page (final result): median {pct(final_lat, 50):.0f} ms, "
              f"p90 {pct(final_lat, 90):.0f} ms, worst {max(final_lat):.0f} ms")
    print(f"  finals: {statuses.count('confirmed')} confirmed, {statuses.count('corrected')} corrected, "
          f"{statuses.count('final')} shown final at once, {statuses.count('never final')} never final "
          f"of {n}; a live window's analysis takes {pct(scores, 50):.0f} ms (median)")
    print(f"  the rep in progress: {pct(traces, 50):.0f} trace updates a rep (median; each one "
          "window analysis) before its result")


def _one_run(out: Path, seed: int) -> tuple[list[dict], list[str]]:
    """The page's received events and record's output lines of one emulated recording."""
    from playwright.sync_api import expect, sync_playwright

    proc, lines, url = start_record(out, seed=seed)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 720})
            page.goto(url)
            expect(page.locator("#link")).to_have_text("ended", timeout=120_000)
            received = page.evaluate("window.liveEvents")
            browser.close()
        proc.wait(timeout=60)
    finally:
        proc.kill()
    return received, lines


def _final_reps(path: Path) -> tuple[list, float]:
    """The saved recording's reps, and the median time (ms) of scoring as much data as a
    live window holds (calibration and one rep)."""
    from dataclasses import replace

    from sensor_io.recording_io import read_recording
    from stepdown.athlete.scoring import traced_scorer

    rec, score = read_recording(path), traced_scorer()
    reps = score(rec)
    first_end = reps[0].end_s + 0.5  # calibration + one rep: the size of a live window
    window = replace(rec, streams={n: s.slice_time(-np.inf, first_end) for n, s in rec.streams.items()})
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        score(window)
        times.append(1000 * (time.perf_counter() - t0))
    return reps, sorted(times)[1]
