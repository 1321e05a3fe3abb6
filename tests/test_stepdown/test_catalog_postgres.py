"""The catalog, accounts, training log and web app suites again, on a real PostgreSQL server.

The tests of those modules are collected here a second time; an autouse fixture sends
every catalog they open (an SQLite path) to a database of its own on a throw-away
PostgreSQL server (:mod:`tests.postgres_server`), through ``db.database_url`` — the same
code path ``STEPDOWN_DATABASE_URL`` takes. The few tests about SQLite itself (its file,
pragmas, ``sqlite_master``) are left out by name below. Skips, with the reason, where
the PostgreSQL binaries are missing.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from postgres_server import PostgresServer, why_unavailable
from test_catalog import *  # noqa: F403  (the tests and their fixtures, collected again here)
from test_load_catalog import *  # noqa: F403
from test_web import *  # noqa: F403

from stepdown.catalog import db

SQLITE_ONLY = {
    "test_connect_sets_wal_foreign_keys_and_newest_schema":
        "checks SQLite's journal_mode and foreign_keys pragmas",
    "test_broken_migration_leaves_nothing_behind": "lists tables from sqlite_master",
    "test_not_a_database_is_one_clear_error": "writes garbage into an SQLite file",
    "test_files_are_created_for_the_owner_only": "checks the SQLite file's mode",
}

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(why_unavailable() is not None, reason=str(why_unavailable()))]


@pytest.fixture(scope="module")
def postgres():
    with PostgresServer() as server:
        yield server


@pytest.fixture(autouse=True)
def _not_sqlite_only(request):
    if request.node.originalname in SQLITE_ONLY:
        pytest.skip(f"SQLite only: {SQLITE_ONLY[request.node.originalname]}")


@pytest.fixture(scope="module", autouse=True)
def _catalogs_on_postgres(postgres):
    """Each SQLite catalog path a test opens becomes one PostgreSQL database (module scope,
    so the module-scoped catalogs of the web tests are made there too)."""
    real = db.database_url
    made: dict[str, str] = {}

    def on_postgres(where=None):
        url = real(where)
        if not url.startswith("sqlite:///"):
            return url
        path = str(Path(url.removeprefix("sqlite:///")).resolve())
        if path not in made:
            made[path] = postgres.create_database("c_" + hashlib.sha1(path.encode()).hexdigest()[:16])
        return made[path]

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(db, "database_url", on_postgres)
        yield


def test_the_catalogs_here_are_on_postgresql(tmp_path):
    conn = db.connect(tmp_path / "c.sqlite3")
    assert conn.dialect == "postgresql"
    assert conn.execute("SELECT current_setting('server_version_num')").fetchone()[0]
    assert not (tmp_path / "c.sqlite3").exists()
    assert db.schema_version(conn) == max(m.number for m in db.migrations())
    # REAL columns are double precision there too: a measure reads back exactly
    conn.execute("INSERT INTO athletes (id, height_m, created_at) VALUES ('x', 1.7834567891234, 'now')")
    assert conn.execute("SELECT height_m FROM athletes").fetchone()[0] == 1.7834567891234


def test_a_broken_migration_leaves_nothing_behind_on_postgresql(tmp_path, monkeypatch):
    real = db.migrations()
    broken = db.Migration(9, "broken", "CREATE TABLE half (x INTEGER); THIS IS NOT SQL;")
    monkeypatch.setattr(db, "migrations", lambda: real + [broken])
    with pytest.raises(db.CatalogError, match="cannot use the catalog database at postgresql"):
        db.connect(tmp_path / "c.sqlite3")
    monkeypatch.setattr(db, "migrations", lambda: real)
    c = db.connect(tmp_path / "c.sqlite3")
    tables = {r[0] for r in c.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")}
    assert "half" not in tables and "athletes" in tables
