"""`stepdown catalog migrate-to URL`: an SQLite catalog copied into PostgreSQL, counts verified,
the copy usable (ids kept, new rows numbered after them); bad targets refused in one line."""

from __future__ import annotations

import datetime as dt

import pytest
from analysis_docs import contract_result
from postgres_server import PostgresServer, why_unavailable

from analysis.training_load.entries import LoadEntry
from stepdown.catalog import accounts, db, repo
from stepdown.catalog.training_log import add_entries
from stepdown.cli import main

needs_postgres = pytest.mark.skipif(why_unavailable() is not None, reason=str(why_unavailable()))


def fill(path) -> dict[str, int]:
    """A small catalog: two athletes, three tests, a label, a note, a user, log entries."""
    conn = db.connect(path)
    for i, athlete in enumerate(["a-1", "a-1", "b-2"]):
        test_id, _ = repo.store_test(conn, athlete=repo.AthleteInfo(athlete, height_m=1.7 + i / 100),
                                     analysis=contract_result(), recording_path=f"r{i}.parquet",
                                     content_sha256=f"{i:064x}")
    repo.add_label(conn, test_id, 1, "knee", 2, "coach-a")
    repo.add_note(conn, test_id, "coach-a", "watch the knee")
    accounts.add_user(conn, "coach-a", "a long password", athletes=["a-1"])
    add_entries(conn, [LoadEntry("a-1", dt.date(2026, 2, 2), "run", duration_s=2700.0, rpe=6)])
    counts = {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
              for t in ("athletes", "tests", "reps", "rep_measures", "coach_labels", "notes",
                        "users", "coach_athletes", "training_log")}
    conn.close()
    return counts


@pytest.mark.slow
@needs_postgres
def test_migrate_to_copies_everything_into_postgresql_and_verifies(tmp_path, capsys):
    source = tmp_path / "catalog.sqlite3"
    counts = fill(source)
    with PostgresServer() as pg:
        target = pg.create_database("clinic")
        assert main(["catalog", "migrate-to", target, "--from", str(source)]) == 0
        out = capsys.readouterr().out
        assert "every table's count verified" in out
        conn = db.connect(target)
        assert conn.dialect == "postgresql"
        for table, n in counts.items():
            assert conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] == n, table
            assert f"{table} " in out
        old = db.connect(source)
        for t in repo.list_tests(old):  # the same tests, ids, results and labels
            assert repo.get_test(conn, t.id).summary == t
            assert repo.get_test(conn, t.id).reps[0].labels == repo.get_test(old, t.id).reps[0].labels
        assert accounts.authenticate(conn, "coach-a", "a long password") is not None
        # new rows continue after the copied ids
        new_id, created = repo.store_test(conn, athlete=repo.AthleteInfo("c-3"),
                                          analysis=contract_result(), recording_path="new.parquet",
                                          content_sha256="f" * 64)
        assert created and new_id == max(t.id for t in repo.list_tests(old)) + 1
        # a second copy into the now busy database is refused, nothing changes
        assert main(["catalog", "migrate-to", target, "--from", str(source)]) == 2
        err = capsys.readouterr().err
        assert "already holds a catalog" in err and err.count("\n") == 1
        assert conn.execute("SELECT COUNT(*) FROM tests").fetchone()[0] == counts["tests"] + 1
        conn.close()
        old.close()
        db.engine_for(db.database_url(target)).dispose()


def test_an_unreachable_database_is_one_line_without_its_password(tmp_path, capsys):
    fill(tmp_path / "catalog.sqlite3")
    rc = main(["catalog", "migrate-to", "postgresql://coach:s3cret@127.0.0.1:9/clinic",
               "--from", str(tmp_path / "catalog.sqlite3")])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert "cannot use the catalog database at postgresql+psycopg://coach:***@127.0.0.1:9/clinic" in err
    assert "s3cret" not in err


def test_the_environment_url_is_the_catalog(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("STEPDOWN_DATABASE_URL", "postgresql://coach:s3cret@127.0.0.1:9/clinic")
    rc = main(["athletes"])
    err = capsys.readouterr().err
    assert rc == 2 and "127.0.0.1:9/clinic" in err and "s3cret" not in err
    monkeypatch.setenv("STEPDOWN_DATABASE_URL", str(tmp_path / "elsewhere.sqlite3"))
    assert main(["athletes"]) == 0
    assert (tmp_path / "elsewhere.sqlite3").exists()
