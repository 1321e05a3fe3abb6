"""A checklist item and a measure added through the registry alone (issue 16): declared at
run time with their name, unit, sensors, threshold, words and the function computing the
measure, they are computed, scored, explained, written in the analysis JSON, printed in
the report and shown on the web test page; no other file knows them."""

from __future__ import annotations

import html
from dataclasses import replace

import numpy as np
import pytest
from test_web import PASSWORD, logged_in  # noqa: E402  (the web tests' login helper)

from analysis import kinematics as kin
from analysis import registry
from analysis.pipeline import analyze
from analysis.result import AnalysisResult
from sensor_io.recording import SensorStream
from sensor_io.recording_io import read_recording
from stepdown.sample_data import DATA_DIR

SAMPLE = DATA_DIR / "good_left_pelvis_thigh.parquet"  # pelvis + thigh: the minimum set
THRESHOLD = 10.0


def swing_deg(motion, test_leg: str) -> np.ndarray:
    """The toy measure: twice the pelvic drop (deg, relative to standing), so its truth is
    known from a measure the analysis already gives."""
    pelvis = motion.get("pelvis", test_leg)
    drop = kin.relative_to(kin.pelvic_drop_rad(pelvis.q_facing_seg, test_leg), motion.standing)
    return 2.0 * np.degrees(drop)


TOY_MEASURE = registry.Measure("pelvis_swing_deg", "°", "pelvis swing (toy)", "swing", 1,
                               ("pelvis",), series=swing_deg)
TOY_ITEM = registry.Item(
    "swing", 1, False,
    (registry.Rule("pelvis_swing_deg",
                   (registry.Level("swing_deg", 1, "pelvis swung", default=THRESHOLD),)),),
    "pelvis swung {values}° in {reps}; {threshold}", "", "Toy pelvis swing", "Swing",
    "steady hips")


@pytest.fixture
def toy():
    with registry.registered(measures=(TOY_MEASURE,), items=(TOY_ITEM,)):
        yield
    assert "swing" not in registry.item_names()  # the tables are restored after the block


@pytest.mark.skipif(not SAMPLE.exists(), reason="sample recordings missing from data/")
def test_a_toy_item_added_to_the_registry_is_computed_scored_and_shown(toy, tmp_path):
    analysis = analyze(read_recording(SAMPLE))
    doc = analysis.to_json()

    # computed: the rep peak of twice the pelvic drop is twice the drop's peak
    swings = [r["measures"]["pelvis_swing_deg"] for r in doc["reps"]]
    drops = [r["measures"]["pelvic_drop_deg"] for r in doc["reps"]]
    assert swings == pytest.approx([2 * d for d in drops], abs=0.02)
    # scored by its threshold, counted in the rep totals, decided by the rule
    fired = [int(s > THRESHOLD) for s in swings]
    assert 0 in fired and 1 in fired  # the threshold splits this recording's reps
    assert [r["items"]["swing"] for r in doc["reps"]] == fired
    assert all(r["sources"]["swing"] == "rule" for r in doc["reps"])
    assert all(r["total"] == sum(v or 0 for v in r["items"].values()) for r in doc["reps"])
    assert doc["test"]["items"]["swing"] == int(sum(fired) * 2 > len(fired))  # majority
    # explained, and the JSON reads back as it was written
    line = next(e for e in doc["explanations"] if e.startswith("pelvis swung"))
    assert f"threshold {THRESHOLD:g}° (default heuristic)" in line
    assert AnalysisResult.from_json(doc).to_json() == doc

    # the report text: its column, the rep's item, the explanation, the threshold
    from rich.console import Console

    from stepdown.analysis_report import print_report

    console = Console(width=250, record=True)
    print_report(console, SAMPLE, analysis)
    text = console.export_text()
    header = next(row for row in text.splitlines() if "pelvis" in row and "knee" in row
                  and "pain" in row)
    assert header.split()[-3:-2] == ["swing"]  # the item's column, after pain
    assert any("swing" in row and "hip add" in row for row in text.splitlines())  # measure
    assert line in text and "swing: pelvis swing (toy) > 10°" in text

    # the web test page: stored in a catalog, shown with its title and each rep's verdict
    from stepdown.catalog import accounts, db, repo
    from stepdown.web.app import create_app

    path = tmp_path / "catalog.sqlite3"
    conn = db.connect(path)
    test_id, _ = repo.store_test(conn, athlete=repo.AthleteInfo("a-1"),
                                 analysis=analysis.result(), recording_path="/rec/toy",
                                 content_sha256="9" * 64)
    accounts.add_user(conn, "head", PASSWORD, sees_all=True)
    stored = repo.get_test(conn, test_id)
    conn.close()
    assert [r.items["swing"] for r in stored.reps] == fired
    c, _ = logged_in(create_app(path), "head")
    page = html.unescape(c.get(f"/tests/{test_id}").text)
    assert page.count("Toy pelvis swing") >= 1 + len(fired)  # the test's items and each rep
    assert 'name="item_swing"' in page and line in page


@pytest.mark.skipif(not SAMPLE.exists(), reason="sample recordings missing from data/")
def test_the_toy_measure_rests_on_the_sensors_it_declares(toy):
    rec = read_recording(SAMPLE)
    rep3 = analyze(rec).to_json()["reps"][2]
    mid = (rep3["start_s"] + rep3["end_s"]) / 2
    pelvis = rec.streams["pelvis"]
    keep = (pelvis.t < mid - 0.4) | (pelvis.t >= mid + 0.4)  # 0.8 s without the pelvis
    cut = SensorStream(pelvis.t[keep], pelvis.acc[keep], pelvis.gyr[keep],
                       None if pelvis.mag is None else pelvis.mag[keep])
    doc = analyze(replace(rec, streams={**rec.streams, "pelvis": cut})).to_json()
    silent = next(r for r in doc["reps"] if r["start_s"] < mid < r["end_s"])
    assert silent["measures"]["pelvis_swing_deg"] is None
    assert silent["not_measured"]["pelvis_swing_deg"] == "no data from pelvis during the rep"
    assert (silent["items"]["swing"], silent["sources"]["swing"]) == (None, "not_assessed")
    others = [r for r in doc["reps"] if r is not silent]
    assert all(r["measures"]["pelvis_swing_deg"] is not None for r in others)
