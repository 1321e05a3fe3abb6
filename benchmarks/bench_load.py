"""Training-volume tracker: a year of daily entries for 200 athletes, all metrics (issue 7).

Target: daily load + every metric + every flag in under 1 s. The entries are
built as a DataFrame (as read from the catalog); ~5 % of days are missing, ~1 in
7 are rest days, and every athlete starts a new season half-way.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from analysis.training_load.entries import add_entry_loads
from analysis.training_load.flags import load_flags
from analysis.training_load.metrics import daily_load, load_metrics
from benchmarks.timing import best_of

N_ATHLETES = 200
N_DAYS = 365


def year_of_entries(seed: int = 0) -> pd.DataFrame:
    """One entry a day per athlete (some days missing), as an entries DataFrame."""
    rng = np.random.default_rng(seed)
    athletes = np.repeat([f"a-{i:03d}" for i in range(N_ATHLETES)], N_DAYS)
    day = np.tile(np.arange(N_DAYS), N_ATHLETES)
    keep = rng.random(day.size) > 0.05
    keep[day == 0] = True
    rest = rng.random(day.size) < 1 / 7
    n = int(keep.sum())
    df = pd.DataFrame({
        "athlete_id": athletes[keep],
        "date": (np.datetime64("2025-01-01") + day[keep].astype("timedelta64[D]")),
        "activity": np.where(rest[keep], "rest", "run"),
        "duration_s": np.where(rest[keep], np.nan, rng.uniform(1200, 5400, n)),
        "distance_m": np.where(rest[keep], np.nan, rng.uniform(3000, 15000, n)),
        "sets": np.nan, "reps": np.nan, "load_kg": np.nan,
        "rpe": np.where(rest[keep], np.nan, rng.integers(2, 10, n).astype(float)),
        "pain_nrs": rng.integers(0, 4, n).astype(float),
        "season_start": day[keep] == N_DAYS // 2,
        "notes": "",
    })
    return add_entry_loads(df)


def run() -> None:
    entries = year_of_entries()

    def once() -> tuple[pd.DataFrame, pd.DataFrame]:
        metrics = load_metrics(daily_load(entries, as_of=dt.date(2025, 12, 31)))
        return metrics, load_flags(metrics)
    best, (metrics, flags) = best_of(once, 3)
    print(f"entries: {len(entries)} ({N_ATHLETES} athletes x {N_DAYS} days, ~5% missing)")
    print(f"athlete-days: {len(metrics)}, flags raised: {len(flags)}")
    print(f"daily load + all metrics + flags: {best:.3f} s best of 3 (target < 1 s)")
