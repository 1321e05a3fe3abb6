"""Live page latency: from a rep's end to its result on the athlete's page (target <= 200 ms).

`stepdown record --emulate --live-page` streams a simulated 5-rep test in real time
(speed 1) from emulated sensors; Debian's headless Chromium shows the page.  A rep's end
is where the analysis of the whole saved recording ends it (the live analysis, of the
data so far, may end it a little sooner: that is not counted as time saved).  Per rep:
- detect+score: the record loop's clock when the rep was published minus that end:
  poll wait, the rep-end trigger, the analysis of the live window;
- push: the page's receipt (Date.now) minus the publish time (time.time), same machine:
  bus, server-sent event, JSON parse; render follows in the same task.
Printed per rep, then the median, 90th percentile and worst of their sum over ``RUNS``
recordings, and the analysis' own share.
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


def start_record(out: Path, speed: float = 1.0, extra: tuple[str, ...] = ()
                 ) -> tuple[subprocess.Popen, list[str], str]:
    """`stepdown record --emulate --live-page` (a simulated 5-rep test, seed 8) on a free
    port, as a subprocess whose output lines a thread collects into the returned list;
    returns once the page is served, with its URL."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "stepdown", "record", "--emulate", "--emulate-speed", str(speed),
         "--leg", "left", "--athlete", "a-1", "--pelvis", "x", "--thigh", "x", "--seed", "8",
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


RUNS = 3


def run() -> None:
    if not CHROMIUM.exists():
        print("live page latency: skipped (needs /usr/bin/chromium)")
        return
    totals, pushes, scores, early = [], [], [], []
    for k in range(RUNS):
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "bench.parquet"
            received, lines = _one_run(out)
            rep_events = [e for e in received if e["kind"] == "rep"]
            if not rep_events:
                print("live page latency: no rep reached the page\n" + "".join(lines[-20:]))
                return
            final, work_ms = _final_reps(out)
        for e in rep_events:
            f = final.get(round(e["rep_end_s"], 1)) or min(
                final.values(), key=lambda r: abs(r["end_s"] - e["rep_end_s"]))
            detect = e["rep_end_s"] + e["rep_lag_s"] - f["end_s"]  # publish - final end
            totals.append(1000 * detect + e["lag_ms"])
            pushes.append(e["lag_ms"])
            scores.append(work_ms)
            early.append(1000 * (f["end_s"] - e["rep_end_s"]))
            print(f"run {k + 1} rep {f['index']}: detect+score {1000 * detect:4.0f} ms, push "
                  f"{e['lag_ms']:5.1f} ms, rep end -> page {totals[-1]:4.0f} ms "
                  f"(live end {early[-1]:+.0f} ms before the final one)")
    pct = lambda xs, q: float(np.percentile(xs, q))  # noqa: E731
    print(f"rep end -> page: median {pct(totals, 50):.0f} ms, p90 {pct(totals, 90):.0f} ms, "
          f"worst {max(totals):.0f} ms over {len(totals)} reps in {RUNS} runs (target <= 200 ms); "
          f"push alone median {pct(pushes, 50):.1f} ms")
    print(f"  a live window's analysis takes {pct(scores, 50):.0f} ms (median); the live end of "
          f"a rep is {pct(early, 50):.0f} ms (median) before the final analysis' end")


def _one_run(out: Path) -> tuple[list[dict], list[str]]:
    """The page's received events and record's output lines of one emulated recording."""
    from playwright.sync_api import expect, sync_playwright

    proc, lines, url = start_record(out)
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


def _final_reps(path: Path) -> tuple[dict[float, dict], float]:
    """The saved recording's reps by end (s, rounded to 0.1), and the median time (ms) of
    scoring as much data as a live window holds (calibration and one rep)."""
    from dataclasses import replace

    from sensor_io.recording_io import read_recording
    from stepdown.athlete.scoring import traced_scorer

    rec, score = read_recording(path), traced_scorer()
    reps = score(rec)
    first_end = reps[0]["end_s"] + 0.5  # calibration + one rep: the size of a live window
    window = replace(rec, streams={n: s.slice_time(-np.inf, first_end) for n, s in rec.streams.items()})
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        score(window)
        times.append(1000 * (time.perf_counter() - t0))
    return {round(r["end_s"], 1): r for r in reps}, sorted(times)[1]
