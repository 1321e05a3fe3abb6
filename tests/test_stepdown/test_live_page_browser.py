"""The live page in a real headless Chromium (Debian's, driven by Playwright) fed by
`stepdown record --emulate --live-page`: the knee bends are asked for, the rep in progress
is drawn as it goes, reps appear as they are scored (provisional, then final), and the
coach's keys on the page (B band, 0-9 pain of the last rep, S stop/start set) end up in
the recording.  Screenshots
go to /tmp/screens/live.png and live-trace.png (a rep in progress)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pytest

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("needs Debian's chromium at /usr/bin/chromium (apt-get install -y chromium)",
                allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect
pytest.importorskip("analysis.pipeline")

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(1, str(Path(__file__).parents[2]))  # benchmarks/, which starts the recording
from test_web_browser import ARGS, SCREENS  # noqa: E402

from benchmarks.bench_live_page import start_record  # noqa: E402
from sensor_io.recording_io import read_recording  # noqa: E402

TIMEOUT_MS = 60_000


@pytest.mark.slow
def test_reps_reach_the_page_and_the_coachs_keys_reach_the_recording(tmp_path):
    out = tmp_path / "live.parquet"
    proc, lines, url = start_record(out, speed=1.0, extra=("--sound",))
    host = urlparse(url).netloc
    try:
        with sync_api.sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 720})
            foreign, errors = [], []
            page.on("request", lambda r: foreign.append(r.url)
                    if urlparse(r.url).netloc != host else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(url)
            expect(page.locator("#link")).to_have_text("live")
            page.click("#sound-toggle")       # cue sound on the screen's own speakers
            # after the standing, the guided knee bends are asked for on the screen
            expect(page.locator("#fix")).to_have_text("knee bends on both feet", timeout=TIMEOUT_MS)
            expect(page.locator("#detail")).to_have_text(re.compile("then stand on the test leg"))
            SCREENS.mkdir(exist_ok=True)
            page.screenshot(path=str(SCREENS / "live-bends.png"))
            # the first set starts at "Go"; the keys work from then on, before any rep
            expect(page.locator("#set-label")).to_have_text(re.compile("^set 1 · rep 1 of 5$"),
                                                            timeout=TIMEOUT_MS)
            page.keyboard.press("b")
            page.wait_for_selector("#band", state="visible", timeout=TIMEOUT_MS)
            # the first rep in progress: its traces against the analysis' thresholds
            expect(page.locator("#trace-knee.live polyline.trace")).to_have_count(1, timeout=TIMEOUT_MS)
            expect(page.locator("#cap-knee")).to_have_text(re.compile(r"^knee inward · rep 1 so far: now "))
            assert page.locator("#trace-knee.live line.limit").count() == 2
            SCREENS.mkdir(exist_ok=True)
            page.screenshot(path=str(SCREENS / "live-trace.png"))
            # a loaded machine may score two reps at once: any rep will do
            expect(page.locator("#rep-no")).to_have_text(re.compile("^rep [1-5]$"), timeout=TIMEOUT_MS)
            assert page.locator(".dot.good, .dot.medium, .dot.poor").count() >= 1
            assert page.locator("#trace-knee polyline.trace").count() == 1
            assert page.locator("#trace-pelvis line.limit").count() == 1
            page.screenshot(path=str(SCREENS / "live.png"))
            page.keyboard.press("4")          # pain 4 for the last rep
            expect(page.locator("#msg")).to_have_text("sent: pain 4")
            page.keyboard.press("s")          # stop set 1
            expect(page.locator("#set-label")).to_have_text(re.compile("^set 1 done"),
                                                            timeout=TIMEOUT_MS)
            page.keyboard.press("s")          # start set 2
            expect(page.locator("#set-label")).to_have_text(re.compile("^set 2 "), timeout=TIMEOUT_MS)
            expect(page.locator("#link")).to_have_text("ended", timeout=TIMEOUT_MS)
            expect(page.locator("#next")).to_have_text("recording ended")
            received = page.evaluate("window.liveEvents")
            played = page.evaluate("window.liveCuesPlayed")
            browser.close()
        assert proc.wait(timeout=60) == 0, "".join(lines)
    finally:
        proc.kill()
    text = "".join(lines)
    assert "Traceback" not in text and not foreign and not errors
    assert sorted(set(re.findall(r"cue: rep (\d): ", text))) == ["1", "2", "3", "4", "5"]
    assert "cue: set 1: go" in text and "cue: set 2: go" in text
    assert text.index("cue: knee bends: ") < text.index("cue: set 1: go")
    # the page played each cue once, in order, including every rep's
    assert [c["id"] for c in played] == sorted({c["id"] for c in played})
    # one cue a rep, and one more for each rep whose final result corrects what was cued
    corrections = text.count(" corrected: ")
    assert 1 <= sum(c["kind"] in ("good", "knee", "pelvis", "trunk", "arm", "descent")
                    for c in played) <= 5 + corrections
    assert [c["kind"] for c in played][-1] == "set_end"
    reps = [e for e in received if e["kind"] == "rep"]
    assert 1 <= len({e["rep_index"] for e in reps}) <= 5 and all(e["lag_ms"] > -50 for e in received)
    # each rep shown provisional is then confirmed, corrected or withdrawn
    for i in {e["rep_index"] for e in reps if e["rep_status"] == "provisional"}:
        later = [e["rep_status"] for e in reps if e["rep_index"] == i][1:]
        assert set(later) & {"confirmed", "corrected", "withdrawn"}, (i, later)
    # the rep in progress: trace updates at ~10 Hz, growing, before the rep's result,
    # against the thresholds the analysis scores with
    from analysis.rules import RuleConfig

    cfg = RuleConfig()
    first = min(e["seq"] for e in reps if e["rep_index"] == 1)
    traced = [e for e in received if e["kind"] == "trace" and e["trace_index"] == 1 and e["seq"] < first]
    assert len(traced) >= 5
    assert traced[-1]["trace_points"] > traced[0]["trace_points"]
    gaps = np.diff([e["trace_t_s"] for e in traced])
    assert 0.09 <= float(np.median(gaps)) <= 0.2  # 5-11 Hz: a modest rate
    assert all(e["trace_thresholds"] == {"knee_medial_cm": [cfg.knee_cm_1, cfg.knee_cm_2],
                                         "pelvic_drop_deg": [cfg.pelvis_deg]} for e in traced)
    rec = read_recording(out)
    events = rec.extra["events"]
    kinds = [e["what"] for e in events]
    assert kinds.count("set_start") == 2 and kinds.count("set_end") == 2
    assert [e["on"] for e in events if e["what"] == "band"] == [True]
    (pain,) = [e for e in events if e["what"] == "pain"]
    assert pain["nrs"] == 4.0 and rec.pain_nrs[pain["rep"] - 1] == 4.0
    assert [e["band"] for e in events if e["what"] == "set_start"] == [False, True]


@pytest.fixture
def tls(tmp_path):
    if not shutil.which("openssl"):
        pytest.skip("needs openssl to make a throw-away certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
                    "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1"],
                   check=True, capture_output=True)
    return cert, key


def test_served_with_accounts_the_page_needs_a_review_login_over_https(tmp_path, tls):
    from test_web import make_catalog

    from stepdown.athlete.bus import EventBus
    from stepdown.athlete.feedback import parse_control
    from stepdown.athlete.page import PageServer, create_live_app

    catalog = tmp_path / "catalog.sqlite3"
    make_catalog(catalog)
    bus = EventBus({"athlete": "a-017", "phase": "go"})
    sent = []
    app = create_live_app(bus, lambda a, v: sent.append(parse_control(a, v)), athlete_id="a-017",
                          catalog=catalog)
    server = PageServer(app, "127.0.0.1", 0, *tls)
    url = server.start()
    assert url.startswith("https://")
    try:
        with sync_api.sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            for user, allowed in (("coach-b", False), ("coach-a", True)):
                context = browser.new_context(ignore_https_errors=True)
                page = context.new_page()
                page.goto(url)
                expect(page).to_have_url(re.compile(r"/login\?next=/live$"))
                page.fill("input[name=username]", user)
                page.fill("input[name=password]", "long enough pw")
                page.click("button[type=submit]")
                if not allowed:   # another athlete's coach: as if there were no page
                    expect(page.locator("body")).to_have_text("Not found")
                    continue
                expect(page.locator("#link")).to_have_text("live")
                page.keyboard.press("b")
                expect(page.locator("#msg")).to_have_text("sent: band on")
            browser.close()
    finally:
        bus.close()
        server.stop()
    assert sent == [("band", True)]
