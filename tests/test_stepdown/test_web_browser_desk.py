"""The coach's desk in a real headless Chromium: Today with reasons and acknowledge, find,
flag episodes on the athlete page, phone layout.  Screenshots go to /tmp/screens/."""

from __future__ import annotations

import datetime as dt
import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import test_web_browser  # noqa: E402
from test_web import make_catalog  # noqa: E402
from test_web_browser import (  # noqa: E402  (skips the module without chromium)
    SCREENS,
    login,
    new_page,
    running,
)

browser = test_web_browser.browser  # the module's Chromium fixture, shared
from test_web_desk import _ramp  # noqa: E402

from stepdown.web.app import create_app  # noqa: E402


@pytest.fixture(scope="module")
def desk_server(tmp_path_factory):
    from stepdown.catalog import db
    from stepdown.catalog.training_log import add_entries

    path = tmp_path_factory.mktemp("desk") / "catalog.sqlite3"
    ids = make_catalog(path)
    conn = db.connect(path)
    add_entries(conn, _ramp("a-017", dt.date.today() - dt.timedelta(days=1)))
    conn.close()
    with running(create_app(path)) as base:
        yield base, ids


def test_today_shows_the_load_spike_and_a_coach_acknowledges_it(desk_server, browser):
    base, _ = desk_server
    SCREENS.mkdir(exist_ok=True)
    context, page = new_page(browser, base)
    login(page, base, "head")
    first = page.locator("#athletes tbody tr").first
    assert "a-017" in first.inner_text()
    reason = first.locator("li.open", has_text="rolling ACWR")
    assert re.search(r"rolling ACWR > 1\.5 from .* \(\d+ days\), peak \d\.\d\d",
                     reason.inner_text())
    page.screenshot(path=str(SCREENS / "today.png"), full_page=True)

    with page.expect_navigation():
        reason.locator("button").click()
    assert page.url == f"{base}/athletes", (page.url, page.inner_text("body")[:300])
    acked = page.locator("#athletes li.acked", has_text="rolling ACWR")
    assert acked.count() == 1 and "seen by head" in acked.inner_text()

    page.fill("input[name=q]", "jonas")
    page.click("form.find button[type=submit]")
    page.wait_for_url(re.compile(r".*/athletes\?q=jonas&.*"))
    rows = page.locator("#athletes tbody tr")
    assert rows.count() == 1 and "b-002" in rows.first.inner_text()
    assert page.foreign == [] and page.errors == []
    context.close()


def test_the_athlete_page_shows_episodes_shaded_with_detail_on_demand(desk_server, browser):
    base, _ = desk_server
    context, page = new_page(browser, base)
    login(page, base, "coach-a")
    page.goto(f"{base}/athletes/a-017")
    page.wait_for_selector("#chart-load .main-svg")
    episodes = page.locator("#episodes > li")
    assert 1 <= episodes.count() <= 6  # not one line per flagged day
    shaded = page.locator("#chart-load .shapelayer path")
    assert shaded.count() == episodes.count()
    days = episodes.first.locator("ul.days li")
    assert not days.first.is_visible()
    episodes.first.locator("summary").click()
    assert days.first.is_visible() and days.count() >= 1
    page.locator("#chart-load").scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENS / "athlete_load.png"), full_page=True)
    assert page.foreign == [] and page.errors == []
    context.close()


def test_pages_fit_a_phone(desk_server, browser):
    base, ids = desk_server
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                  device_scale_factor=2)
    page = context.new_page()
    login(page, base, "head")
    for name, path in (("phone_today", "/athletes"), ("phone_athlete", "/athletes/a-017"),
                       ("phone_test", f"/tests/{ids['latest']}")):
        page.goto(base + path)
        page.wait_for_load_state("networkidle")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        page.screenshot(path=str(SCREENS / f"{name}.png"), full_page=True)
        assert overflow <= 0, (path, overflow)
    context.close()


def test_compare_and_account_pages(desk_server, browser):
    base, ids = desk_server
    context, page = new_page(browser, base)
    login(page, base, "head")
    page.goto(f"{base}/athletes/a-017")
    page.wait_for_selector("#chart-trend_pelvic_drop_deg .main-svg")
    # the uncertainty band is drawn as a filled area under each trend line
    assert page.locator("#chart-trend_pelvic_drop_deg .scatterlayer .js-fill").count() >= 1
    page.click("#compare-links >> text=left vs right leg")
    page.wait_for_selector("#compare-measures")
    assert page.locator("#compare-measures tbody tr").count() >= 2
    page.screenshot(path=str(SCREENS / "compare.png"), full_page=True)
    page.click("header a.account-link")
    page.wait_for_selector("#users")
    page.screenshot(path=str(SCREENS / "account.png"), full_page=True)
    assert page.foreign == [] and page.errors == []
    context.close()
