"""The review web app in a real headless Chromium (Debian's, driven by Playwright).

The app runs in-process under uvicorn on a free 127.0.0.1 port.  Screenshots of
the three main pages go to /tmp/screens/.
"""

from __future__ import annotations

import contextlib
import re
import socket
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("needs Debian's chromium at /usr/bin/chromium (apt-get install -y chromium)",
                allow_module_level=True)

uvicorn = pytest.importorskip("uvicorn")
sync_api = pytest.importorskip("playwright.sync_api")

sys.path.insert(0, str(Path(__file__).parent))
from test_web import make_catalog  # noqa: E402

from stepdown.web.app import create_app  # noqa: E402

SCREENS = Path("/tmp/screens")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    path = tmp_path_factory.mktemp("web") / "catalog.sqlite3"
    ids = make_catalog(path)
    sample = Path(__file__).parents[2] / "data" / "medium_left_full_set.parquet"
    if sample.exists():  # a real recording, so the test page can draw its angle curves
        from stepdown.catalog import db
        from stepdown.catalog.importer import import_recording

        conn = db.connect(path)
        ids["real"] = import_recording(conn, sample, "b-002", path.parent / "recordings").test_id
        conn.close()
    with running(create_app(path)) as base:
        yield base, ids


@contextlib.contextmanager
def running(app):
    """``app`` served by uvicorn in a thread on a free 127.0.0.1 port; yields its base URL."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


def new_page(browser, base: str):
    """A fresh browser context that records every request leaving 127.0.0.1 and JS errors."""
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    page = context.new_page()
    page.foreign = []
    page.errors = []
    host = urlparse(base).netloc
    page.on("request", lambda req: page.foreign.append(req.url)
            if urlparse(req.url).netloc not in (host, "") and not req.url.startswith("data:")
            else None)
    page.on("pageerror", lambda err: page.errors.append(str(err)))
    page.on("console", lambda msg: page.errors.append(msg.text) if msg.type == "error" else None)
    page.on("response", lambda r: page.errors.append(f"{r.status} {r.url}")
            if r.status >= 400 and r.status != 404 else None)
    return context, page


def login(page, base: str, user: str, password: str = "long enough pw") -> None:
    page.goto(f"{base}/athletes")
    assert "/login" in page.url  # no session: sent to log in
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/athletes$"))


def test_coach_reviews_relabels_and_the_label_is_kept(server, browser):
    base, ids = server
    SCREENS.mkdir(exist_ok=True)
    context, page = new_page(browser, base)
    login(page, base, "coach-a")

    rows = page.locator("#athletes tbody tr")
    assert rows.count() == 1 and "a-017" in rows.first.inner_text()
    assert "b-002" not in page.content()
    page.screenshot(path=str(SCREENS / "athletes.png"), full_page=True)

    page.click("text=a-017")
    page.wait_for_selector("#chart-totals .main-svg")
    assert page.locator("#tests tbody tr").count() == 3
    assert page.locator("#chart-trend_pelvic_drop_deg .main-svg").count() >= 1
    page.screenshot(path=str(SCREENS / "athlete.png"), full_page=True)

    page.click(f"a[href='/tests/{ids['latest']}']")
    page.wait_for_selector("#chart-knee_medial_cm .main-svg")
    # Plotly drew the bars and the threshold lines (shapes).
    assert page.locator("#chart-pelvic_drop_deg .bars path").count() == 5
    assert page.locator("#chart-pelvic_drop_deg .shapelayer path").count() >= 1
    assert "pelvis dropped" in page.inner_text("ul.explain")
    # hip internal rotation has no real-data validation: the coach sees it marked so
    assert "Hip int. rotation (unvalidated)" in page.inner_text("#reps thead")
    page.screenshot(path=str(SCREENS / "test.png"), full_page=True)

    page.select_option("#rep-2 select[name=item_knee]", "2")
    page.click("#rep-2 button[type=submit]")
    page.wait_for_selector(".saved")
    page.reload()
    cell = page.locator("#rep-2 td.cell.changed")
    assert cell.count() == 1
    assert page.locator("#rep-2 select[name=item_knee]").input_value() == "2"
    assert "auto 1" in cell.inner_text() and "coach: 2 (coach-a)" in cell.inner_text()

    page.fill("textarea[name=text]", "Knee drifts in on rep 2; cue 'knee over 2nd toe'.")
    page.click("form.note button[type=submit]")
    page.wait_for_selector("ul.notes li")
    assert "cue 'knee over 2nd toe'" in page.inner_text("ul.notes")

    assert page.foreign == [] and page.errors == []
    context.close()


def test_second_coach_cannot_open_the_first_coachs_athlete(server, browser):
    base, ids = server
    context, page = new_page(browser, base)
    login(page, base, "coach-b")
    assert "a-017" not in page.inner_text("main")
    for url in (f"{base}/athletes/a-017", f"{base}/tests/{ids['latest']}",
                f"{base}/tests/{ids['latest']}/report", f"{base}/tests/{ids['other'] + 5}"):
        response = page.goto(url)
        assert response.status == 404, url
        assert "Maya" not in page.content()
    # A form posted from this coach's session to the other's test is refused too.
    page.goto(f"{base}/athletes")
    csrf = page.locator("form.logout input[name=csrf]").get_attribute("value")
    resp = page.request.post(f"{base}/tests/{ids['latest']}/labels",
                             form={"csrf": csrf, "rep": "1", "item_knee": "0"})
    assert resp.status == 404
    context.close()


def test_every_page_loads_only_local_resources(server, browser):
    base, ids = server
    context, page = new_page(browser, base)
    login(page, base, "head")
    for path in ("/athletes", "/athletes/a-017", f"/tests/{ids['latest']}",
                 f"/tests/{ids['latest']}/report", "/athletes/b-002"):
        page.goto(base + path)
        page.wait_for_load_state("networkidle")
    assert page.foreign == [] and page.errors == []
    context.close()


def test_test_page_draws_angle_curves_from_the_stored_recording(server, browser):
    base, ids = server
    if "real" not in ids:
        pytest.skip("data/medium_left_full_set.parquet is absent")
    context, page = new_page(browser, base)
    login(page, base, "coach-b")
    page.goto(f"{base}/tests/{ids['real']}")
    page.wait_for_selector("#chart-curve_pelvic_drop_deg .main-svg")
    n_reps = page.locator("table.reps tbody tr").count()
    assert n_reps >= 3
    assert page.locator("#chart-curve_pelvic_drop_deg .scatterlayer .trace").count() == n_reps
    assert page.locator("#chart-curve_pelvic_drop_deg .shapelayer path").count() >= 1
    page.screenshot(path=str(SCREENS / "test_real.png"), full_page=True)
    assert page.foreign == [] and page.errors == []
    context.close()
