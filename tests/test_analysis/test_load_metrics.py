"""Load metrics against values computed by hand on small series."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from analysis.training_load.entries import LoadEntry, entries_frame
from analysis.training_load.metrics import daily_load, ewma_lambda, load_metrics

D0 = dt.date(2026, 1, 5)


def day(i: int) -> dt.date:
    return D0 + dt.timedelta(days=i)


def session(i: int, load_au: float, athlete: str = "a", **kw) -> LoadEntry:
    """A run whose session-RPE load is ``load_au`` (RPE 5 x load/5 minutes), or a rest day."""
    if load_au == 0:
        return LoadEntry(athlete, day(i), "rest", **kw)
    return LoadEntry(athlete, day(i), "run", duration_s=load_au / 5 * 60, rpe=5, **kw)


def metrics_of(loads: dict[int, float], athlete: str = "a", **kw) -> pd.DataFrame:
    entries = [session(i, x, athlete) for i, x in loads.items()]
    return load_metrics(daily_load(entries_frame(entries), **kw))


def hand_ewma(loads: list[float], n_days: int) -> list[float]:
    """EWMA_today = load * lambda + (1 - lambda) * EWMA_yesterday, seeded with day 1."""
    lam = 2 / (n_days + 1)
    out = [loads[0]]
    for x in loads[1:]:
        out.append(x * lam + (1 - lam) * out[-1])
    return out


def test_lambda_is_two_over_n_plus_one():
    assert ewma_lambda(7) == 0.25
    assert ewma_lambda(28) == pytest.approx(2 / 29)


def test_sums_changes_and_rolling_acwr_on_a_load_jump():
    # 4 weeks at 100 AU/day, then a week at 200 AU/day.
    m = metrics_of({i: 100.0 if i < 28 else 200.0 for i in range(35)})
    d27, d34 = m.iloc[27], m.iloc[34]
    assert d27.sum_7d == 700 and d27.sum_28d == 2800
    assert d27.acwr_rolling == pytest.approx(1.0)
    assert d27.week_change == pytest.approx(0.0)
    # day 34: acute 1400; chronic = days 7..27 = 2100 AU = 700 per week.
    assert d34.sum_7d == 1400
    assert d34.sum_28d == 21 * 100 + 7 * 200
    assert d34.acwr_rolling == pytest.approx(1400 / 700)
    assert d34.week_change == pytest.approx(1400 / 700 - 1)
    assert d34.progression_2w == pytest.approx(1400 / 700 - 1)
    assert m.missing_28d.max() == 0


def test_ewma_and_its_ratio_follow_the_formula_day_by_day():
    loads = [100.0 if i < 28 else 200.0 for i in range(35)]
    m = metrics_of(dict(enumerate(loads)))
    acute, chronic = hand_ewma(loads, 7), hand_ewma(loads, 28)
    np.testing.assert_allclose(m.ewma_acute, acute, rtol=1e-12)
    np.testing.assert_allclose(m.ewma_chronic, chronic, rtol=1e-12)
    assert m.acwr_ewma.iloc[34] == pytest.approx(acute[34] / chronic[34])
    assert m.chronic_trend_7d.iloc[34] == pytest.approx(chronic[34] - chronic[27])


def test_monotony_and_strain_by_hand():
    week = [100, 0, 200, 100, 0, 300, 0]  # mean 100, squared deviations sum 80000
    m = metrics_of(dict(enumerate(week)))
    sd = math.sqrt(80000 / 6)
    assert m.monotony.iloc[6] == pytest.approx(100 / sd)
    assert m.strain.iloc[6] == pytest.approx(700 * 100 / sd)
    assert m.monotony.iloc[:6].isna().all()  # fewer than 7 days


def test_equal_loads_all_week_give_infinite_monotony_and_rest_weeks_none():
    assert metrics_of({i: 50.0 for i in range(7)}).monotony.iloc[6] == math.inf
    assert np.isnan(metrics_of({i: 0.0 for i in range(7)}).monotony.iloc[6])


def test_ratios_hidden_until_28_days_of_history():
    m = metrics_of({i: 100.0 for i in range(30)})
    ratio_cols = ["week_change", "progression_2w", "acwr_rolling", "acwr_ewma",
                  "chronic_trend_7d"]
    assert m[ratio_cols].iloc[:27].isna().all().all()
    assert m[ratio_cols].iloc[27:].notna().all().all()
    assert m.ratio_note.iloc[9] == "history 10 of 28 days"
    assert (m.ratio_note.iloc[27:] == "").all()


def test_missing_day_is_missing_not_zero():
    loads = {i: 100.0 for i in range(40) if i != 10}  # day 10 not logged
    m = metrics_of(loads)
    assert np.isnan(m.load.iloc[10])
    # sums count the recorded days and report the gap beside them
    assert m.sum_7d.iloc[12] == 600 and m.missing_7d.iloc[12] == 1
    # EWMA neither decays nor takes a zero on the missing day
    assert m.ewma_acute.iloc[10] == m.ewma_acute.iloc[9] == pytest.approx(100.0)
    # ratios stay hidden while the gap is in the last 28 days (days 10..37)
    assert m.acwr_rolling.iloc[27:38].isna().all()
    assert m.ratio_note.iloc[30] == "1 missing day in the last 28 (log them or mark rest days)"
    assert m.acwr_rolling.iloc[38] == pytest.approx(1.0)


def test_marked_rest_days_count_as_zero_load():
    loads = {i: (0.0 if i % 7 == 6 else 120.0) for i in range(28)}
    m = metrics_of(loads)
    assert m.missing_28d.iloc[27] == 0
    assert m.sum_7d.iloc[27] == 6 * 120
    assert m.acwr_rolling.iloc[27] == pytest.approx(720 / (3 * 720 / 3))


def test_session_without_rpe_has_unknown_session_load_but_known_duration():
    entries = [session(i, 100.0) for i in range(28)]
    entries[20] = LoadEntry("a", day(20), "run", duration_s=1200.0)  # no RPE
    daily = daily_load(entries_frame(entries))
    srpe = load_metrics(daily)
    assert np.isnan(srpe.load.iloc[20]) and np.isnan(srpe.acwr_rolling.iloc[27])
    dur = load_metrics(daily, load="duration_s")
    assert dur.load.iloc[20] == 1200 and dur.acwr_rolling.iloc[27] == pytest.approx(
        (6 * 1200 + 1200) / ((21 * 1200) / 3))


def test_several_sessions_a_day_add_up():
    entries = [session(0, 100.0), session(0, 50.0), session(1, 0.0)]
    daily = daily_load(entries_frame(entries))
    assert daily.srpe_au.tolist() == [150.0, 0.0]
    assert daily.sessions.tolist() == [2, 0] and daily.rest.tolist() == [False, True]


def test_season_start_restarts_every_window():
    entries = [session(i, 300.0) for i in range(40)]
    entries += [session(i, 100.0) for i in range(40, 70)]
    entries[40] = LoadEntry("a", day(40), "run", duration_s=1200, rpe=5, season_start=True)
    daily = daily_load(entries_frame(entries))
    assert daily.season_day.iloc[40] == 0 and daily.season.iloc[40] == 1
    m = load_metrics(daily)
    assert m.sum_7d.iloc[41] == 200  # days 40 and 41 only: last season does not count
    assert m.ewma_chronic.iloc[40] == pytest.approx(100.0)  # seeded afresh
    assert m.acwr_rolling.iloc[40:67].isna().all()
    assert m.ratio_note.iloc[45] == "history 6 of 28 days"
    assert m.acwr_rolling.iloc[67] == pytest.approx(1.0)


def test_calendar_runs_to_as_of_with_trailing_missing_days():
    daily = daily_load(entries_frame([session(i, 100.0) for i in range(30)]), as_of=day(33))
    assert len(daily) == 34 and not daily.recorded.iloc[30:].any()
    m = load_metrics(daily)
    assert m.missing_7d.iloc[33] == 4 and np.isnan(m.acwr_rolling.iloc[33])
    # and entries after as_of are left out
    assert len(daily_load(entries_frame([session(i, 1.0) for i in range(30)]),
                          as_of=day(9))) == 10


def test_athletes_are_independent_when_computed_together():
    rng = np.random.default_rng(3)
    a = {i: float(rng.integers(0, 400)) for i in range(45) if i not in (5, 31)}
    b = {i + 9: float(rng.integers(0, 400)) for i in range(50)}
    both = load_metrics(daily_load(entries_frame(
        [session(i, x, "a") for i, x in a.items()] + [session(i, x, "b") for i, x in b.items()])))
    for name, loads in (("a", a), ("b", b)):
        alone = metrics_of(loads, athlete=name).reset_index(drop=True)
        together = both[both.athlete_id == name].reset_index(drop=True)
        pd.testing.assert_frame_equal(alone, together)


def test_published_example_same_rolling_ratio_different_ewma_ratios():
    """Williams et al. 2017 on Menaspa's three athletes: rolling ACWR identical (1.43),
    EWMA ACWR different, highest for the athlete whose load came latest. Same idea here:
    three weeks of 100 AU/day, then 1000 AU in the fourth week spread three ways."""
    acute_weeks = {
        "front": [400, 300, 100, 100, 50, 50, 0],
        "even": [150, 150, 150, 150, 150, 150, 100],
        "back": [0, 50, 50, 100, 100, 300, 400],
    }
    results = {}
    for name, week in acute_weeks.items():
        loads = [100.0] * 21 + [float(x) for x in week]
        m = metrics_of(dict(enumerate(loads)), athlete=name)
        rolling_by_hand = sum(week) / (2100 / 3)
        ewma_by_hand = hand_ewma(loads, 7)[-1] / hand_ewma(loads, 28)[-1]
        assert m.acwr_rolling.iloc[27] == pytest.approx(rolling_by_hand)
        assert m.acwr_ewma.iloc[27] == pytest.approx(ewma_by_hand, rel=1e-12)
        results[name] = m.acwr_ewma.iloc[27]
    assert round(1000 / 700, 2) == 1.43
    assert results["front"] < results["even"] < results["back"]
    assert results["back"] - results["front"] > 0.3


def test_an_empty_log_gives_empty_tables_not_errors():
    daily = daily_load(entries_frame([]))
    m = load_metrics(daily)
    assert len(daily) == 0 and len(m) == 0 and "acwr_ewma" in m.columns
