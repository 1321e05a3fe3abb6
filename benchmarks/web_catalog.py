"""A synthetic catalog for the web benchmarks: many athletes, many tests, accounts.

Tests are stored through :func:`stepdown.catalog.repo.store_test` (the same
path as an import) from made-up analysis documents: 5 reps with random peak
measures, items by the default rule thresholds, totals and categories as the
checklist computes them.  Nothing here is a measurement; it only fills tables.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np

from analysis.checklist import category
from stepdown.catalog import accounts, db, repo

PASSWORD = "benchmark password"
GROUPS = ("track", "football", "triathlon", "rowing", "dance")


def _doc(rng: np.random.Generator, leg: str) -> dict:
    reps, items_per_rep = [], []
    for i in range(1, 6):
        knee = float(rng.gamma(2.0, 0.8))
        pelvis = float(rng.gamma(3.0, 1.6))
        items = {"arm": int(rng.random() < 0.15), "trunk": int(rng.random() < 0.2),
                 "pelvis": int(pelvis > 5), "knee": 2 if knee > 3.5 else int(knee > 1.0),
                 "descent": int(rng.random() < 0.1), "pain": int(rng.random() < 0.1)}
        items_per_rep.append(items)
        reps.append({"index": i, "start_s": 3.0 + 3 * i, "bottom_s": 4.2 + 3 * i,
                     "end_s": 5.5 + 3 * i,
                     "measures": {"knee_medial_cm": round(knee, 2),
                                  "pelvic_drop_deg": round(pelvis, 2),
                                  "hip_adduction_deg": round(float(rng.normal(9, 3)), 2),
                                  "hip_internal_rotation_deg": round(float(rng.normal(4, 2)), 2),
                                  "hip_flexion_deg": round(float(rng.normal(40, 5)), 2),
                                  "trunk_lean_deg": None},
                     "items": items,
                     "sources": {"arm": "classifier", "trunk": "classifier", "pelvis": "rule",
                                 "knee": "rule", "descent": "rule", "pain": "reported"},
                     "total": sum(items.values())})
    test_items = {k: int(sorted(r[k] for r in items_per_rep)[2]) for k in items_per_rep[0]}
    total = sum(test_items.values())
    piva = sum(test_items[k] for k in ("arm", "trunk", "pelvis", "knee"))
    return {"format": "stepdown-analysis", "version": 1, "test_leg": leg,
            "sensors_used": ["pelvis", f"thigh_{leg}"], "reps": reps,
            "test": {"rule": "majority", "items": test_items, "total": total,
                     "piva_total": piva, "category": category(total)}}


def build_catalog(path: Path, n_athletes: int, n_tests: int, seed: int = 0) -> list[str]:
    """Fill a new catalog at ``path``; returns the athlete ids.

    Tests are spread over the athletes (every athlete has at least one when
    ``n_tests >= n_athletes``), a week or so apart, alternating legs.  Accounts:
    ``head`` sees all; ``coach`` sees the first tenth of the athletes.
    """
    rng = np.random.default_rng(seed)
    conn = db.connect(path)
    conn.execute("PRAGMA synchronous=OFF")  # a throw-away file: no fsync per test
    ids = [f"a-{i:04d}" for i in range(n_athletes)]
    owner = np.concatenate([np.arange(n_athletes),
                            rng.integers(0, n_athletes, max(0, n_tests - n_athletes))])
    seen: dict[int, int] = {}
    start = dt.datetime(2026, 1, 5, 9, 0)
    for k, a in enumerate(owner.tolist()):
        n = seen.get(a, 0)
        seen[a] = n + 1
        leg = "left" if n % 2 == 0 else "right"
        when = start + dt.timedelta(days=7 * n, hours=int(rng.integers(0, 9)))
        name = f"Athlete {a:04d} {GROUPS[a % len(GROUPS)]}"
        repo.store_test(conn, athlete=repo.AthleteInfo(ids[a], name=name, height_m=1.75),
                        analysis=repo.read_analysis(_doc(rng, leg)),
                        recording_path=f"/nonexistent/{k}.parquet",
                        content_sha256=f"{k:064x}", started_at=when.strftime("%Y-%m-%dT%H:%M:%SZ"),
                        step_height_m=0.2, pain_nrs=[float(rng.random() < 0.1)] * 5)
    accounts.add_user(conn, "head", PASSWORD, sees_all=True)
    accounts.add_user(conn, "coach", PASSWORD, athletes=ids[: max(1, n_athletes // 10)])
    conn.close()
    return ids
