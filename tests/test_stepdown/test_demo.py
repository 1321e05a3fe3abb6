"""`python -m stepdown.demo` (`make demo`): runs, exits 0, tells a new user what is there."""

from __future__ import annotations

import os
import re
import sqlite3
import sys
from pathlib import Path

import pytest

from stepdown import demo
from stepdown.sample_data import DATA_DIR, SAMPLES
from stepdown.truth_files import truth_path

pytestmark = pytest.mark.skipif(not any(DATA_DIR.glob("*.parquet")),
                                reason="no sample recordings in data/")


@pytest.fixture
def home(tmp_path):
    """A demo data home of the test's own (the demo's default is out/demo-home)."""
    return tmp_path / "demo-home"


def test_demo_shows_every_sample_with_sensors_rates_and_truth(capsys, home):
    assert demo.main(["--home", str(home)]) == 0
    out = capsys.readouterr().out
    for s in SAMPLES:
        assert s.name in out
    assert "thigh_right" in out and "wrist_left" in out
    assert " Hz" in out and "test leg left" in out and "test leg right" in out
    assert out.count("truth   :") == len(SAMPLES)
    for category in ("good", "medium", "poor"):
        assert f"truth   : {category}" in out


def test_demo_with_the_pipeline_puts_the_analysis_beside_the_truth(capsys, home):
    assert demo.main(["--home", str(home)]) == 0
    out = capsys.readouterr().out
    # each test is analysed, or the analysis' one-line refusal is shown instead
    assert out.count("analysis:") + out.count("analysis refused this recording:") == len(SAMPLES)
    assert "Traceback" not in out
    if "analysis:" in out:
        assert "analysis items" in out and "analysis vs truth: category agrees in" in out
        assert "could be: total" in out and "the true total is inside the stated range in" in out


def test_demo_on_a_folder_without_truth_or_recordings(tmp_path, capsys, home):
    assert demo.main([str(tmp_path), "--home", str(home)]) == 1
    assert "python -m stepdown.sample_data" in capsys.readouterr().out
    src = DATA_DIR / SAMPLES[0].name
    (tmp_path / src.name).write_bytes(src.read_bytes())
    assert not truth_path(tmp_path / src.name).exists()
    assert demo.main([str(tmp_path), "--home", str(home)]) == 0
    out = capsys.readouterr().out
    assert src.name in out and "no truth file" in out
    assert "analysis: good" in out and "4.1-6.8" in out  # the analysis' own rep times


def test_a_crashing_analysis_is_named_and_the_other_files_still_shown(capsys, monkeypatch, home):
    def broken(rec):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(demo, "find_analyze", lambda: broken)
    assert demo.main(["--home", str(home)]) == 1
    out = capsys.readouterr().out
    assert out.count("analysis failed (a bug): ZeroDivisionError") == len(SAMPLES)
    assert out.count("truth   :") == len(SAMPLES)  # the truth is still shown
    for s in SAMPLES:
        assert s.name in out
    assert f"the analysis or import failed on {len(SAMPLES)} file(s)" in out
    assert not (home / "catalog.sqlite3").exists()  # a failed analysis is never imported


# -- the demo's end: a catalog, a coach, the serve command ------------------------------------

def catalog_rows(home) -> dict[str, int]:
    with sqlite3.connect(home / "catalog.sqlite3") as c:
        return {t: c.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                for t in ("athletes", "tests", "reps", "users")}


def printed_password(out: str) -> str:
    match = re.search(r"login: user coach, password (\S+) ", out)
    assert match, out
    return match.group(1)


def test_demo_ends_with_a_catalog_a_coach_and_the_serve_command(capsys, monkeypatch, home):
    monkeypatch.setenv("STEPDOWN_HOME", "/somewhere/else")
    assert demo.main(["--home", str(home)]) == 0
    out = capsys.readouterr().out
    assert os.environ["STEPDOWN_HOME"] == "/somewhere/else"  # set for the demo only
    analysed = out.count("analysis:")
    assert analysed >= 1
    assert f"{analysed} test(s) imported, 0 already there" in out
    rows = catalog_rows(home)
    assert rows["tests"] == analysed and rows["users"] == 1 and rows["reps"] >= 3 * analysed
    programme_sets = len(list((DATA_DIR / "programme").glob("*.parquet")))  # issue 15's samples
    assert len(list((home / "recordings").glob("*.parquet"))) == analysed + programme_sets
    # the printed login works against the catalog (the web app's own check)
    from stepdown.catalog.accounts import authenticate, get_user
    from stepdown.catalog.db import connect

    password = printed_password(out)
    conn = connect(home / "catalog.sqlite3")
    try:
        assert authenticate(conn, "coach", password) is not None
        assert authenticate(conn, "coach", password + "x") is None
        assert get_user(conn, "coach").sees_all
    finally:
        conn.close()
    # the exact command to look at them, with this data home
    assert f"STEPDOWN_HOME={home.resolve()} " in out and " serve" in out
    line = next(ln.strip() for ln in out.splitlines() if ln.strip().startswith("STEPDOWN_HOME="))
    assert line.endswith("stepdown serve")
    # every command it suggests runs as printed: the venv's script, not a bare `stepdown`
    # that a fresh shell without the venv activated does not have
    cmd = demo.stepdown_command()
    try_line = next(ln for ln in out.splitlines() if ln.startswith("Try:"))
    assert f"{cmd} analyze data/" in try_line and f"{cmd} info data/" in try_line
    script = Path(sys.executable).parent / "stepdown"
    if script.exists():
        assert Path(cmd).resolve() == script.resolve() and " stepdown analyze" not in try_line

    # a rerun changes nothing and prints the same login
    assert demo.main(["--home", str(home)]) == 0
    out2 = capsys.readouterr().out
    assert f"0 test(s) imported, {analysed} already there" in out2
    assert catalog_rows(home) == rows
    assert printed_password(out2) == password


def test_a_recording_the_analysis_refuses_is_not_imported(capsys, monkeypatch, home):
    from sensor_io.errors import InputError

    real = demo.find_analyze()

    def picky(rec):
        if rec.test_leg == "right":
            raise InputError("no quiet standing found")
        return real(rec)

    monkeypatch.setattr(demo, "find_analyze", lambda: picky)
    assert demo.main(["--home", str(home)]) == 0
    out = capsys.readouterr().out
    lefts = sum(s.leg == "left" for s in SAMPLES)
    assert out.count("analysis refused this recording: no quiet standing found") == \
        len(SAMPLES) - lefts
    assert catalog_rows(home)["tests"] == lefts
