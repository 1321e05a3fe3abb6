"""The coach web app's load panel series: aligned, JSON-ready, gaps kept as gaps."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest

from analysis.training_load.entries import LoadEntry, entries_frame
from analysis.training_load.flags import FlagRules
from analysis.training_load.panel import load_panel

D0 = dt.date(2026, 1, 5)


def entries() -> pd.DataFrame:
    es = []
    for i in range(40):
        d = D0 + dt.timedelta(days=i)
        if i == 3:
            continue  # missing day
        if i % 7 == 6:
            es.append(LoadEntry("a", d, "rest"))
        else:
            es.append(LoadEntry("a", d, "run", duration_s=3000.0 if i < 33 else 6000.0, rpe=5,
                                pain_nrs=1.0))
    es.append(LoadEntry("other", D0, "run", duration_s=60.0, rpe=1))
    return entries_frame(es)


def test_panel_series_are_aligned_and_json_ready():
    tests = pd.DataFrame({"athlete_id": ["a", "a", "other"],
                          "date": ["2026-01-06", "2026-02-10", "2026-01-06"],
                          "total": [1, 4, 8]})
    p = load_panel(entries(), "a", days=None, rules=FlagRules(acwr_max=1.4), stepdown=tests)
    n = len(p.dates)
    assert n == 40 and p.dates[0] == "2026-01-05" and p.dates[-1] == "2026-02-13"
    for series in (p.daily_load, p.rest, p.acute, p.chronic, p.acwr_ewma, p.acwr_rolling,
                   p.pain_nrs, p.ratio_note):
        assert len(series) == n
    assert p.daily_load[3] is None and p.daily_load[0] == 250.0  # 5 x 50 min
    assert p.rest[6] and p.daily_load[6] == 0.0
    assert p.acwr_rolling[30] is None and p.ratio_note[30].startswith("1 missing day")
    assert p.acwr_rolling[39] is not None and p.acwr_ewma[39] > 1.4
    assert p.acwr_band == (0.8, 1.4)
    assert p.stepdown == [{"date": "2026-01-06", "total": 1, "category": "good"},
                          {"date": "2026-02-10", "total": 4, "category": "poor"}]
    codes = {f["flag"] for f in p.flags}
    assert {"stepdown_worsening", "acwr_ewma"} <= codes
    assert "injury" in p.help
    json.dumps(p.to_dict(), allow_nan=False)  # no NaN/inf leaks to the browser


def test_window_keeps_the_history_of_the_first_day_drawn():
    whole = load_panel(entries(), "a", days=None)
    last14 = load_panel(entries(), "a", days=14)
    assert last14.dates == whole.dates[-14:]
    assert last14.acute == pytest.approx(whole.acute[-14:])
    assert last14.acwr_rolling == whole.acwr_rolling[-14:]
