"""The coach's desk: Today (reasons, acknowledge), find (search, filters, pages), tags,
time zone."""

from __future__ import annotations

import datetime as dt
import math
import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from analysis_docs import contract_doc, contract_result  # noqa: E402
from test_web import PASSWORD, logged_in, make_catalog  # noqa: E402

from analysis.training_load.entries import LoadEntry  # noqa: E402
from analysis.uncertainty import largest_uncertainty  # noqa: E402
from stepdown.catalog import accounts, db, desk, repo  # noqa: E402
from stepdown.catalog.training_log import add_entries  # noqa: E402
from stepdown.web.app import PER_PAGE, create_app  # noqa: E402


def _ramp(athlete: str, last_day: dt.date) -> list[LoadEntry]:
    """Five steady weeks, then two weeks at three times the minutes and a higher RPE."""
    first = last_day - dt.timedelta(days=48)
    return [LoadEntry(athlete_id=athlete, date=first + dt.timedelta(days=i), activity="run",
                      duration_s=1800.0 if i < 35 else 5400.0, rpe=5.0 if i < 35 else 7.0)
            for i in range(49)]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """make_catalog's athletes plus 'ramp' (ACWR episode up to yesterday, one good test)
    and 'calm' (steady log, one reviewed good test)."""
    path = tmp_path_factory.mktemp("desk") / "catalog.sqlite3"
    ids = make_catalog(path)
    conn = db.connect(path)
    yesterday = dt.date.today() - dt.timedelta(days=1)
    add_entries(conn, _ramp("ramp", yesterday))
    add_entries(conn, [  # five runs and two rest days a week
        LoadEntry(athlete_id="calm", date=yesterday - dt.timedelta(days=i), activity="rest")
        if i % 7 in (2, 5) else
        LoadEntry(athlete_id="calm", date=yesterday - dt.timedelta(days=i), activity="run",
                  duration_s=1500.0 + 600 * (i % 2), rpe=5.0) for i in range(40)])
    for n, who in enumerate(("ramp", "calm")):
        doc = contract_doc(total_by_rep=(0, 0, 0, 0, 0), category="good")
        doc["test"]["total"] = 0
        ids[who], _ = repo.store_test(conn, athlete=repo.AthleteInfo(who), analysis=repo.read_analysis(doc),
                                      recording_path="/rec/z", content_sha256=f"{n}" * 63 + "e",
                                      started_at="2026-11-20T09:00:00Z")
    repo.add_note(conn, ids["calm"], "head", "fine", None)
    conn.close()
    return create_app(path), ids, path


def _rows(html: str) -> list[str]:
    return re.findall(r'<tr>\s*<td data-label="Athlete"><a href="/athletes/([^"]+)"', html)


def _reasons(html: str, athlete: str) -> str:
    row = re.search(rf'<a href="/athletes/{athlete}".*?</tr>', html, flags=re.S)
    return row.group(0) if row else ""


def test_today_puts_the_load_spike_first_with_its_size(site):
    app, _, _ = site
    c, _ = logged_in(app, "head")
    html = c.get("/athletes").text
    order = _rows(html)
    assert order[0] == "ramp", order
    row = _reasons(html, "ramp")
    assert re.search(r"rolling ACWR &gt; 1.5 from \d{4}-\d\d-\d\d to \d{4}-\d\d-\d\d "
                     r"\(\d+ days\), peak \d\.\d\d", row), row
    assert "nothing new" in _reasons(html, "calm")
    assert order.index("calm") == len(order) - 1


def test_acknowledging_records_who_and_when_and_quietens_the_reason(site):
    app, _, path = site
    c, csrf = logged_in(app, "head")
    html = c.get("/athletes").text
    key = re.search(r'name="reason" value="(test:\d+:unreviewed)"', _reasons(html, "b-002"))
    assert key
    form = {"reason": key.group(1), "back": "/athletes?q=b-"}
    assert c.post("/athletes/b-002/ack", data=form).status_code == 403  # no CSRF token
    r = c.post("/athletes/b-002/ack", data={**form, "csrf": csrf})
    assert r.status_code == 303 and r.headers["location"] == "/athletes?q=b-"
    stored = desk.acknowledgements(db.connect(path), ["b-002"])["b-002"][key.group(1)]
    assert stored.author == "head" and stored.created_at.startswith(dt.date.today().isoformat()[:4])
    row = _reasons(c.get("/athletes").text, "b-002")
    assert 'class="acked' in row and "seen by head" in row
    # made-up reasons, and athletes the coach may not see, are refused
    assert c.post("/athletes/b-002/ack", data={"csrf": csrf, "reason": "test:1:nonsense"}
                  ).status_code == 400
    other, other_csrf = logged_in(app, "coach-a")
    assert other.post("/athletes/b-002/ack", data={"csrf": other_csrf, "reason": key.group(1)}
                      ).status_code == 404
    assert c.post("/athletes/b-002/ack", data={"csrf": csrf, "reason": key.group(1),
                                               "back": "https://evil.example/"}
                  ).headers["location"] == "/athletes"


def test_find_by_text_result_and_reason(site):
    app, _, _ = site
    c, _ = logged_in(app, "head")
    assert _rows(c.get("/athletes?q=MAYA").text) == ["a-017"]  # the name, any case
    assert set(_rows(c.get("/athletes?result=good").text)) == {"ramp", "calm"}
    assert set(_rows(c.get("/athletes?result=medium").text)) == {"a-017", "b-002"}
    assert _rows(c.get("/athletes?need=load").text) == ["ramp"]
    # nonsense filters are ignored, not shown
    html = c.get("/athletes?result=%3Cscript%3E&need=x&page=abc&tag=%22").text
    assert "<script>" not in html and len(_rows(html)) == 4


def test_a_coach_finds_only_their_athletes(site):
    app, _, _ = site
    c, _ = logged_in(app, "coach-b")
    assert _rows(c.get("/athletes").text) == ["b-002"]
    assert _rows(c.get("/athletes?q=a-017").text) == []


def test_groups_are_set_on_the_athlete_page_and_filter_the_list(site):
    app, _, _ = site
    c, csrf = logged_in(app, "head")
    r = c.post("/athletes/calm/tags", data={"csrf": csrf, "tags": "Track, u20"})
    assert r.status_code == 303
    assert 'value="track u20"' in c.get("/athletes/calm").text
    assert _rows(c.get("/athletes?tag=u20").text) == ["calm"]
    assert c.post("/athletes/calm/tags", data={"csrf": csrf, "tags": "no/slash"}
                  ).status_code == 400
    other, other_csrf = logged_in(app, "coach-b")
    assert other.post("/athletes/calm/tags", data={"csrf": other_csrf, "tags": "x"}
                      ).status_code == 404


def test_pages_of_athletes(tmp_path):
    path = tmp_path / "catalog.sqlite3"
    conn = db.connect(path)
    for i in range(PER_PAGE + 5):
        repo.ensure_athlete(conn, repo.AthleteInfo(f"p-{i:03d}"))
    accounts.add_user(conn, "head", PASSWORD, sees_all=True)
    conn.close()
    c, _ = logged_in(create_app(path), "head")
    first = c.get("/athletes").text
    assert len(_rows(first)) == PER_PAGE and 'href="/athletes?page=2"' in first
    second = c.get("/athletes?page=2").text
    assert _rows(second) == [f"p-{i:03d}" for i in range(PER_PAGE, PER_PAGE + 5)]
    assert _rows(c.get("/athletes?page=99").text) == _rows(second)  # past the end: last page


def test_times_are_shown_in_the_coachs_time_zone(site):
    app, ids, path = site
    conn = db.connect(path)
    accounts.set_time_zone(conn, "coach-a", "Europe/Berlin")
    with pytest.raises(db.CatalogError):
        accounts.set_time_zone(conn, "coach-a", "Mars/Olympus")
    c, _ = logged_in(app, "coach-a")
    assert "2026-11-01 11:00 CET" in c.get(f"/tests/{ids['latest']}").text  # 10:00 UTC
    head, _ = logged_in(app, "head")
    assert "2026-11-01 10:00" in head.get(f"/tests/{ids['latest']}").text


# ---------------------------------------------------------------- compare, CSV, trends


def test_compare_two_tests_side_by_side(site):
    app, ids, _ = site
    c, _ = logged_in(app, "coach-a")
    html = c.get("/athletes/a-017/compare").text  # default: the two newest
    assert 'id="compare-measures"' in html and "Pelvic drop" in html
    assert f'href="/tests/{ids["latest"]}"' in html
    legs = c.get("/athletes/a-017/compare?legs=1").text
    first_row = re.search(r"<tr><th>Test</th>.*?</tr>", legs, flags=re.S).group(0)
    assert first_row.index("left leg") < first_row.index("right leg")
    for bad in ("?a=abc&b=1", f"?a={ids['other']}&b={ids['latest']}", "?a=1&b=99999999"):
        assert c.get("/athletes/a-017/compare" + bad).status_code == 404, bad
    other, _ = logged_in(app, "coach-b")
    assert other.get("/athletes/a-017/compare").status_code == 404


def test_a_change_counts_only_beyond_the_uncertainty():
    from stepdown.web.compare import MeasureChange

    bound = 2 ** 0.5 * 0.7  # pelvic drop: 0.7° per rep peak
    assert MeasureChange("pelvic_drop_deg", "Pelvic drop", "°", 5.0, 6.2, bound).exceeds
    assert not MeasureChange("pelvic_drop_deg", "Pelvic drop", "°", 5.0, 5.9, bound).exceeds
    assert MeasureChange("x", "x", "", 5.0, None, bound).exceeds is None


def test_the_knee_change_has_the_bound_of_the_knee_source_the_analysis_used():
    from dataclasses import replace
    from types import SimpleNamespace

    from analysis.result import RecordingSummary
    from analysis.uncertainty import measure_uncertainty
    from stepdown.web.compare import measure_changes

    def detail(knee_cm: float, source: str | None):
        summary = SimpleNamespace(mean_measures={"knee_medial_cm": knee_cm})
        analysis = replace(contract_result(), recording=RecordingSummary(
            "left", ("pelvis", "thigh_left"), body={"knee_medial_from": source}))
        return SimpleNamespace(summary=summary, analysis=analysis)

    (knee,) = [c for c in measure_changes(detail(1.0, "shank"), detail(2.5, "shank"))
               if c.key == "knee_medial_cm"]
    # an analysis stored before it stated its bounds: the knee source's table, both tests
    u = measure_uncertainty("shank")["knee_medial_cm"]
    assert knee.bound == pytest.approx(math.ceil(10 * 2 ** 0.5 * u) / 10)
    assert knee.exceeds is (1.5 > knee.bound)
    (unknown,) = [c for c in measure_changes(detail(1.0, None), detail(2.5, None))
                  if c.key == "knee_medial_cm"]
    assert unknown.bound is None and unknown.exceeds is None  # no knee measured: no bound
    # an unvalidated measure earns no precision, in an old analysis's fallback table too
    old = detail(1.0, "shank")
    old.summary.mean_measures["hip_internal_rotation_deg"] = 4.0
    (rotation,) = [c for c in measure_changes(old, old) if c.key == "hip_internal_rotation_deg"]
    assert rotation.bound is None and rotation.exceeds is None


def test_a_change_between_sessions_is_judged_by_what_each_analysis_states_and_real_data():
    # Each test's own simulated bound (its calibration case), and for pelvic drop how a
    # real subject's offset from the lab moved between trials: a 2 deg change, "beyond" for
    # sqrt(2) x 0.7 deg of simulation alone, is within what real trials moved.
    from dataclasses import replace
    from types import SimpleNamespace

    from analysis.exercises.change_bound import real_change_terms
    from stepdown.web.compare import measure_changes

    def detail(drop_deg: float, knee_cm: float, flexion: float = 30.0):
        summary = SimpleNamespace(mean_measures={"pelvic_drop_deg": drop_deg,
                                                 "knee_medial_cm": knee_cm,
                                                 "hip_flexion_deg": flexion})
        stated = {"case": "functional axis, still",
                  "simulated": {"pelvic_drop_deg": 0.7, "knee_medial_cm": 0.6,
                                "hip_flexion_deg": 1.0}}
        return SimpleNamespace(summary=summary,
                               analysis=replace(contract_result(), uncertainty=stated))

    changes = {c.key: c for c in measure_changes(detail(5.0, 1.0), detail(7.0, 2.0))}
    real = real_change_terms("functional axis")["pelvic_drop_deg"]
    assert real > 2.0
    assert changes["pelvic_drop_deg"].bound == pytest.approx(
        math.ceil(10 * math.hypot(0.7, 0.7, real)) / 10)
    assert changes["pelvic_drop_deg"].exceeds is False
    # hip flexion too has real trials (its offsets moved 2.4 deg sd between them)
    flexion = measure_changes(detail(5.0, 1.0, flexion=30.0), detail(5.0, 1.0, flexion=33.0))
    (flexion,) = [c for c in flexion if c.key == "hip_flexion_deg"]
    assert flexion.bound == pytest.approx(
        math.ceil(10 * math.hypot(1.0, 1.0, real_change_terms("functional axis")["hip_flexion_deg"])) / 10)
    assert flexion.exceeds is False
    # the knee has no real reference: the two simulated bounds alone (0.85 -> 0.9 cm)
    assert changes["knee_medial_cm"].bound == pytest.approx(0.9)
    assert changes["knee_medial_cm"].exceeds is True


def test_tests_as_csv(site):
    import csv
    import io

    app, _, _ = site
    c, _ = logged_in(app, "coach-a")
    r = c.get("/athletes/a-017/tests.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [row["total"] for row in rows] == ["5", "1", "3"]
    assert rows[0]["mean_pelvic_drop_deg"] == "7.000"
    other, _ = logged_in(app, "coach-b")
    assert other.get("/athletes/a-017/tests.csv").status_code == 404


def _charts(html: str) -> list[dict]:
    import json

    text = re.search(r'id="chart-data">(.*?)</script>', html, flags=re.S).group(1)
    return json.loads(text)


def test_trends_carry_the_uncertainty_band_and_one_test_a_week_wide_axis(site):
    app, _, _ = site
    c, _ = logged_in(app, "head")
    figs = {f["id"]: f for f in _charts(c.get("/athletes/a-017").text)}
    pelvis = figs["trend_pelvic_drop_deg"]["data"]
    band = next(t for t in pelvis if t.get("fill") == "toself")
    line = next(t for t in pelvis if t["name"] == "left leg")
    assert max(band["y"]) == pytest.approx(max(line["y"]) + largest_uncertainty("pelvic_drop_deg"))
    single = _charts(c.get("/athletes/b-002").text)[0]["layout"]["xaxis"]
    start, end = (dt.date.fromisoformat(x) for x in single["range"])
    assert single["type"] == "date" and (end - start).days == 14


# ---------------------------------------------------------------- notes and reports


def _fresh(tmp_path):
    path = tmp_path / "catalog.sqlite3"
    ids = make_catalog(path)
    return create_app(path), ids, path


def test_notes_are_edited_and_deleted_with_their_history(tmp_path):
    app, ids, path = _fresh(tmp_path)
    t = ids["latest"]
    c, csrf = logged_in(app, "coach-a")
    c.post(f"/tests/{t}/notes", data={"csrf": csrf, "text": "first words"})
    note_id = int(re.search(r'id="note-(\d+)"', c.get(f"/tests/{t}").text).group(1))
    url = f"/tests/{t}/notes/{note_id}"
    assert c.post(url, data={"action": "save", "text": "x"}).status_code == 403  # no CSRF
    r = c.post(url, data={"csrf": csrf, "action": "save", "text": "better words",
                          "for_athlete": "1"})
    assert r.status_code == 303
    page = c.get(f"/tests/{t}").text
    assert "better words" in page and 'class="shared">in the athlete\'s report' in page
    assert re.search(r"edited by coach-a .*?; before:</span> first words", page)
    # another coach who can see the test may not change a note that is not theirs
    conn = db.connect(path)
    accounts.assign(conn, "coach-b", ["a-017"])
    other, other_csrf = logged_in(app, "coach-b")
    assert other.post(url, data={"csrf": other_csrf, "action": "delete"}).status_code == 403
    assert c.post(url, data={"csrf": csrf, "action": "delete"}).status_code == 303
    assert "better words" not in c.get(f"/tests/{t}").text
    from stepdown.catalog.notes import note_history

    history = note_history(conn, t)[note_id]
    assert [(v.change, v.text) for v in history] == [("edited", "first words"),
                                                     ("deleted", "better words")]
    assert c.post(url, data={"csrf": csrf, "action": "save", "text": "again"}).status_code == 404
    assert c.post(f"/tests/{t}/notes/99999999999999999999",
                  data={"csrf": csrf, "action": "delete"}).status_code == 404


def test_the_athletes_report_has_only_the_notes_chosen_for_them(tmp_path):
    app, ids, _ = _fresh(tmp_path)
    t = ids["latest"]
    c, csrf = logged_in(app, "coach-a")
    c.post(f"/tests/{t}/notes", data={"csrf": csrf, "text": "INTERNAL: check hip history"})
    c.post(f"/tests/{t}/notes", data={"csrf": csrf, "text": "Great control on rep 3!",
                                      "for_athlete": "1"})
    report = c.get(f"/tests/{t}/report").text
    assert "Great control on rep 3!" in report and "INTERNAL" not in report
    assert "INTERNAL" in c.get(f"/tests/{t}").text  # the coaches still see it


def test_reports_use_the_coach_reviewed_result(tmp_path):
    app, ids, _ = _fresh(tmp_path)
    t = ids["other"]  # b-002: medium, total 2 (pelvis 1, knee 1 in every rep)
    c, csrf = logged_in(app, "head")
    for rep in range(1, 6):
        c.post(f"/tests/{t}/labels", data={"csrf": csrf, "rep": str(rep), "item_pelvis": "0",
                                           "item_knee": "0"})
    page = c.get(f"/tests/{t}").text
    assert "Coach-reviewed result: 0/8" in page
    report = c.get(f"/tests/{t}/report").text
    assert re.search(r'<div class="big good">0/8</div>', report)
    assert "automatic result 2/8" in report
    pdf = c.get(f"/tests/{t}/report.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_reviewed_result_follows_the_tests_rule():
    from stepdown.catalog.repo import Label
    from stepdown.web.views import reviewed_result

    doc = contract_doc()
    detail = repo.TestDetail(
        repo.TestSummary(1, "a", None, "2026-01-01T00:00:00Z", "left", 0.2, "majority", 2, 2,
                         "medium", 5, {}, False, 0, 0),
        [], "", doc, dict(doc["test"]["items"]),
        [repo.RepDetail(r["index"], r["start_s"], r["bottom_s"], r["end_s"], r["total"], None,
                        r["measures"], r["items"], r["sources"]) for r in doc["reps"]], [])
    assert not reviewed_result(detail).relabelled
    for rep in detail.reps[:2]:  # 2 of 5 reps relabelled: the majority still has the knee
        rep.labels["knee"] = Label(0, "c", "t")
    assert reviewed_result(detail).total == 2
    detail.reps[2].labels["knee"] = Label(0, "c", "t")  # 3 of 5: no longer
    r = reviewed_result(detail)
    assert r.relabelled and r.total == 1 and r.category == "good" and r.items["knee"] == 0


# ---------------------------------------------------------------- accounts in the web


def test_a_coach_changes_password_time_zone_and_ends_sessions(tmp_path):
    app, _, path = _fresh(tmp_path)
    c, csrf = logged_in(app, "coach-a")
    second, _ = logged_in(app, "coach-a")
    assert c.post("/account", data={"action": "time_zone", "time_zone": "Europe/Berlin"}
                  ).status_code == 403  # no CSRF token
    assert c.post("/account", data={"csrf": csrf, "action": "time_zone",
                                    "time_zone": "Nowhere/Else"}).status_code == 400
    assert c.post("/account", data={"csrf": csrf, "action": "time_zone",
                                    "time_zone": "Europe/Berlin"}).status_code == 303
    assert accounts.get_user(db.connect(path), "coach-a").time_zone == "Europe/Berlin"
    wrong = c.post("/account", data={"csrf": csrf, "action": "password", "current": "nope",
                                     "new": "a new long password", "repeat": "a new long password"})
    assert wrong.status_code == 403
    differ = c.post("/account", data={"csrf": csrf, "action": "password", "current": PASSWORD,
                                      "new": "a new long password", "repeat": "other words!!"})
    assert differ.status_code == 400
    ok = c.post("/account", data={"csrf": csrf, "action": "password", "current": PASSWORD,
                                  "new": "a new long password", "repeat": "a new long password"})
    assert ok.status_code == 303 and ok.headers["location"] == "/login"
    assert second.get("/athletes").status_code == 303  # every session ended
    assert accounts.authenticate(db.connect(path), "coach-a", "a new long password")


def test_only_a_head_account_manages_other_accounts(tmp_path):
    app, _, path = _fresh(tmp_path)
    coach, coach_csrf = logged_in(app, "coach-a")
    assert "All accounts" not in coach.get("/account").text
    assert coach.post("/account", data={"csrf": coach_csrf, "action": "remove",
                                         "user": "coach-b"}).status_code == 403
    victim, _ = logged_in(app, "coach-b")
    head, csrf = logged_in(app, "head")
    page = head.get("/account").text
    assert 'id="users"' in page and "coach-b" in page
    assert head.post("/account", data={"csrf": csrf, "action": "unassign", "user": "coach-a",
                                       "athlete": "a-017"}).status_code == 303
    assert accounts.get_user(db.connect(path), "coach-a").athletes == set()
    assert coach.get("/athletes/a-017").status_code == 404
    assert head.post("/account", data={"csrf": csrf, "action": "logout_user",
                                       "user": "coach-b"}).status_code == 303
    assert victim.get("/athletes").status_code == 303
    assert head.post("/account", data={"csrf": csrf, "action": "remove", "user": "coach-b"}
                     ).status_code == 303
    assert accounts.get_user(db.connect(path), "coach-b") is None
    assert head.post("/account", data={"csrf": csrf, "action": "remove", "user": "head"}
                     ).status_code == 400


def test_progress_report_over_all_tests(site):
    app, _, _ = site
    c, _ = logged_in(app, "coach-a")
    r = c.get("/athletes/a-017/report")
    assert r.status_code == 200 and "<svg" in r.text
    table = r.text[r.text.index("<h2>Every test</h2>"):]
    assert table.count("<tr><td>") == 3
    assert "http://" not in r.text.replace("http://www.w3.org", "")
    single, _ = logged_in(app, "coach-b")
    assert "<svg" in single.get("/athletes/b-002/report").text  # one test: still drawn
    assert single.get("/athletes/a-017/report").status_code == 404


def test_curves_of_two_tests_are_overlaid_by_measure():
    import json

    from stepdown.web.compare import A_COLOUR, B_COLOUR, overlay_curves

    def fig(fig_id, reps):
        return {"id": fig_id, "data": [{"name": f"rep {i}", "x": [0, 1], "y": [i, i]}
                                       for i in reps],
                "layout": {"title": {"text": "Pelvic drop during each rep"}}}

    a = json.dumps([fig("curve_pelvic_drop_deg", [1, 2]), fig("curve_knee_medial_cm", [1])])
    b = json.dumps([fig("curve_pelvic_drop_deg", [1, 2, 3])])
    (merged,) = overlay_curves(a, b)  # only measures both tests have
    names = [t["name"] for t in merged["data"]]
    assert names == ["A rep 1", "A rep 2", "B rep 1", "B rep 2", "B rep 3"]
    assert {t["line"]["color"] for t in merged["data"][:2]} == {A_COLOUR}
    assert {t["line"]["color"] for t in merged["data"][2:]} == {B_COLOUR}
    assert sum(t["showlegend"] for t in merged["data"]) == 2
    assert overlay_curves("[]", b) == []
