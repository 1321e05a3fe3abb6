"""Daily load per athlete and the load-change metrics, vectorised over athletes.

Two steps:

1. :func:`daily_load` turns entries into one row per athlete and calendar day,
   from the athlete's first entry to ``as_of`` (or their last entry). A day with
   entries is *recorded*; a day without is *missing* (NaN load), never zero. A
   rest day (activity ``rest``) is recorded with zero load. A recorded day whose
   sessions lack what a load needs (e.g. no RPE) has an unknown (NaN) load for
   that load and counts as missing for it.
2. :func:`load_metrics` computes, for each athlete-day ``t``, from one daily load
   column (default the session-RPE load, AU):

   ================== ==========================================================
   ``sum_7d``         load of days t-6..t (recorded days only; NaN if none)
   ``sum_28d``        load of days t-27..t (recorded days only; NaN if none)
   ``missing_7d/28d`` missing days in those windows
   ``week_change``    sum_7d(t) / sum_7d(t-7) - 1 (fraction)
   ``progression_2w`` sum_7d(t) / sum_7d(t-14) - 1: change over two weeks
   ``acwr_rolling``   uncoupled rolling ACWR: sum_7d(t) / (load of t-27..t-7 / 3)
   ``ewma_acute``     EWMA of daily load, lambda = 2/(7+1) (AU/day)
   ``ewma_chronic``   EWMA of daily load, lambda = 2/(28+1) (AU/day)
   ``acwr_ewma``      ewma_acute / ewma_chronic
   ``chronic_trend_7d`` ewma_chronic(t) - ewma_chronic(t-7) (AU/day per week)
   ``monotony``       mean / SD (sample, ddof=1) of the daily loads t-6..t
   ``strain``         sum_7d * monotony (Foster)
   ``pain_7d``        mean pain (NRS) of days t-6..t with a pain rating
   ``pain_change_7d`` pain_7d(t) - pain_7d(t-7)
   ``ratio_note``     why the ratios are hidden on this day ("" when shown)
   ================== ==========================================================

How a missing day is treated:

- sums count recorded days only and report the missing days beside them;
- the **ratios** (``week_change``, ``progression_2w``, both ACWRs,
  ``chronic_trend_7d``) are hidden (NaN) unless the season has at least 28 days
  of history at ``t`` *and* none of the last 28 days is missing; ``ratio_note``
  says which condition failed. They are also NaN when their denominator is 0;
- the EWMA is updated on recorded days only: a missing day leaves it where it
  was (no decay, no zero load). It is seeded with the season's first recorded
  day's load;
- ``monotony`` and ``strain`` need all 7 days recorded (else NaN). Equal loads
  on all 7 days give an infinite monotony (SD = 0); 7 rest days give NaN.

Season starts: an entry with ``season_start`` starts a new season on its date.
Every window, EWMA and history count restarts there; days before it do not
count. Time zones: dates are the athletes' local calendar dates (see
:mod:`analysis.training_load.entries`); nothing is converted.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

ACUTE_DAYS = 7
CHRONIC_DAYS = 28
HISTORY_DAYS = 28
"""Ratios are hidden until a season has this many days of history."""

LOAD_COLUMNS: tuple[str, ...] = ("srpe_au", "volume_load_kg", "run_distance_m", "duration_s")


def ewma_lambda(n_days: int) -> float:
    """The EWMA decay for a time constant (Williams 2017).

    Parameters
    ----------
    n_days : int
        The time constant N, days.

    Returns
    -------
    float
        lambda = 2 / (N + 1).
    """
    return 2.0 / (n_days + 1.0)


def daily_load(entries: pd.DataFrame, as_of: dt.date | None = None) -> pd.DataFrame:
    """One row per athlete and calendar day, with that day's loads.

    Parameters
    ----------
    entries : pandas.DataFrame
        From :func:`analysis.training_load.entries.entries_frame`.
    as_of : datetime.date, optional
        Last day of every athlete's calendar (entries after it are ignored); default
        each athlete's last entry date.

    Returns
    -------
    pandas.DataFrame
        Sorted by ``athlete_id``, ``date`` with columns ``athlete_id``, ``date``
        (datetime64, local date), ``season`` (0, 1, ... per athlete), ``season_day``
        (days since the season's first day, 0-based), ``recorded``, ``rest`` (bool),
        ``sessions`` (non-rest entries), the :data:`LOAD_COLUMNS` (sum of the day's
        entries; NaN when missing or unknown), ``pain_nrs`` (the day's highest pain; NaN
        if none rated).
    """
    e = entries
    if as_of is not None:
        e = e[e["date"] <= pd.Timestamp(as_of)]
    if e.empty:
        return _empty_daily()
    keys = [e["athlete_id"], e["date"]]
    grouped = e.groupby(keys, sort=True)
    day = pd.DataFrame({
        col: grouped[col].sum().where(~e[col].isna().groupby(keys).any())
        for col in LOAD_COLUMNS
    })
    day["pain_nrs"] = grouped["pain_nrs"].max()
    day["rest"] = grouped["rest"].all()
    day["sessions"] = (~e["rest"]).groupby(keys).sum()
    day["season_start"] = grouped["season_start"].any()
    day.index.names = ["athlete_id", "date"]
    day = day.reset_index()

    first = day.groupby("athlete_id")["date"].min()
    last = (pd.Series(pd.Timestamp(as_of), index=first.index) if as_of is not None
            else day.groupby("athlete_id")["date"].max())
    n_days = ((last - first).dt.days + 1).to_numpy()
    offsets = np.arange(n_days.sum()) - np.repeat(np.cumsum(n_days) - n_days, n_days)
    cal = pd.DataFrame({
        "athlete_id": np.repeat(first.index.to_numpy(), n_days),
        "date": np.repeat(first.to_numpy(), n_days) + offsets.astype("timedelta64[D]"),
    })
    out = cal.merge(day, on=["athlete_id", "date"], how="left", sort=False)
    out["recorded"] = out["rest"].notna()
    out["rest"] = out["rest"].fillna(False).astype(bool)
    out["sessions"] = out["sessions"].fillna(0).astype(int)
    starts = out["season_start"].fillna(False).astype(bool)
    out["season"] = starts.groupby(out["athlete_id"]).cumsum().astype(int)
    season_first = out.groupby(["athlete_id", "season"])["date"].transform("min")
    out["season_day"] = (out["date"] - season_first).dt.days.astype(int)
    cols = ["athlete_id", "date", "season", "season_day", "recorded", "rest", "sessions",
            *LOAD_COLUMNS, "pain_nrs"]
    return out[cols]


def _empty_daily() -> pd.DataFrame:
    return pd.DataFrame({
        "athlete_id": pd.Series(dtype=object), "date": pd.Series(dtype="datetime64[ns]"),
        "season": pd.Series(dtype=int), "season_day": pd.Series(dtype=int),
        "recorded": pd.Series(dtype=bool), "rest": pd.Series(dtype=bool),
        "sessions": pd.Series(dtype=int),
        **{c: pd.Series(dtype=float) for c in (*LOAD_COLUMNS, "pain_nrs")},
    })


class _Windows:
    """Sums over day windows that stop at the season's first day (cumulative sums)."""

    def __init__(self, values: np.ndarray, season_day: np.ndarray) -> None:
        missing = np.isnan(values)
        self.idx = np.arange(len(values))
        self.seg_start = self.idx - season_day
        self.cs = np.concatenate([[0.0], np.cumsum(np.where(missing, 0.0, values))])
        self.cm = np.concatenate([[0], np.cumsum(missing)])

    def window(self, days: int, end_lag: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(sum, missing days, complete) over days t-end_lag-days+1 .. t-end_lag.

        The sum covers the window's recorded days inside the season (NaN when it
        has none); ``complete`` is True when the whole window lies in the season
        and no day of it is missing.
        """
        hi = self.idx - end_lag
        lo = hi - days + 1
        inside = hi >= self.seg_start
        lo_c = np.maximum(lo, self.seg_start)
        hi_c = np.where(inside, hi, lo_c - 1)
        total = self.cs[hi_c + 1] - self.cs[lo_c]
        miss = self.cm[hi_c + 1] - self.cm[lo_c]
        n_in = hi_c - lo_c + 1
        total = np.where(inside & (miss < n_in), total, np.nan)
        complete = (lo >= self.seg_start) & (miss == 0)
        return total, miss, complete


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / den, np.nan)


def load_metrics(daily: pd.DataFrame, load: str = "srpe_au") -> pd.DataFrame:
    """The metrics of the module docstring for every athlete-day of ``daily``.

    Parameters
    ----------
    daily : pandas.DataFrame
        From :func:`daily_load` (one contiguous calendar per athlete).
    load : str
        Which daily load column to use, one of :data:`LOAD_COLUMNS`.

    Returns
    -------
    pandas.DataFrame
        Aligned with ``daily``: ``athlete_id``, ``date``, ``season``, ``season_day``,
        ``load`` and the metric columns of the module docstring.
    """
    if load not in LOAD_COLUMNS:
        raise ValueError(f"load must be one of {LOAD_COLUMNS}, not {load!r}")
    x = daily[load].to_numpy(dtype=float)
    season_day = daily["season_day"].to_numpy(dtype=int)
    out = daily[["athlete_id", "date", "season", "season_day"]].copy()
    out["load"] = x
    if len(x) == 0:
        for col in _METRIC_COLUMNS:
            out[col] = pd.Series(dtype=object if col == "ratio_note" else float)
        return out
    w = _Windows(x, season_day)
    sum_7d, miss_7d, full_7d = w.window(ACUTE_DAYS)
    sum_28d, miss_28d, _ = w.window(CHRONIC_DAYS)
    prev_7d = w.window(ACUTE_DAYS, end_lag=7)[0]
    prev2_7d = w.window(ACUTE_DAYS, end_lag=14)[0]
    chronic_21d = w.window(CHRONIC_DAYS - ACUTE_DAYS, end_lag=ACUTE_DAYS)[0]

    history_ok = season_day >= HISTORY_DAYS - 1
    shown = history_ok & (miss_28d == 0)

    ewma_a = _segment_ewma(x, season_day, ACUTE_DAYS)
    ewma_c = _segment_ewma(x, season_day, CHRONIC_DAYS)
    ewma_c_lag = np.concatenate([np.full(7, np.nan), ewma_c[:-7]])[: len(x)]

    hide = np.where(shown, 1.0, np.nan)
    out["sum_7d"] = sum_7d
    out["sum_28d"] = sum_28d
    out["missing_7d"] = miss_7d.astype(int)
    out["missing_28d"] = miss_28d.astype(int)
    out["week_change"] = (_ratio(sum_7d, prev_7d) - 1.0) * hide
    out["progression_2w"] = (_ratio(sum_7d, prev2_7d) - 1.0) * hide
    out["acwr_rolling"] = _ratio(sum_7d, chronic_21d / 3.0) * hide
    out["ewma_acute"] = ewma_a
    out["ewma_chronic"] = ewma_c
    out["acwr_ewma"] = _ratio(ewma_a, ewma_c) * hide
    out["chronic_trend_7d"] = (ewma_c - ewma_c_lag) * hide
    mono = _monotony(x, full_7d)
    out["monotony"] = mono
    out["strain"] = sum_7d * mono
    pain_7d = _pain_mean(daily["pain_nrs"].to_numpy(dtype=float), season_day)
    pain_prev = np.concatenate([np.full(7, np.nan), pain_7d[:-7]])[: len(x)]
    out["pain_7d"] = pain_7d
    out["pain_change_7d"] = np.where(season_day >= 7, pain_7d - pain_prev, np.nan)
    out["ratio_note"] = _ratio_notes(season_day, miss_28d, shown, chronic_21d)
    return out


_METRIC_COLUMNS = ("sum_7d", "sum_28d", "missing_7d", "missing_28d", "week_change",
                   "progression_2w", "acwr_rolling", "ewma_acute", "ewma_chronic", "acwr_ewma",
                   "chronic_trend_7d", "monotony", "strain", "pain_7d", "pain_change_7d",
                   "ratio_note")


def _segment_ewma(x: np.ndarray, season_day: np.ndarray, n_days: int) -> np.ndarray:
    """EWMA of ``x`` restarted at each season's first day, skipping NaN days (carried)."""
    segment = np.cumsum(season_day == 0)  # rows are contiguous per athlete and season
    grouped = pd.Series(x).groupby(segment, sort=True)
    ewma = grouped.ewm(alpha=ewma_lambda(n_days), adjust=False, ignore_na=True).mean()
    return ewma.to_numpy()


def _monotony(x: np.ndarray, full_7d: np.ndarray) -> np.ndarray:
    """mean / SD (ddof=1) of the 7 daily loads ending at each day; NaN unless ``full_7d``."""
    padded = np.concatenate([np.full(ACUTE_DAYS - 1, np.nan), x])
    win = np.lib.stride_tricks.sliding_window_view(padded, ACUTE_DAYS)
    with np.errstate(invalid="ignore"):
        mean = win.mean(axis=1)
        sd = win.std(axis=1, ddof=1)
    sd = np.where(sd <= 1e-12 * np.maximum(np.abs(mean), 1.0), 0.0, sd)
    with np.errstate(divide="ignore", invalid="ignore"):
        mono = np.where(sd > 0, mean / sd, np.where(mean > 0, np.inf, np.nan))
    return np.where(full_7d, mono, np.nan)


def _pain_mean(pain: np.ndarray, season_day: np.ndarray) -> np.ndarray:
    """Mean of the pain ratings of days t-6..t in the season (NaN if none)."""
    rated = ~np.isnan(pain)
    total = _Windows(np.where(rated, pain, np.nan), season_day).window(ACUTE_DAYS)[0]
    count = _Windows(np.where(rated, 1.0, np.nan), season_day).window(ACUTE_DAYS)[0]
    return _ratio(total, count)


def _ratio_notes(season_day: np.ndarray, miss_28d: np.ndarray, shown: np.ndarray,
                 chronic_21d: np.ndarray) -> np.ndarray:
    notes = np.full(len(season_day), "", dtype=object)
    young = season_day < HISTORY_DAYS - 1
    notes[young] = [f"history {d + 1} of {HISTORY_DAYS} days" for d in season_day[young]]
    gaps = ~young & (miss_28d > 0)
    notes[gaps] = [f"{m} missing day{'s' if m > 1 else ''} in the last {HISTORY_DAYS} "
                   "(log them or mark rest days)" for m in miss_28d[gaps]]
    notes[shown & ~(chronic_21d > 0)] = "no load in the 21 days before the last 7"
    return notes
