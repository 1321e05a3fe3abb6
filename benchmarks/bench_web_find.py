"""Today/find page over 500 athletes and 20 000 tests, with a training log (issue 19).

Server time per page: the request through the ASGI app in this process
(Starlette's test client: no network), median of 15 after one warm-up, for
the first page, a later page, and each filter.  The first request of a day
also computes every athlete's load flags (kept in memory until the log
changes): timed separately.  Target: every page < 300 ms.
"""

from __future__ import annotations

import datetime as dt
import statistics
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from benchmarks.web_catalog import GROUPS, build_catalog

N_ATHLETES = 500
N_TESTS = 20_000
LOG_DAYS = 120


def _add_log_and_tags(path: Path, ids: list[str]) -> None:
    from analysis.training_load.entries import LoadEntry
    from stepdown.catalog import db, desk
    from stepdown.catalog.training_log import add_entries

    rng = np.random.default_rng(1)
    today = dt.date.today()
    entries = []
    for a in ids:
        ramp = rng.random() < 0.1  # one athlete in ten doubles the load over the last 2 weeks
        for back in range(LOG_DAYS):
            day = today - dt.timedelta(days=back + 1)
            if back % 7 in (2, 5):
                entries.append(LoadEntry(athlete_id=a, date=day, activity="rest"))
                continue
            minutes = rng.uniform(30, 60) * (2.0 if ramp and back < 14 else 1.0)
            entries.append(LoadEntry(athlete_id=a, date=day, activity="run",
                                     duration_s=60 * minutes, rpe=float(rng.integers(4, 8))))
    conn = db.connect(path)
    add_entries(conn, entries)
    for i, a in enumerate(ids):
        desk.set_tags(conn, a, [GROUPS[i % len(GROUPS)]])
    conn.close()


def run() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

    from stepdown.catalog import accounts, db
    from stepdown.web.app import create_app

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "catalog.sqlite3"
        start = time.perf_counter()
        ids = build_catalog(path, N_ATHLETES, N_TESTS)
        _add_log_and_tags(path, ids)
        conn = db.connect(path)
        token = accounts.start_session(conn, "head")
        n_log = conn.execute("SELECT COUNT(*) FROM training_log").fetchone()[0]
        conn.close()
        print(f"catalog: {N_ATHLETES} athletes, {N_TESTS} tests, {n_log} training-log entries "
              f"(built in {time.perf_counter() - start:.0f} s)")
        client = TestClient(create_app(path), base_url="https://bench",
                            cookies={"stepdown_session": token})
        start = time.perf_counter()
        first = client.get("/athletes")
        print(f"first request of the day (all load flags computed): "
              f"{1000 * (time.perf_counter() - start):.0f} ms")
        assert first.status_code == 200
        pages = {"today, page 1": "/athletes", "page 10": "/athletes?page=10",
                 "text 'a-04'": "/athletes?q=a-04", "group": "/athletes?tag=track",
                 "latest result": "/athletes?result=medium", "needs: load": "/athletes?need=load",
                 "coach (50 athletes)": None}
        coach = accounts.start_session(db.connect(path), "coach")
        for name, url in pages.items():
            c = client if url else TestClient(client.app, base_url="https://bench",
                                              cookies={"stepdown_session": coach})
            url = url or "/athletes"
            c.get(url)
            times = []
            for _ in range(15):
                t0 = time.perf_counter()
                r = c.get(url)
                times.append(time.perf_counter() - t0)
            assert r.status_code == 200
            print(f"  {name:22s} median {1000 * statistics.median(times):6.1f} ms  "
                  f"max {1000 * max(times):6.1f} ms  ({len(r.content) // 1024} KiB)")
        print("target: every page < 300 ms server time")
