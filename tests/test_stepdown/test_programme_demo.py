"""`make demo` shows a programme session end to end: the sets analysed, a retest, the next
session's suggestion, and the sets in the demo catalog for the review app."""

from __future__ import annotations

from stepdown import demo
from stepdown.catalog.db import connect
from stepdown.programme.demo import DEMO_ATHLETE


def test_demo_shows_a_programme_session_and_imports_it(capsys, tmp_path):
    home = tmp_path / "demo-home"
    assert demo.main(["--home", str(home)]) == 0
    out = capsys.readouterr().out
    session = out[out.index("programme session"):out.index("review web app")]
    assert "hold_left_pelvis_thigh.parquet" in session and "3 holds" in session
    assert "heel_taps_left_pelvis_thigh.parquet" in session and "10 taps of 10 prescribed" in session
    assert "practice then retest" in session and "measurement uncertainty" in session
    assert "next session" in session and "rule taps-" in session
    conn = connect(home / "catalog.sqlite3") if (home / "catalog.sqlite3").exists() else None
    if conn is None:
        from stepdown.paths import data_home_env

        with data_home_env(home):
            conn = connect()
    rows = conn.execute("SELECT exercise FROM programme_sets WHERE athlete_id = ?",
                        (DEMO_ATHLETE,)).fetchall()
    conn.close()
    assert sorted(r[0] for r in rows) == ["heel_taps", "hold"]
    assert demo.main(["--home", str(home)]) == 0  # a rerun changes nothing
