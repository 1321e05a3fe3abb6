"""Live page latency: from a rep's end to its result on the athlete's page (target <= 200 ms).

`stepdown record --emulate --live-page` streams a simulated 5-rep test in real time
(speed 1) from emulated sensors; Debian's headless Chromium shows the page.  For each rep:
- detect+score: the record loop's clock when the rep was published minus the rep's
  ``end_s`` (the analysis' end of the rep): poll wait, trigger, analysis;
- push: the page's receipt (Date.now) minus the publish time (time.time), same machine:
  bus, server-sent event, JSON parse; render follows in the same task.
Each figure is printed per rep, then the median and the worst of their sum, and how much
of detect+score is the analysis itself (the rest: the loop's 0.1 s poll and its rep-end
trigger, which waits for the thigh to settle back near standing).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

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


def run() -> None:
    if not CHROMIUM.exists():
        print("live page latency: skipped (needs /usr/bin/chromium)")
        return
    from playwright.sync_api import expect, sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        proc, lines, url = start_record(Path(tmp) / "bench.parquet")
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
        work_ms = _analysis_ms(Path(tmp) / "bench.parquet")
    rep_events = [e for e in received if e["kind"] == "rep"]
    lags = [e["rep_lag_s"] for e in rep_events]
    pushes = [e["lag_ms"] for e in rep_events]
    if not rep_events:
        print("live page latency: no rep reached the page\n" + "".join(lines[-20:]))
        return
    for i, (lag, push) in enumerate(zip(lags, pushes, strict=True), 1):
        print(f"rep {i}: detect+score {1000 * lag:4.0f} ms, push {push:5.1f} ms, "
              f"rep end -> page {1000 * lag + push:4.0f} ms")
    totals = sorted(1000 * lag + push for lag, push in zip(lags, pushes, strict=True))
    others = [e["lag_ms"] for e in received if e["kind"] == "status"]
    print(f"rep end -> page: median {totals[len(totals) // 2]:.0f} ms, worst {totals[-1]:.0f} ms "
          f"over {len(totals)} reps (target <= 200 ms); push alone median "
          f"{sorted(pushes)[len(pushes) // 2]:.1f} ms, status events median "
          f"{sorted(others)[len(others) // 2]:.1f} ms over {len(others)}")
    print(f"  of detect+score, the analysis of the whole recording takes {work_ms:.0f} ms (median of 3); "
          "the rest is the record loop's poll and its rep-end trigger")


def _analysis_ms(path: Path) -> float:
    from sensor_io.recording_io import read_recording
    from stepdown.athlete.scoring import traced_scorer

    rec, score = read_recording(path), traced_scorer()
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        score(rec)
        times.append(1000 * (time.perf_counter() - t0))
    return sorted(times)[1]
