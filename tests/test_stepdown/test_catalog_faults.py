"""A damaged or locked catalog, and a recording imported for a second athlete: one
clear line and a non-zero exit code, nothing changed."""

from __future__ import annotations

import sqlite3
import threading

import pytest
from analysis_docs import contract_result

from sensor_io.recording_io import write_recording
from simulator.single_test import SimConfig, simulate
from stepdown.catalog import db, importer
from stepdown.cli import main


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("STEPDOWN_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(importer, "_default_analyze", lambda rec: contract_result(leg=rec.test_leg))
    return tmp_path / "home"


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    path = tmp_path_factory.mktemp("recs") / "one.parquet"
    write_recording(simulate(SimConfig(seed=1, athlete_id="a-017")).recording, path)
    return path


def test_the_same_file_for_another_athlete_is_refused(home, recording, capsys):
    assert main(["import", str(recording), "--athlete", "a-017"]) == 0
    assert main(["import", str(recording), "--athlete", "a-017"]) == 0  # same athlete: no-op
    assert "already in the catalog" in capsys.readouterr().out
    assert main(["import", str(recording), "--athlete", "b-002"]) == 2
    err = capsys.readouterr().err
    assert "already in the catalog as test 1 of athlete a-017, not b-002" in err
    conn = sqlite3.connect(home / "catalog.sqlite3")
    assert conn.execute("SELECT athlete_id FROM tests").fetchall() == [("a-017",)]


def test_a_damaged_catalog_is_one_line(home, recording, capsys):
    assert main(["import", str(recording), "--athlete", "a-017"]) == 0
    capsys.readouterr()
    path = home / "catalog.sqlite3"
    sqlite3.connect(path).execute("PRAGMA wal_checkpoint(TRUNCATE)").close()
    data = bytearray(path.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    for p in range(2, len(data) // page):  # every page but the first (schema) is garbage
        data[p * page:(p + 1) * page] = bytes([0xA5]) * page
    path.write_bytes(bytes(data))
    for args in (["tests", "a-017"], ["athletes"], ["import", str(recording), "--athlete", "a-017"]):
        code = main(args)
        err = capsys.readouterr().err
        assert code == 2, args
        assert "the file is damaged" in err and ".recover" in err, err
        assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err


def test_a_locked_catalog_is_retried_then_one_line(home, recording, capsys, monkeypatch):
    monkeypatch.setattr(db, "BUSY_TIMEOUT_MS", 50)
    assert main(["athletes"]) == 0  # creates the catalog
    capsys.readouterr()
    holder = sqlite3.connect(home / "catalog.sqlite3", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process writing
    try:
        assert main(["import", str(recording), "--athlete", "a-017"]) == 2
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    err = capsys.readouterr().err
    assert "is locked by another stepdown process (waited 0.15 s)" in err and "try again" in err
    assert main(["import", str(recording), "--athlete", "a-017"]) == 0  # lock gone: imported


def test_a_new_catalog_opened_while_another_process_writes_it_waits(tmp_path):
    """Opening a new (rollback-journal) file to switch it to WAL while another process holds
    its write lock: SQLite says "locked" at once, without its busy timeout (waiting could
    deadlock). Opening waits and retries instead; it failed in 0.4 s before."""
    path = tmp_path / "catalog.sqlite3"
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("CREATE TABLE creating (a)")
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("INSERT INTO creating VALUES (1)")
    release = threading.Timer(1.0, lambda: holder.execute("COMMIT"))
    release.start()
    try:
        conn = db.connect(path)
    finally:
        release.join()
        holder.close()
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.schema_version(conn) == max(m.number for m in db.migrations())
    conn.close()
