"""The programme page of the review app: over HTTP, and in a real headless Chromium.

Athlete a-017 of tests/test_web.py's catalog does the programme over three weeks: real
analyses of simulated sets (heel taps with and without the band, holds) stored on
different days. The browser screenshot goes to /tmp/screens/programme.png.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_web import logged_in, make_catalog  # noqa: E402

from analysis.exercises.heel_taps import analyze_heel_taps  # noqa: E402
from analysis.exercises.hold import analyze_hold  # noqa: E402
from sensor_io.exercise import exercise_of  # noqa: E402
from simulator.heel_taps import HeelTapConfig, simulate_heel_taps  # noqa: E402
from simulator.hold import HoldConfig, simulate_hold  # noqa: E402
from stepdown.catalog import db, repo  # noqa: E402
from stepdown.catalog.programme import store_set  # noqa: E402
from stepdown.web.app import create_app  # noqa: E402

DAYS = ("2026-11-02", "2026-11-05", "2026-11-09", "2026-11-12", "2026-11-16")


def _docs() -> dict[str, Any]:
    """Analyses of three simulated sets (the page shows real analyses): made without the
    guided bends, as these seeds' controlled taps (which fire taps-higher-step) were drawn;
    with the bends the same seeds' athletes sway and turn the knee in otherwise."""
    taps = simulate_heel_taps(HeelTapConfig(seed=21, profile="good", reps=8, load_kg=5.0,
                                            step_height_m=0.15, calibration_movement=False))
    band = simulate_heel_taps(HeelTapConfig(seed=22, profile="good", reps=8, band=True,
                                            step_height_m=0.15, calibration_movement=False))
    hold = simulate_hold(HoldConfig(seed=23, holds=2, hold_s=(10.0, 14.0),
                                    calibration_movement=False))
    return {"taps": analyze_heel_taps(taps.recording, exercise_of(taps.recording)).result(),
            "band": analyze_heel_taps(band.recording, exercise_of(band.recording)).result(),
            "hold": analyze_hold(hold.recording, exercise_of(hold.recording)).result()}


@pytest.fixture(scope="module")
def catalog(tmp_path_factory):
    path = tmp_path_factory.mktemp("web") / "catalog.sqlite3"
    ids = make_catalog(path)
    docs = _docs()
    conn = db.connect(path)
    n = 0
    for day in DAYS:
        for name in ("taps", "band", "hold"):
            n += 1
            store_set(conn, athlete=repo.AthleteInfo("a-017"), result=docs[name],
                      recording_path=f"/rec/p{n}", content_sha256=f"{n:064x}",
                      started_at=f"{day}T17:00:00Z")
    conn.close()
    return path, ids, docs


def test_programme_page_shows_prescription_sessions_volume_and_suggestions(catalog):
    path, _, docs = catalog
    c, _ = logged_in(create_app(path))
    r = c.get("/athletes/a-017/programme")
    assert r.status_code == 200
    html = r.text
    assert 'id="prescription"' in html and "heel taps" in html and "hold time" not in html
    # every set is listed, newest first, with done vs prescribed
    assert html.count("<tr><td>2026-11-16</td>") == 3 and html.count("<tr><td>2026-11-02</td>") == 3
    assert "8 of 8 taps" in html and "8 x 5 kg = 40 kg, 15 cm" in html
    # volume per ISO week: two sessions in each of W45 and W46, one in W47
    tut = sum(h.tut_s for h in docs["hold"].holds)
    flat = re.sub(r">\s+<", "><", html)
    assert ('<td>2026-W45</td><td class="n">2</td><td class="n">32</td><td class="n">80.0</td>'
            f'<td class="n">{round(2 * tut, 1)}</td>') in flat
    # the next session: the rules that fired, with their numbers
    assert 'id="suggestions"' in html
    assert ("rule <code>" in html) or ("No change suggested" in html)
    assert 'id="programme-data"' in html
    checked = html.split('id="rules-checked"')[1]  # every rule's verdict, with its reason
    assert checked.count("<li><code>taps-") == 6 and checked.count("<li><code>hold-") == 2
    assert "<code>taps-higher-step</code>: fired: controlled_share" in checked
    assert "<code>taps-lower-step</code>: did not fire: controlled_share &lt; 0.5 not met" in checked
    assert c.get("/athletes/a-017").text.count("/athletes/a-017/programme") >= 1


def test_coach_changes_the_prescription_and_the_page_shows_it(catalog):
    path, _, _ = catalog
    c, csrf = logged_in(create_app(path))
    form = {"csrf": csrf, "exercise": "hold", "sets": "2", "holds": "4", "hold_s_min": "40",
            "hold_s_max": "50"}
    r = c.post("/athletes/a-017/programme", data=form)
    assert r.status_code == 303 and r.headers["location"] == "/athletes/a-017/programme?saved=1"
    html = c.get("/athletes/a-017/programme?saved=1").text
    assert "Prescription saved." in html and "the coach's prescription for hold" in html
    assert "sets 2, holds 4, hold s 40–50" in html
    bad = c.post("/athletes/a-017/programme", data=form | {"holds": "many"})
    assert bad.status_code == 400 and "not a valid holds" in bad.text
    assert c.post("/athletes/a-017/programme", data=form | {"csrf": "x"}).status_code == 403
    other, csrf_b = logged_in(create_app(path), "coach-b")
    assert other.post("/athletes/a-017/programme",
                      data=form | {"csrf": csrf_b}).status_code == 404


def test_another_coach_cannot_see_the_programme(catalog):
    path, _, _ = catalog
    c, _ = logged_in(create_app(path), "coach-b")
    r = c.get("/athletes/a-017/programme")
    assert r.status_code == 404 and "heel taps" not in r.text


def test_an_athlete_without_programme_sets(catalog):
    path, _, _ = catalog
    c, _ = logged_in(create_app(path), "coach-b")
    r = c.get("/athletes/b-002/programme")
    assert r.status_code == 200 and "No programme sets yet." in r.text


def test_programme_page_in_a_real_browser(catalog):
    """Headless Chromium: the charts draw, nothing leaves the machine, no JS error."""
    pytest.importorskip("playwright.sync_api")
    from test_web_browser import ARGS, CHROMIUM, login, new_page, running

    if not CHROMIUM.exists():
        pytest.skip("needs Debian's chromium at /usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    path, _, _ = catalog
    shots = Path("/tmp/screens")
    shots.mkdir(exist_ok=True)
    with running(create_app(path)) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        context, page = new_page(browser, base)
        login(page, base, "coach-a")
        page.click("text=a-017")
        # the athlete page counts the programme's volume beside the training load
        page.wait_for_selector("#programme-volume ~ .charts #chart-programme_volume .main-svg")
        assert page.locator("#chart-programme_volume .bars path").count() == 6  # 3 weeks x 2
        page.screenshot(path=str(shots / "athlete_programme_volume.png"), full_page=True)
        page.click("#programme-link")
        page.wait_for_selector("#chart-programme_volume .main-svg")
        for chart in ("programme_control", "programme_knee", "programme_sway"):
            assert page.locator(f"#chart-{chart} .main-svg").count() >= 1
        assert page.locator("#chart-programme_volume .bars path").count() == 6  # 3 weeks x 2
        assert page.locator("#sets tbody tr").count() == 15
        page.click("#prescribe summary")
        page.fill("#prescribe-heel_taps input[name=step_cm]", "20")
        page.check("#prescribe-heel_taps input[name=band]")
        page.click("#prescribe-heel_taps button[type=submit]")
        page.wait_for_selector(".saved")
        assert "step cm 20, load kg 5, band yes" in page.inner_text("#prescription")
        page.wait_for_selector("#chart-programme_volume .main-svg")
        page.screenshot(path=str(shots / "programme.png"), full_page=True)
        assert page.foreign == [] and page.errors == []
        context.close()
        browser.close()


def test_athlete_page_counts_programme_work_as_training_volume(catalog):
    path, _, docs = catalog
    c, _ = logged_in(create_app(path))
    html = c.get("/athletes/a-017").text
    assert 'id="programme-volume"' in html
    chart = json.loads(html.split('id="programme-volume-data">')[1].split("</script>")[0])[0]
    taps, holds = chart["data"]
    assert chart["id"] == "programme_volume" and taps["x"] == ["2026-W45", "2026-W46", "2026-W47"]
    # heel taps as reps x load (8 x 5 kg a set, two sessions in W45), holds as time under tension
    tut = sum(h.tut_s for h in docs["hold"].holds)
    assert taps["y"] == [80.0, 80.0, 40.0]
    assert holds["y"] == [round(2 * tut, 1), round(2 * tut, 1), round(tut, 1)]
    other, _ = logged_in(create_app(path), "coach-b")  # b-002 has tests, no programme sets
    page = other.get("/athletes/b-002")
    assert page.status_code == 200 and 'id="programme-volume"' not in page.text
