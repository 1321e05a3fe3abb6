"""The catalog commands through `stepdown.cli.main`: import, athletes, tests, export, users."""

from __future__ import annotations

import io
import json
import os
import sqlite3
from pathlib import Path

import pandas as pd
import pytest
from analysis_docs import contract_result

from sensor_io.recording_io import write_recording
from simulator.single_test import SimConfig, simulate
from stepdown.catalog import importer, repo
from stepdown.cli import main


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("STEPDOWN_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture(scope="module")
def recordings(tmp_path_factory):
    """Two simulated recordings (Parquet, and a CSV twin with sidecar)."""
    d = tmp_path_factory.mktemp("recs")
    a = simulate(SimConfig(seed=1, athlete_id="a-017", height_m=1.78)).recording
    b = simulate(SimConfig(seed=2, test_leg="right")).recording
    b.started_at = "2026-11-26T09:00:00Z"
    write_recording(a, d / "one.parquet")
    write_recording(b, d / "two.csv")
    return d / "one.parquet", d / "two.csv"


@pytest.fixture
def stub_analysis(monkeypatch):
    """Stand-in for analysis.pipeline.analyze: records what it was given."""
    seen = []

    def analyze(rec):
        seen.append(rec)
        return contract_result(leg=rec.test_leg)

    monkeypatch.setattr(importer, "_default_analyze", analyze)
    return seen


def table_counts(home) -> dict[str, int]:
    with sqlite3.connect(home / "catalog.sqlite3") as c:
        return {t: c.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                for t in ("athletes", "tests", "reps", "rep_items", "rep_measures")}


def test_import_stores_tests_and_is_idempotent(home, recordings, stub_analysis, capsys):
    one, two = recordings
    assert main(["import", str(one), str(two), "--athlete", "a-017"]) == 0
    out = capsys.readouterr().out
    assert "imported" in out and "test 1" in out and "test 2" in out
    assert [r.test_leg for r in stub_analysis] == ["left", "right"]
    before = table_counts(home)
    assert before["tests"] == 2 and before["reps"] == 10
    copies = sorted(p.suffix for p in (home / "recordings").iterdir())
    assert copies == [".csv", ".json", ".parquet"]  # the CSV keeps its sidecar

    assert main(["import", str(two), str(one), "--athlete", "a-017"]) == 0
    out = capsys.readouterr().out
    assert out.count("already in the catalog") == 2
    assert table_counts(home) == before
    assert len(stub_analysis) == 2  # not analysed again


def test_malformed_recording_fails_with_one_line_and_changes_nothing(
        home, recordings, stub_analysis, tmp_path, capsys):
    one, _ = recordings
    assert main(["import", str(one), "--athlete", "a-017"]) == 0
    before = table_counts(home)
    files_before = sorted((home / "recordings").iterdir())
    capsys.readouterr()
    bad = tmp_path / "broken.parquet"
    bad.write_bytes(one.read_bytes()[: len(one.read_bytes()) // 2])  # truncated file
    assert main(["import", str(bad), "--athlete", "a-017"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "broken.parquet" in err and "not imported" in err
    assert "Traceback" not in err
    assert table_counts(home) == before
    assert sorted((home / "recordings").iterdir()) == files_before


def test_analysis_that_breaks_the_contract_changes_nothing(
        home, recordings, monkeypatch, capsys):
    monkeypatch.setattr(importer, "_default_analyze",
                        lambda rec: repo.read_analysis({"format": "something"}))
    assert main(["import", str(recordings[0]), "--athlete", "a-017"]) == 2
    err = capsys.readouterr().err
    assert "analysis document" in err and len(err.strip().splitlines()) == 1
    assert table_counts(home)["tests"] == 0
    assert list((home / "recordings").iterdir()) == []


@pytest.mark.parametrize("args,msg", [
    (["import", "missing.parquet", "--athlete", "a-017"], "no such recording file"),
    (["import", "{dir}", "--athlete", "a-017"], "a folder; give its recording files"),
    (["import", "{rec}", "--athlete", "../../etc"], "invalid athlete id"),
    (["tests", "nobody"], "no athlete 'nobody'"),
    (["export", "out.xlsx"], "export writes .csv or .parquet"),
])
def test_bad_arguments_get_one_clear_line(home, recordings, stub_analysis, args, msg, capsys):
    args = [a.replace("{rec}", str(recordings[0])).replace("{dir}", str(recordings[0].parent))
            for a in args]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert msg in err and len(err.strip().splitlines()) == 1


def test_athletes_tests_and_export(home, recordings, stub_analysis, tmp_path, capsys):
    one, two = recordings
    main(["import", str(one), "--athlete", "a-017"])
    main(["import", str(two), "--athlete", "b-002"])
    capsys.readouterr()
    assert main(["athletes"]) == 0
    out = capsys.readouterr().out
    assert "a-017" in out and "b-002" in out and "medium" in out
    assert main(["tests", "a-017"]) == 0
    out = capsys.readouterr().out
    assert "2026-11-24 17:03" in out and "left" in out
    assert "7.0" in out  # mean pelvic drop of the fixture's reps, deg
    for suffix in (".csv", ".parquet"):
        path = tmp_path / f"reps{suffix}"
        assert main(["export", str(path), "--athlete", "a-017"]) == 0
        frame = pd.read_csv(path) if suffix == ".csv" else pd.read_parquet(path)
        assert len(frame) == 5 and set(frame["athlete_id"]) == {"a-017"}
        assert {"pelvic_drop_deg", "item_knee", "source_knee", "label_knee"} <= set(frame)


def test_export_of_an_athlete_not_in_the_catalog_is_refused(home, recordings, stub_analysis,
                                                            tmp_path, capsys):
    main(["import", str(recordings[0]), "--athlete", "a-017"])
    capsys.readouterr()
    out = tmp_path / "reps.csv"
    assert main(["export", str(out), "--athlete", "a-017", "--athlete", "a-71"]) == 2
    err = capsys.readouterr().err
    assert "no athlete 'a-71' in the catalog" in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_export_to_a_missing_or_read_only_folder_is_one_line(home, tmp_path, capsys,
                                                              monkeypatch):
    assert main(["export", str(tmp_path / "no" / "reps.csv")]) == 2
    err = capsys.readouterr().err
    assert "folder" in err and "does not exist" in err and "Traceback" not in err
    ro = tmp_path / "ro"
    ro.mkdir()
    real_access = os.access  # as root a chmod does not stop writes; a read-only mount does
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: Path(p) != ro and real_access(p, mode))
    for name in ("reps.csv", "reps.parquet"):
        assert main(["export", str(ro / name)]) == 2
        err = capsys.readouterr().err
        assert f"folder {ro} cannot be written" in err and len(err.strip().splitlines()) == 1
    assert list(ro.iterdir()) == []


def test_users_add_without_a_terminal_says_to_use_password_stdin(home, monkeypatch, capsys):
    from stepdown.commands import catalog as catalog_cmd

    monkeypatch.setattr(catalog_cmd, "_has_terminal", lambda: False)  # e.g. cron, ssh -T
    assert main(["users", "add", "coach-a", "--all-athletes"]) == 2
    err = capsys.readouterr().err
    assert "--password-stdin" in err and len(err.strip().splitlines()) == 1, err


def test_users_add_assign_list(home, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("a long password\n"))
    assert main(["users", "add", "coach-a", "--athlete", "a-017", "--password-stdin"]) == 0
    assert "added user coach-a" in capsys.readouterr().out
    assert main(["users", "assign", "coach-a", "b-002"]) == 0
    assert main(["users", "list"]) == 0
    out = capsys.readouterr().out
    assert "a-017, b-002" in out
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["users", "add", "coach-b", "--password-stdin"]) == 2
    assert "too short" in capsys.readouterr().err
    assert main(["users", "assign", "ghost", "a-017"]) == 2
    with sqlite3.connect(home / "catalog.sqlite3") as c:
        (pw_hash,) = c.execute("SELECT password_hash FROM users").fetchone()
    assert pw_hash.startswith("scrypt$") and "a long password" not in pw_hash


SAMPLES = Path(__file__).parents[2] / "data"


@pytest.mark.skipif(not (SAMPLES / "good_left_pelvis_thigh.parquet").exists(),
                    reason="sample recordings in data/ are absent")
def test_import_end_to_end_stores_exactly_what_the_analysis_says(home, capsys):
    from analysis.pipeline import analyze
    from sensor_io.recording_io import read_recording
    from stepdown.catalog import db, repo

    files = [SAMPLES / "good_left_pelvis_thigh.parquet",
             SAMPLES / "medium_right_pelvis_thigh.parquet"]
    assert main(["import", *map(str, files), "--athlete", "a-017"]) == 0
    assert capsys.readouterr().out.count("imported") == 2
    conn = db.connect(home / "catalog.sqlite3")
    for test_id, path in enumerate(files, start=1):
        expected = analyze(read_recording(path)).to_json()
        stored = repo.get_test(conn, test_id)
        assert stored.analysis.to_json() == json.loads(json.dumps(expected))
        assert stored.summary.total == expected["test"]["total"]
        assert stored.summary.category == expected["test"]["category"]
        assert [r.items for r in stored.reps] == [r["items"] for r in expected["reps"]]
        assert Path(stored.recording_path).read_bytes() == path.read_bytes()
    before = table_counts(home)
    assert main(["import", *map(str, files), "--athlete", "a-017"]) == 0
    assert table_counts(home) == before


def standing_only(path: Path) -> Path:
    """The first 6 s of the good sample (the athlete standing, no rep yet), written to ``path``."""
    from sensor_io.recording_io import read_recording

    rec = read_recording(SAMPLES / "good_left_pelvis_thigh.parquet")
    t0 = min(s.t[0] for s in rec.streams.values())
    rec.streams = {k: s.slice_time(s.t[0], t0 + 6.0) for k, s in rec.streams.items()}
    write_recording(rec, path)
    return path


def test_a_recording_without_a_rep_is_not_imported_as_a_good_test(home, tmp_path, capsys):
    # every item of a test without reps reads 0, which the category would call "good"
    empty = standing_only(tmp_path / "standing.parquet")
    assert main(["import", str(SAMPLES / "good_left_pelvis_thigh.parquet"),
                 "--athlete", "a-017"]) == 0
    before = table_counts(home)
    capsys.readouterr()
    assert main(["import", str(empty), "--athlete", "a-017"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "no complete step-down rep found" in err
    assert "not imported" in err and "Traceback" not in err
    assert table_counts(home) == before
