"""The review web app over HTTP (Starlette's test client): access, CSRF, injection, pages."""

from __future__ import annotations

import re
import sys
import warnings
from html.parser import HTMLParser
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from analysis_docs import contract_doc, contract_result  # noqa: E402

from stepdown.catalog import accounts, db, repo  # noqa: E402
from stepdown.web.app import create_app  # noqa: E402

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

PASSWORD = "long enough pw"


def make_catalog(path: Path) -> dict[str, int]:
    """Athlete a-017 (3 tests, coach-a), b-002 (1 test, coach-b); 'head' sees all."""
    conn = db.connect(path)
    ids = {}
    for n, (when, leg, cat, totals) in enumerate([
        ("2026-10-01T10:00:00Z", "left", "poor", (4, 5, 4, 3, 4)),
        ("2026-10-20T10:00:00Z", "right", "good", (1, 0, 1, 1, 0)),
        ("2026-11-01T10:00:00Z", "left", "medium", (2, 2, 1, 3, 2)),
    ]):
        doc = contract_doc(total_by_rep=totals, category=cat, leg=leg)
        doc["test"]["total"] = {"poor": 5, "good": 1, "medium": 3}[cat]
        doc["reps"][2]["measures"]["hip_adduction_deg"] = None
        doc["reps"][2]["not_measured"] = {
            "hip_adduction_deg": "54.2 is outside what a step-down can produce (-30 to 35)"}
        doc["uncertainty"] = {"total_range": [3, 4], "category_range": ["medium", "poor"],
                              "borderline": [{"rep": 2, "item": "knee", "measure": "knee_medial_cm",
                                              "value": 3.3, "threshold": 3.5,
                                              "uncertainty": 0.7}]}
        ids["latest"], _ = repo.store_test(
            conn, athlete=repo.AthleteInfo("a-017", name="Maya K.", height_m=1.70,
                                           foot_medial_offset_m=0.035),
            analysis=repo.read_analysis(doc), recording_path="/rec/x", content_sha256=f"{n}" * 64,
            started_at=when, step_height_m=0.2, pain_nrs=[0, 0, 0, 2, 0])
    ids["other"], _ = repo.store_test(
        conn, athlete=repo.AthleteInfo("b-002", name="Jonas B."), analysis=contract_result(),
        recording_path="/rec/y", content_sha256="f" * 64, started_at="2026-11-03T08:00:00Z")
    accounts.add_user(conn, "coach-a", PASSWORD, athletes=["a-017"])
    accounts.add_user(conn, "coach-b", PASSWORD, athletes=["b-002"])
    accounts.add_user(conn, "head", PASSWORD, sees_all=True)
    conn.close()
    return ids


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    path = tmp_path_factory.mktemp("web") / "catalog.sqlite3"
    ids = make_catalog(path)
    return create_app(path), ids, path


def client(app) -> TestClient:
    return TestClient(app, base_url="https://testserver", follow_redirects=False)


def csrf_in(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def logged_in(app, user: str = "coach-a") -> tuple[TestClient, str]:
    c = client(app)
    token = csrf_in(c.get("/login").text)
    r = c.post("/login", data={"csrf": token, "username": user, "password": PASSWORD,
                               "next": "/athletes"})
    assert r.status_code == 303 and r.headers["location"] == "/athletes"
    page = c.get("/athletes")
    return c, csrf_in(page.text)


# ---------------------------------------------------------------- sessions and login


def test_requests_without_a_session_are_refused(site):
    app, ids, _ = site
    c = client(app)
    t = ids["latest"]
    for path in ("/", "/athletes", "/athletes/a-017", f"/tests/{t}", f"/tests/{t}/report",
                 f"/tests/{t}/report.pdf"):
        r = c.get(path)
        assert r.status_code == 303 and r.headers["location"].startswith("/login"), path
        assert "a-017" not in r.text and "Maya" not in r.text
    for path in (f"/tests/{t}/labels", f"/tests/{t}/notes", "/logout"):
        r = c.post(path, data={"csrf": "x", "rep": "1", "item_knee": "2", "text": "hi"})
        assert r.status_code == 303 and r.headers["location"].startswith("/login"), path
    assert repo.get_test(db.connect(site[2]), t).reps[0].labels == {}


def test_a_forged_cookie_is_no_session(site):
    app, _, _ = site
    c = client(app)
    c.cookies.set("stepdown_session", "guessed-token", domain="testserver")
    assert c.get("/athletes").status_code == 303


def test_session_cookie_is_httponly_strict_and_secure(site):
    app, _, _ = site
    c = client(app)
    token = csrf_in(c.get("/login").text)
    r = c.post("/login", data={"csrf": token, "username": "coach-a", "password": PASSWORD})
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "secure" in cookie


def test_wrong_password_and_unknown_user_get_the_same_answer(site):
    app, _, _ = site
    c = client(app)
    token = csrf_in(c.get("/login").text)
    answers = [c.post("/login", data={"csrf": token, "username": u, "password": "wrong pw!!"})
               for u in ("coach-a", "nobody")]
    assert [a.status_code for a in answers] == [401, 401]
    assert all("Wrong user name or password" in a.text for a in answers)
    assert "set-cookie" not in {k.lower() for k in answers[0].headers if k.lower() != "x"} \
        or "stepdown_session" not in answers[0].headers.get("set-cookie", "")


def test_login_redirect_stays_on_this_site(site):
    app, _, _ = site
    c = client(app)
    token = csrf_in(c.get("/login").text)
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        r = c.post("/login", data={"csrf": token, "username": "coach-a", "password": PASSWORD,
                                   "next": target})
        assert r.headers["location"] == "/athletes", target


def test_logout_ends_the_session(site):
    app, _, _ = site
    c, csrf = logged_in(app)
    assert c.post("/logout", data={"csrf": csrf}).status_code == 303
    assert c.get("/athletes").status_code == 303


# ---------------------------------------------------------------- CSRF


def test_form_posts_without_a_valid_csrf_token_are_refused(site):
    app, ids, path = site
    c, csrf = logged_in(app)
    t = ids["latest"]
    for data in ({}, {"csrf": ""}, {"csrf": csrf[:-1] + ("A" if csrf[-1] != "A" else "B")}):
        form = {"rep": "1", "item_knee": "2", "text": "note", **data}
        assert c.post(f"/tests/{t}/labels", data=form).status_code == 403
        assert c.post(f"/tests/{t}/notes", data=form).status_code == 403
        assert c.post("/logout", data=form).status_code == 403
    detail = repo.get_test(db.connect(path), t)
    assert detail.reps[0].labels == {} and detail.notes == []
    # Another session's token does not work either.
    _, other_csrf = logged_in(app, "head")
    assert c.post(f"/tests/{t}/labels", data={"csrf": other_csrf, "rep": "1",
                                              "item_knee": "2"}).status_code == 403


def test_login_form_needs_its_csrf_token(site):
    app, _, _ = site
    c = client(app)
    c.get("/login")
    r = c.post("/login", data={"username": "coach-a", "password": PASSWORD})
    assert r.status_code == 403 and "stepdown_session" not in r.headers.get("set-cookie", "")


def test_every_form_carries_a_csrf_token(site):
    """Every form that changes something (POST) carries the token; search forms are GET."""
    app, ids, _ = site
    c, _ = logged_in(app, "head")
    for path in ("/athletes", "/athletes/a-017", f"/tests/{ids['latest']}"):
        html = c.get(path).text
        forms = re.findall(r"<form\b.*?</form>", html, flags=re.S)
        assert forms, path
        for form in forms:
            method = re.match(r'<form[^>]*method="(\w+)"', form).group(1).lower()
            assert method in ("post", "get"), form[:80]
            if method == "post":
                assert 'name="csrf"' in form, (path, form[:80])


# ---------------------------------------------------------------- access control


def test_coach_sees_only_assigned_athletes(site):
    app, ids, _ = site
    c, _ = logged_in(app, "coach-b")
    page = c.get("/athletes").text
    assert "b-002" in page and "a-017" not in page
    for path in ("/athletes/a-017", f"/tests/{ids['latest']}", f"/tests/{ids['latest']}/report",
                 f"/tests/{ids['latest']}/report.pdf"):
        r = c.get(path)
        assert r.status_code == 404 and "Maya" not in r.text, path
    # Not found and not allowed look the same.
    assert c.get("/athletes/zz-999").text == c.get("/athletes/a-017").text
    assert c.get("/tests/99999").text == c.get(f"/tests/{ids['latest']}").text


def test_coach_cannot_write_to_another_coachs_test(site):
    app, ids, path = site
    c, csrf = logged_in(app, "coach-b")
    t = ids["latest"]
    assert c.post(f"/tests/{t}/labels", data={"csrf": csrf, "rep": "1",
                                              "item_knee": "0"}).status_code == 404
    assert c.post(f"/tests/{t}/notes", data={"csrf": csrf, "text": "x"}).status_code == 404
    detail = repo.get_test(db.connect(path), t)
    assert detail.reps[0].labels == {} and detail.notes == []


# ---------------------------------------------------------------- injection and traversal

ATTACKS = ["../../etc/passwd", "..%2F..%2Fetc%2Fpasswd", "%2e%2e%2f%2e%2e%2fcatalog.sqlite3",
           "a-017' OR '1'='1", "a-017\"; DROP TABLE tests; --", "1 OR 1=1", "1;DROP TABLE tests",
           "<script>alert(1)</script>", "%00", "a-017%00"]


def test_path_traversal_and_sql_injection_in_urls_are_harmless(site):
    app, ids, path = site
    c, _ = logged_in(app, "coach-b")
    for attack in ATTACKS:
        for url in (f"/athletes/{attack}", f"/tests/{attack}", f"/tests/{attack}/report",
                    f"/static/{attack}", f"/static/../../{attack}", f"/athletes?x={attack}"):
            r = c.get(url)
            assert r.status_code in (200, 303, 404), (url, r.status_code)
            assert "Maya" not in r.text and "root:" not in r.text and "SQLite" not in r.text
            assert "<script>alert(1)</script>" not in r.text
    conn = db.connect(path)
    assert len(repo.list_tests(conn)) == 4  # nothing dropped


def test_injection_in_form_fields_is_stored_as_text_or_refused(site):
    app, ids, path = site
    c, csrf = logged_in(app, "head")
    t = ids["other"]
    for attack in ATTACKS:
        r = c.post(f"/tests/{t}/labels", data={"csrf": csrf, "rep": attack, "item_knee": "1"})
        assert r.status_code == 400
        r = c.post(f"/tests/{t}/labels", data={"csrf": csrf, "rep": "1", "item_knee": attack})
        assert r.status_code == 400
        r = c.post(f"/tests/{t}/notes", data={"csrf": csrf, "rep": attack, "text": "x"})
        assert r.status_code == 400
    r = c.post(f"/tests/{t}/notes", data={"csrf": csrf, "text": ATTACKS[4] + ATTACKS[7]})
    assert r.status_code == 303
    page = c.get(f"/tests/{t}").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # escaped, not executed
    assert "<script>alert(1)</script>" not in page
    conn = db.connect(path)
    assert len(repo.list_tests(conn)) == 4
    assert repo.get_test(conn, t).notes[-1].text == ATTACKS[4] + ATTACKS[7]
    assert c.post("/login", data={"csrf": csrf, "username": "' OR 1=1 --",
                                  "password": "' OR 1=1 --"}).status_code == 403


def test_out_of_range_labels_are_refused(site):
    app, ids, path = site
    c, csrf = logged_in(app, "head")
    t = ids["other"]
    for form in ({"rep": "1", "item_pelvis": "2"}, {"rep": "1", "item_knee": "3"},
                 {"rep": "1", "item_knee": "-1"}, {"rep": "42", "item_knee": "1"}):
        assert c.post(f"/tests/{t}/labels", data={"csrf": csrf, **form}).status_code == 400
    assert repo.get_test(db.connect(path), t).reps[0].labels == {}


def test_oversized_form_is_refused(site):
    app, ids, _ = site
    c, csrf = logged_in(app, "head")
    r = c.post(f"/tests/{ids['other']}/notes", data={"csrf": csrf, "text": "x" * 100_000})
    assert r.status_code == 413


# ---------------------------------------------------------------- pages and headers


class _Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("src", "href", "action", "data", "poster", "srcset") and value:
                self.urls.append(value)


def test_every_page_references_only_local_urls(site):
    app, ids, _ = site
    c, _ = logged_in(app, "head")
    t = ids["latest"]
    pages = ["/login", "/athletes", "/athletes/a-017", "/athletes/b-002", f"/tests/{t}",
             f"/tests/{t}/report"]
    for path in pages:
        r = c.get(path)
        assert r.status_code == 200, path
        refs = _Refs()
        refs.feed(r.text)
        for url in refs.urls:
            assert url.startswith(("/", "#")) and not url.startswith("//"), (path, url)
        assert "http://" not in r.text.replace("http://www.w3.org", "") or path.endswith("report")
        assert "default-src 'self'" in r.headers["content-security-policy"]
        assert r.headers["x-frame-options"] == "DENY"
    report = c.get(f"/tests/{t}/report").text
    refs = _Refs()
    refs.feed(report)
    assert refs.urls == []  # self-contained: no link, script or image to fetch
    assert re.search(r"https?://(?!www\.w3\.org)", report) is None


def test_plotly_js_is_served_locally_from_the_package(site):
    app, _, _ = site
    c = client(app)
    r = c.get("/static/plotly.min.js")
    assert r.status_code == 200 and "javascript" in r.headers["content-type"]
    assert len(r.content) > 1_000_000 and b"plotly" in r.content[:2000].lower()
    assert c.get("/static/charts.js").status_code == 200
    assert c.get("/static/nothing.js").status_code == 404


def test_athletes_page_shows_latest_result_trend_and_flags(site):
    app, _, _ = site
    c, _ = logged_in(app, "head")
    html = c.get("/athletes").text
    row = re.search(r"<tr>\s*<td[^>]*><a href=\"/athletes/a-017\".*?</tr>", html,
                    flags=re.S).group(0)
    assert 'class="badge medium"' in row and "2026-11-01 10:00" in row
    assert "<svg" in row and 'aria-label="totals 5, 1, 3"' in row
    assert "latest test medium (was good), total 1 → 3" in row and "pain reported" in row


def test_test_page_shows_reps_items_sources_and_explanation(site):
    app, ids, _ = site
    c, _ = logged_in(app, "head")
    html = c.get(f"/tests/{ids['latest']}").text
    assert html.count('<tr id="rep-') == 5
    assert "auto 1 · measured" in html and "auto 0 · classifier" in html
    assert "pelvis dropped" in html and "threshold 5°" in html
    assert "majority rule" in html and "Piva 0–6 subtotal" in html
    assert 'id="chart-data"' in html and "knee_medial_cm" in html
    assert "could be: total 3–4 (medium to poor), allowing for 1 borderline rep item(s)" in html
    assert "knee in rep 2 (3.3 cm) is within ±0.7 cm of the 3.5 cm threshold" in html
    # an analysis stored without the uncertainty block shows no such section
    assert "How sure" not in c.get(f"/tests/{ids['other']}").text


def test_relabel_keeps_automatic_result_and_note_is_listed(site):
    app, ids, path = site
    c, csrf = logged_in(app, "head")
    t = ids["other"]
    r = c.post(f"/tests/{t}/labels", data={"csrf": csrf, "rep": "3", "item_arm": "0",
                                           "item_knee": "2", "item_pelvis": "1"})
    assert r.status_code == 303 and r.headers["location"].startswith(f"/tests/{t}?saved=1")
    detail = repo.get_test(db.connect(path), t)
    rep3 = detail.reps[2]
    assert {k: lab.value for k, lab in rep3.labels.items()} == {"knee": 2}  # only the change
    assert rep3.items["knee"] == 1
    html = c.get(f"/tests/{t}").text
    assert "rep 3, knee inside foot: automatic 1, coach 2 (head)" in html
    row3 = re.search(r'<tr id="rep-3">.*?</tr>', html, flags=re.S).group(0)
    assert ('<td class="n" data-label="Total (auto)">2</td>'
            '<td class="n" data-label="Total (coach)">3</td>') in row3  # automatic, coach


def test_report_html_and_pdf(site):
    app, ids, _ = site
    c, _ = logged_in(app, "head")
    html = c.get(f"/tests/{ids['latest']}/report").text
    assert "<svg" in html and "Lateral step-down test — a-017" in html and "3/8" in html
    assert "How sure:" in html and "could be: total 3–4" in html
    pdf = c.get(f"/tests/{ids['latest']}/report.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    assert pdf.headers["content-type"] == "application/pdf"


# ---------------------------------------------------------------- stepdown serve


def test_serve_prints_the_address_and_binds_loopback(tmp_path, monkeypatch, capsys):
    import io
    import os

    import uvicorn

    from stepdown.cli import main

    monkeypatch.setenv("STEPDOWN_HOME", str(tmp_path))
    assert main(["serve"]) == 2
    assert "no accounts yet" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["users", "add", "head", "--all-athletes", "--password-stdin"]) == 0
    ran = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: ran.update(kw, app=app))
    assert main(["serve", "--port", "8899"]) == 0
    assert "http://127.0.0.1:8899/" in capsys.readouterr().out
    assert ran["host"] == "127.0.0.1" and ran["port"] == 8899 and ran["factory"] is True
    assert ran["app"] == "stepdown.web.app:app_from_environment" and ran["workers"] >= 1
    assert "STEPDOWN_DATABASE_URL" not in os.environ  # set for the workers only while serving
    assert main(["serve", "--workers", "0"]) == 2
    assert "--workers must be 1-64" in capsys.readouterr().err


def test_serve_beyond_this_computer_needs_tls(tmp_path, monkeypatch, capsys):
    from stepdown.cli import main

    monkeypatch.setenv("STEPDOWN_HOME", str(tmp_path))
    assert main(["serve", "--host", "0.0.0.0"]) == 2
    err = capsys.readouterr().err
    assert "needs HTTPS" in err and len(err.strip().splitlines()) == 1


def test_trunk_lean_curves_show_its_size_either_side_against_the_threshold():
    import numpy as np

    from stepdown.web.charts import measure_specs, rep_curve_charts

    class Rep:  # the fields rep_curve_charts reads
        index, start_s, end_s = 1, 0.0, 2.0

    t = np.linspace(0, 2, 50)
    lean = -8.0 * np.sin(np.pi * t / 2)  # leaning to one side: a negative signed series
    specs = [s for s in measure_specs() if s.key == "trunk_lean_deg"]
    (fig,) = rep_curve_charts(t, {"trunk_lean_deg": lean}, [Rep()], specs)
    y = [v for v in fig["data"][0]["y"] if v is not None]
    assert min(y) >= 0 and max(y) == pytest.approx(8.0, abs=0.1)
    assert fig["layout"]["shapes"][0]["y0"] == 10.0


def test_knee_level_2_threshold_is_the_athletes_foot_offset_when_known():
    from analysis.rules import RuleConfig
    from stepdown.web.charts import athlete_specs

    cfg = RuleConfig()

    def knee_thresholds(athlete):
        (knee,) = [s for s in athlete_specs(athlete) if s.key == "knee_medial_cm"]
        return [value for value, _ in knee.thresholds]

    assert knee_thresholds(repo.AthleteInfo("a-1", foot_medial_offset_m=0.042)) == \
        [cfg.knee_cm_1, pytest.approx(4.2)]
    assert knee_thresholds(repo.AthleteInfo("a-1")) == knee_thresholds(None) == \
        [cfg.knee_cm_1, cfg.knee_cm_2]


def test_athlete_page_has_the_training_load_panel_only_with_a_training_log(tmp_path):
    import datetime as dt

    from analysis.training_load.entries import LoadEntry
    from stepdown.catalog.training_log import add_entries

    path = tmp_path / "catalog.sqlite3"
    conn = db.connect(path)
    add_entries(conn, [LoadEntry(athlete_id="logged", date=dt.date(2026, 2, 2), activity="run",
                                 duration_s=1800.0, rpe=5.0)])
    repo.ensure_athlete(conn, repo.AthleteInfo("unlogged"))
    accounts.add_user(conn, "head", PASSWORD, sees_all=True)
    conn.close()
    c, _ = logged_in(create_app(path), "head")
    logged = c.get("/athletes/logged").text
    assert "<h2>Training load</h2>" in logged and 'id="load-data"' in logged
    assert "not injury risk" in logged  # the flags' caveat (analysis.training_load.flags.FLAG_HELP)
    unlogged = c.get("/athletes/unlogged")
    assert unlogged.status_code == 200 and "Training load" not in unlogged.text


def test_test_page_says_which_measures_were_not_measured_and_why(site):
    app, ids, _ = site
    c, _ = logged_in(app)
    html = c.get(f"/tests/{ids['latest']}").text
    assert "Not measured" in html
    assert "rep 3, hip adduction: 54.2 is outside what a step-down can produce" in html
    assert "Hip int. rotation (unvalidated)" in html


def test_the_test_page_draws_the_thresholds_its_analysis_used(tmp_path):
    import html as html_lib
    import json

    path = tmp_path / "catalog.sqlite3"
    conn = db.connect(path)
    used = contract_doc()
    used["config"] = {"rules": {"pelvis_deg": 7.0, "knee_cm_1": 1.5, "knee_cm_2": 4.5}}
    ids = [repo.store_test(conn, athlete=repo.AthleteInfo("a-1"), analysis=repo.read_analysis(doc),
                           recording_path=f"/rec/{n}", content_sha256=f"{n}" * 64)[0]
           for n, doc in enumerate((used, contract_doc()))]  # the second: saved no thresholds
    accounts.add_user(conn, "head", PASSWORD, sees_all=True)
    conn.close()
    c, _ = logged_in(create_app(path), "head")

    def thresholds(test_id: int) -> dict[str, list[float]]:
        page = c.get(f"/tests/{test_id}").text
        data = re.search(r'id="chart-data">(.*?)</script>', page, re.S).group(1)
        return {fig["id"]: [s["y0"] for s in fig["layout"].get("shapes", [])]
                for fig in json.loads(html_lib.unescape(data))}

    configured, default = thresholds(ids[0]), thresholds(ids[1])
    pelvis = [k for k in configured if "pelvic_drop" in k][0]
    knee = [k for k in configured if "knee_medial" in k][0]
    assert configured[pelvis] == [7.0] and configured[knee] == [1.5, 4.5]
    assert default[pelvis] == [5.0] and default[knee] == [1.0, 3.5]
