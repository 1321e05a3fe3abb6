"""Load-change flags as episodes: consecutive days of one flag become one line (issue 19)."""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.training_load.flags import FLAG_COLUMNS, episode_text, flag_episodes

sys.path.insert(0, str(Path(__file__).parent))


def _flags(rows):
    return pd.DataFrame(rows, columns=FLAG_COLUMNS)


def test_consecutive_days_merge_and_a_gap_splits():
    days = pd.date_range("2026-11-22", "2026-12-05")
    values = [1.6, 1.7, 2.0, 2.44, 2.1, 1.9, 1.8, 1.7, 1.6, 1.6, 1.55, 1.52, 1.51, 1.6]
    rows = [("a", d, "acwr_rolling", v, 1.5, f"ratio {v}") for d, v in zip(days, values, strict=True)]
    rows += [("a", pd.Timestamp("2026-12-01"), "monotony", 2.3, 2.0, "m1"),
             ("a", pd.Timestamp("2026-12-03"), "monotony", 2.5, 2.0, "m2"),  # gap: new episode
             ("b", pd.Timestamp("2026-12-02"), "monotony", 2.1, 2.0, "other athlete")]
    ep = flag_episodes(_flags(rows))
    assert len(ep) == 4
    acwr = ep[ep["flag"] == "acwr_rolling"].iloc[0]
    assert (acwr.start, acwr.end, acwr.days) == (days[0], days[-1], 14)
    assert acwr.peak == 2.44 and acwr.peak_date == pd.Timestamp("2026-11-25")
    assert episode_text(acwr) == ("rolling ACWR > 1.5 from 2026-11-22 to 2026-12-05 (14 days), "
                                  "peak 2.44 on 2026-11-25")
    mono = ep[(ep["athlete_id"] == "a") & (ep["flag"] == "monotony")]
    assert list(mono["start"]) == [pd.Timestamp("2026-12-03"), pd.Timestamp("2026-12-01")]
    assert list(mono["days"]) == [1, 1]


def test_an_infinite_monotony_is_said_in_words():
    days = pd.date_range("2026-11-01", "2026-11-03")
    for value in (np.inf, np.nan):  # the load panel gives None (NaN) for an infinite one
        ep = flag_episodes(_flags([("a", d, "monotony", value, 2.0, "m") for d in days]))
        assert episode_text(ep.iloc[0]).endswith("peak no day-to-day variation on 2026-11-01")


def test_no_flags_no_episodes():
    assert flag_episodes(_flags([])).empty


def test_the_athlete_page_lists_episodes_and_shades_them(tmp_path):
    """Five steady weeks then two heavy ones: one ACWR line, not one per day."""
    from test_web import PASSWORD, logged_in

    from analysis.training_load.entries import LoadEntry
    from stepdown.catalog import accounts, db
    from stepdown.catalog.training_log import add_entries
    from stepdown.web.app import create_app

    start = dt.date(2026, 10, 1)
    entries = [LoadEntry(athlete_id="runner", date=start + dt.timedelta(days=i), activity="run",
                         duration_s=1800.0 if i < 35 else 5400.0, rpe=5.0 if i < 35 else 7.0)
               for i in range(49)]
    path = tmp_path / "catalog.sqlite3"
    conn = db.connect(path)
    add_entries(conn, entries)
    accounts.add_user(conn, "head", PASSWORD, sees_all=True)
    conn.close()
    c, _ = logged_in(create_app(path), "head")
    page = c.get("/athletes/runner").text
    lines = re.findall(r'<summary><span class="flag">acwr_rolling</span> ([^<]*)</summary>', page)
    assert len(lines) == 1, lines
    assert re.match(r"rolling ACWR &gt; 1.5 from 2026-11-0\d to 2026-11-1\d \(\d+ days\), "
                    r"peak \d\.\d\d on 2026-11-\d\d", lines[0])
    n_days = int(re.search(r"\((\d+) days\)", lines[0]).group(1))
    assert n_days > 3
    chart = json.loads(re.search(r'id="load-data">\[(.*)\]</script>', page).group(1)
                       .replace("\\u003c", "<").replace("\\u003e", ">").replace("\\u0026", "&"))
    spans = [s for s in chart["layout"]["shapes"] if s["type"] == "rect"]
    assert len(spans) == len(re.findall(r"<details><summary>", page))
    widths = [np.datetime64(s["x1"][:10]) - np.datetime64(s["x0"][:10]) for s in spans]
    assert np.timedelta64(n_days, "D") in widths
