"""The training log in the catalog: add and list an athlete's load entries.

Every read and write of ``training_log`` / ``training_imports`` (migration
0002) goes through this module. Entries are :class:`analysis.training_load.entries.LoadEntry`;
they are validated before anything is written, and a batch (a CSV import) is
written in one transaction: all of it or nothing. Athletes are created in the
athletes table (the repository's) on their first entry.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import pandas as pd

from analysis.training_load.entries import LoadEntry, entries_frame, validate_entry
from analysis.training_load.flags import DEFAULT_RULES, FlagRules
from analysis.training_load.panel import LoadPanel, load_panel
from stepdown.catalog.db import CatalogError, Connection, now_utc, transaction
from stepdown.catalog.repo import AthleteInfo, check_athlete_id, ensure_athlete, list_tests

_COLUMNS = ("athlete_id", "date", "activity", "duration_s", "distance_m", "sets", "reps",
            "load_kg", "rpe", "pain_nrs", "season_start", "notes")


def _row(e: LoadEntry) -> tuple:
    return (e.athlete_id, e.date.isoformat(), e.activity, e.duration_s, e.distance_m, e.sets,
            e.reps, e.load_kg, e.rpe, e.pain_nrs, int(e.season_start), e.notes)


def _insert(conn: Connection, entries: list[LoadEntry], import_id: int | None) -> None:
    for athlete_id in sorted({e.athlete_id for e in entries}):
        ensure_athlete(conn, AthleteInfo(id=athlete_id))
    marks = ", ".join("?" * (len(_COLUMNS) + 2))
    conn.executemany(
        f"INSERT INTO training_log ({', '.join(_COLUMNS)}, import_id, created_at)"
        f" VALUES ({marks})",
        [(*_row(e), import_id, now_utc()) for e in entries],
    )


def _checked(entries: Iterable[LoadEntry]) -> list[LoadEntry]:
    out = list(entries)
    for e in out:
        check_athlete_id(e.athlete_id)
        validate_entry(e, where=f"entry {e.athlete_id} {e.date.isoformat()}")
    return out


def add_entries(conn: Connection, entries: Iterable[LoadEntry]) -> int:
    """Store entries added by hand, all in one transaction; returns how many.

    Parameters
    ----------
    conn : Connection
        The catalog.
    entries : iterable of LoadEntry
        The entries (durations in s, distances in m), all validated before any is written.

    Returns
    -------
    int
        How many entries were stored.
    """
    batch = _checked(entries)
    with transaction(conn):
        _insert(conn, batch, None)
    return len(batch)


def import_entries(conn: Connection, entries: Iterable[LoadEntry], *,
                   file_name: str, content_sha256: str) -> int:
    """Store the entries of one imported file, all or nothing; returns how many.

    A file whose content was imported before is refused (:class:`CatalogError`)
    so that importing it twice cannot double an athlete's load.

    Parameters
    ----------
    conn : Connection
        The catalog.
    entries : iterable of LoadEntry
        The file's entries.
    file_name : str
        The file's name, kept with the import.
    content_sha256 : str
        SHA-256 (hex) of the file's content.

    Returns
    -------
    int
        How many entries were stored.
    """
    batch = _checked(entries)
    with transaction(conn):
        seen = conn.execute(
            "SELECT file_name, imported_at FROM training_imports WHERE content_sha256 = ?",
            (content_sha256,),
        ).fetchone()
        if seen:
            raise CatalogError(f"{file_name}: this file was already imported "
                               f"(as {seen[0]} at {seen[1]}); nothing imported")
        cur = conn.execute(
            "INSERT INTO training_imports (file_name, content_sha256, n_entries, imported_at)"
            " VALUES (?, ?, ?, ?) RETURNING id", (file_name, content_sha256, len(batch), now_utc()))
        _insert(conn, batch, cur.fetchone()[0])
    return len(batch)


def list_entries(conn: Connection, athlete_id: str | None = None, *,
                 until: dt.date | None = None) -> list[LoadEntry]:
    """Entries of one athlete (or all), ordered by athlete, date and insertion.

    Parameters
    ----------
    conn : Connection
        The catalog.
    athlete_id : str or None
        The athlete; None for all.
    until : datetime.date or None
        Only entries up to this local date (inclusive); None for all.

    Returns
    -------
    list of LoadEntry
        The entries.
    """
    where, params = [], []
    if athlete_id is not None:
        where.append("athlete_id = ?")
        params.append(athlete_id)
    if until is not None:
        where.append("date <= ?")
        params.append(until.isoformat())
    sql = (f"SELECT {', '.join(_COLUMNS)} FROM training_log"
           f"{' WHERE ' + ' AND '.join(where) if where else ''} ORDER BY athlete_id, date, id")
    return [
        LoadEntry(**{**dict(r), "date": dt.date.fromisoformat(r["date"]),
                     "season_start": bool(r["season_start"])})
        for r in conn.execute(sql, params)
    ]


def logged_athletes(conn: Connection) -> list[str]:
    """Ids of the athletes with at least one training-log entry.

    Parameters
    ----------
    conn : Connection
        The catalog.

    Returns
    -------
    list of str
        The ids, sorted.
    """
    return [r[0] for r in conn.execute(
        "SELECT DISTINCT athlete_id FROM training_log ORDER BY athlete_id")]


def stepdown_results(conn: Connection, athlete_id: str) -> pd.DataFrame:
    """The athlete's step-down tests as ``athlete_id``, ``date``, ``total``, ``category``.

    ``date`` is the date part of the test's start (UTC, from the recording) or,
    without one, of its import time: the local date may differ by one day.

    Parameters
    ----------
    conn : Connection
        The catalog.
    athlete_id : str
        The athlete.

    Returns
    -------
    pandas.DataFrame
        One row per test, oldest first (``date`` as datetime64[ns]).
    """
    tests = list_tests(conn, athlete_id)
    return pd.DataFrame({
        "athlete_id": [t.athlete_id for t in tests],
        "date": pd.to_datetime([t.when[:10] for t in tests]).astype("datetime64[ns]"),
        "total": [t.total for t in tests],
        "category": [t.category for t in tests],
    })


def load_panel_for(conn: Connection, athlete_id: str, *, as_of: dt.date | None = None,
                   days: int | None = 90, rules: FlagRules = DEFAULT_RULES) -> LoadPanel:
    """The coach web app's load panel of one athlete, from the catalog.

    See :func:`analysis.training_load.panel.load_panel`.

    Parameters
    ----------
    conn : Connection
        The catalog.
    athlete_id : str
        The athlete.
    as_of : datetime.date or None
        The last day of the panel (local date); None for the last logged day.
    days : int or None
        Days shown; None for the whole log.
    rules : FlagRules
        The clinic's flag thresholds.

    Returns
    -------
    LoadPanel
        The panel, with the athlete's step-down results.

    Raises
    ------
    CatalogError
        When the athlete has no training-log entry.
    """
    entries = list_entries(conn, athlete_id, until=as_of)
    if not entries:
        raise CatalogError(f"no training-log entries for athlete {athlete_id!r}")
    return load_panel(entries_frame(entries), athlete_id, as_of=as_of, days=days, rules=rules,
                      stepdown=stepdown_results(conn, athlete_id))
