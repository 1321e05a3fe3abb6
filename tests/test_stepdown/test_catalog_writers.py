"""Two writers importing the same recordings at the same moment, each on its own
connection: every test is stored once, none is lost, on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from postgres_server import PostgresServer, why_unavailable

from sensor_io.recording_io import write_recording
from simulator.single_test import SimConfig, simulate
from stepdown.catalog import db
from stepdown.catalog.importer import import_recording

N_RECORDINGS = 6


@pytest.fixture(scope="module")
def recordings(tmp_path_factory) -> list[Path]:
    folder = tmp_path_factory.mktemp("recs")
    paths = []
    for i in range(N_RECORDINGS):
        rec = simulate(SimConfig(seed=300 + i, n_reps=3)).recording
        paths.append(folder / f"r{i}.parquet")
        write_recording(rec, paths[-1])
    return paths


def two_writers(where: str, recordings: list[Path], store: Path) -> list[list]:
    """Writers A (in order) and B (reverse order) import every recording, started together."""
    start = threading.Barrier(2, timeout=60)
    results: list[list] = [[], []]
    errors: list[BaseException] = []

    def writer(k: int, order: list[Path]) -> None:
        start.wait()  # both open the catalog at once too: the first creates its tables
        conn = db.connect(where)
        try:
            for path in order:
                results[k].append(import_recording(conn, path, "a-1", store))
        except BaseException as err:  # reported by the main thread
            errors.append(err)
        finally:
            conn.close()

    threads = [threading.Thread(target=writer, args=(0, recordings)),
               threading.Thread(target=writer, args=(1, recordings[::-1]))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    return results


def check_each_test_stored_once(where: str, results: list[list]) -> None:
    a, b = ({r.path.name: r for r in rs} for rs in results)
    assert len(a) == len(b) == N_RECORDINGS
    for name in a:  # both writers name the same test; exactly one of them created it
        assert a[name].test_id == b[name].test_id
        assert a[name].created != b[name].created
    conn = db.connect(where)
    n_tests, n_hashes = conn.execute(
        "SELECT COUNT(*), COUNT(DISTINCT content_sha256) FROM tests").fetchone()
    assert n_tests == n_hashes == N_RECORDINGS
    reps = conn.execute("SELECT test_id, COUNT(*) FROM reps GROUP BY test_id").fetchall()
    assert len(reps) == N_RECORDINGS and all(n >= 1 for _, n in reps)
    assert conn.execute("SELECT COUNT(*) FROM athletes").fetchone()[0] == 1


def test_two_writers_on_sqlite(recordings, tmp_path):
    where = str(tmp_path / "catalog.sqlite3")
    check_each_test_stored_once(where, two_writers(where, recordings, tmp_path / "store"))


@pytest.mark.slow
@pytest.mark.skipif(why_unavailable() is not None, reason=str(why_unavailable()))
def test_two_writers_on_postgresql(recordings, tmp_path):
    with PostgresServer() as pg:
        for round_ in range(3):  # a fresh database each round: the race is run again
            where = pg.create_database(f"round{round_}")
            check_each_test_stored_once(where, two_writers(where, recordings, tmp_path / "store"))
            db.engine_for(db.database_url(where)).dispose()
