"""The Today view: which athletes need a look, each with the reasons in words.

Reasons, heaviest first (the weights order the list; they are not risks):

- a load-change flag episode (:func:`analysis.training_load.flags.flag_episodes`) still
  running or ended in the last :data:`RECENT_DAYS` days: ACWR (3), 2-week
  progression or pain rising with load (2), monotony (1);
- the latest step-down test worse than the one before: category (3) or total (2);
- pain reported in the latest test (2);
- the latest test not reviewed yet (no label, no note) (1);
- no training logged for :data:`QUIET_DAYS` days or more, for an athlete with a log (1).

Each reason has a key naming what it is about (a test id, an episode start),
so an acknowledgement (who, when) silences that reason only: a new test or a
new episode raises a new one.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass

import pandas as pd

from analysis.training_load.flags import episode_text, flag_episodes, load_flags
from stepdown.catalog.db import Connection
from stepdown.catalog.desk import Acknowledgement, DeskRow

RECENT_DAYS = 7
QUIET_DAYS = 7
RANK = {"good": 0, "medium": 1, "poor": 2}
LOAD_WEIGHTS = {"acwr_rolling": 3, "acwr_ewma": 3, "progression_2w": 2, "pain_rising": 2,
                "monotony": 1}
KINDS = {"load": "training load", "worse": "worse test", "pain": "pain",
         "unreviewed": "not reviewed", "quiet": "no training logged"}


@dataclass(frozen=True)
class Reason:
    """One reason an athlete needs a look."""

    key: str
    """What it is about (``test:ID:worse``, ``load:FLAG:START``, ``quiet:DATE``): an
    acknowledgement silences this key only."""
    kind: str
    """One of :data:`KINDS`."""
    text: str
    """The reason in words."""
    weight: int
    """How heavy it is (orders the list; not a risk)."""
    ack: Acknowledgement | None = None
    """Who acknowledged it and when; None while it is not."""


@dataclass(frozen=True)
class LoadState:
    """Per athlete: recent flag episodes (as dicts with ``flag``, ``start``, ``text``) and
    the last logged day."""

    episodes: dict[str, list[dict]]
    """Athlete id -> its flag episodes running or ended in the last :data:`RECENT_DAYS`
    days (``start``: ISO date)."""
    last_logged: dict[str, dt.date]
    """Athlete id -> the last day with a training-log entry."""


def test_reasons(row: DeskRow) -> list[Reason]:
    """Reasons from the athlete's latest test (and the one before it).

    Parameters
    ----------
    row : DeskRow
        The athlete's row of the desk.

    Returns
    -------
    list of Reason
        A worse test, pain reported, not reviewed, as they apply; none without a test.
    """
    if row.latest_id is None:
        return []
    out, t = [], row.latest_id
    if row.prev_category is not None and RANK[row.category] > RANK[row.prev_category]:
        out.append(Reason(f"test:{t}:worse", "worse",
                          f"latest test {row.category} (was {row.prev_category}), "
                          f"total {row.prev_total} → {row.total}", 3))
    elif row.prev_total is not None and row.total > row.prev_total:
        out.append(Reason(f"test:{t}:worse", "worse",
                          f"total up {row.prev_total} → {row.total}", 2))
    if row.pain:
        out.append(Reason(f"test:{t}:pain", "pain", "pain reported in the latest test", 2))
    if not row.reviewed:
        out.append(Reason(f"test:{t}:unreviewed", "unreviewed",
                          f"latest test ({row.when[:10]}) not reviewed", 1))
    return out


def load_reasons(athlete_id: str, state: LoadState, today: dt.date) -> list[Reason]:
    """Reasons from the training log: recent flag episodes, and a log gone quiet.

    Parameters
    ----------
    athlete_id : str
        The athlete.
    state : LoadState
        Every athlete's recent episodes and last logged day (:func:`load_state`).
    today : datetime.date
        The day the view is for.

    Returns
    -------
    list of Reason
        One per recent episode, and one when nothing was logged for :data:`QUIET_DAYS` days.
    """
    out = [Reason(f"load:{ep['flag']}:{ep['start']}", "load", ep["text"],
                  LOAD_WEIGHTS.get(ep["flag"], 1))
           for ep in state.episodes.get(athlete_id, [])]
    last = state.last_logged.get(athlete_id)
    if last is not None and (today - last).days >= QUIET_DAYS:
        out.append(Reason(f"quiet:{last.isoformat()}", "quiet",
                          f"no training logged for {(today - last).days} days "
                          f"(last {last.isoformat()})", 1))
    return out


def with_acks(reasons: list[Reason], acks: dict[str, Acknowledgement]) -> list[Reason]:
    """The reasons, acknowledged ones carrying who and when, heaviest unacknowledged first.

    Parameters
    ----------
    reasons : list of Reason
        The athlete's reasons.
    acks : dict of str to Acknowledgement
        Reason key -> its acknowledgement.

    Returns
    -------
    list of Reason
        Unacknowledged first, each group heaviest first.
    """
    marked = [Reason(r.key, r.kind, r.text, r.weight, acks.get(r.key)) for r in reasons]
    return sorted(marked, key=lambda r: (r.ack is not None, -r.weight))


def attention(reasons: list[Reason]) -> int:
    """How much an athlete needs a look: the summed weight of unacknowledged reasons.

    Parameters
    ----------
    reasons : list of Reason
        The athlete's reasons.

    Returns
    -------
    int
        The summed weight; 0 when every reason is acknowledged.
    """
    return sum(r.weight for r in reasons if r.ack is None)


_cache: dict[tuple, LoadState] = {}
_cache_lock = threading.Lock()


def load_state(conn: Connection, today: dt.date) -> LoadState:
    """Recent flag episodes of every athlete with a training log (kept in memory until the
    log changes or the day turns).

    Parameters
    ----------
    conn : Connection
        The catalog.
    today : datetime.date
        The day the view is for (later entries are left out).

    Returns
    -------
    LoadState
        Every athlete's recent episodes and last logged day.
    """
    version = tuple(conn.execute("SELECT COUNT(*), MAX(id) FROM training_log").fetchone())
    key = (conn.url, version, today)  # another catalog's log can have the same count and id
    with _cache_lock:
        if key in _cache:
            return _cache[key]
    state = _compute_load_state(conn, today)
    with _cache_lock:
        _cache.clear()
        _cache[key] = state
    return state


def _compute_load_state(conn: Connection, today: dt.date) -> LoadState:
    from analysis.training_load.entries import ENTRY_COLUMNS, add_entry_loads
    from analysis.training_load.metrics import daily_load, load_metrics

    # Straight into a frame (entries were validated when stored): building 60 000
    # LoadEntry objects first took 4 of the 5 s this costs for 500 athletes.
    rows = conn.execute(
        f"SELECT {', '.join(ENTRY_COLUMNS)} FROM training_log WHERE date <= ?"
        " ORDER BY athlete_id, date, id", (today.isoformat(),)).fetchall()
    if not rows:
        return LoadState({}, {})
    frame = add_entry_loads(pd.DataFrame.from_records([tuple(r) for r in rows],
                                                      columns=list(ENTRY_COLUMNS)))
    last_logged = {a: d.date() for a, d in frame.groupby("athlete_id")["date"].max().items()}
    episodes = flag_episodes(load_flags(load_metrics(daily_load(frame))))
    recent = episodes[episodes["end"] >= pd.Timestamp(today - dt.timedelta(days=RECENT_DAYS))]
    by_athlete: dict[str, list[dict]] = {}
    for ep in recent.itertuples(index=False):
        by_athlete.setdefault(ep.athlete_id, []).append(
            {"flag": ep.flag, "start": ep.start.date().isoformat(), "text": episode_text(ep)})
    return LoadState(by_athlete, last_logged)
