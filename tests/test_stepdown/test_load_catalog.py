"""The training log in the catalog: migration 0002, add/list, all-or-nothing imports."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy.exc

from analysis.training_load.entries import EntryError, LoadEntry
from stepdown.catalog.db import CatalogError, connect
from stepdown.catalog.repo import get_athlete
from stepdown.catalog.training_log import (
    add_entries,
    import_entries,
    list_entries,
    logged_athletes,
)

D = dt.date(2026, 2, 2)


@pytest.fixture
def conn(tmp_path):
    c = connect(tmp_path / "catalog.sqlite3")
    yield c
    c.close()


def test_entries_round_trip_and_create_the_athlete(conn):
    run = LoadEntry("a-1", D, "run", duration_s=2700.0, distance_m=8200.0, rpe=6, pain_nrs=1,
                    notes="easy")
    lift = LoadEntry("a-1", D + dt.timedelta(1), "strength", duration_s=2400.0, sets=3, reps=10,
                     load_kg=60.0, rpe=7, season_start=True)
    rest = LoadEntry("b-2", D, "rest")
    assert add_entries(conn, [lift, run, rest]) == 3
    assert list_entries(conn, "a-1") == [run, lift]
    assert list_entries(conn, "a-1", until=D) == [run]
    assert logged_athletes(conn) == ["a-1", "b-2"]
    assert get_athlete(conn, "b-2") is not None
    assert conn.execute("SELECT name FROM schema_migrations WHERE number = 2").fetchone()[0] \
        == "training_log"


def test_a_bad_entry_stores_nothing_of_its_batch(conn):
    good = LoadEntry("a-1", D, "run", duration_s=600.0, rpe=4)
    bad = LoadEntry("a-1", D, "run", duration_s=600.0, rpe=14)
    with pytest.raises(EntryError, match="RPE 14 is outside 0-10"):
        add_entries(conn, [good, bad])
    assert list_entries(conn) == []


def test_invalid_athlete_id_is_refused(conn):
    with pytest.raises(CatalogError, match="invalid athlete id"):
        add_entries(conn, [LoadEntry("a 1; drop", D, "rest")])


def test_the_same_file_cannot_be_imported_twice(conn):
    entries = [LoadEntry("a-1", D, "run", duration_s=600.0, rpe=4)]
    assert import_entries(conn, entries, file_name="log.csv", content_sha256="ab" * 32) == 1
    with pytest.raises(CatalogError, match="already imported"):
        import_entries(conn, entries, file_name="log2.csv", content_sha256="ab" * 32)
    assert len(list_entries(conn)) == 1


def test_schema_refuses_out_of_range_values_written_around_the_api(conn):
    conn.execute("INSERT INTO athletes (id, created_at) VALUES ('x', 'now')")
    with pytest.raises(sqlalchemy.exc.IntegrityError):
        conn.execute("INSERT INTO training_log (athlete_id, date, activity, rpe, created_at)"
                     " VALUES ('x', '2026-01-01', 'run', 14, 'now')")


def test_load_panel_from_the_catalog(conn):
    from stepdown.catalog.training_log import load_panel_for

    add_entries(conn, [LoadEntry("a-1", D + dt.timedelta(i), "run", duration_s=1800.0, rpe=4)
                       for i in range(3)])
    panel = load_panel_for(conn, "a-1", as_of=D + dt.timedelta(4))
    assert panel.dates[0] == D.isoformat() and len(panel.dates) == 5
    assert panel.daily_load == [120.0, 120.0, 120.0, None, None]
    assert panel.stepdown == []
    with pytest.raises(CatalogError, match="no training-log entries for athlete 'zz'"):
        load_panel_for(conn, "zz")
