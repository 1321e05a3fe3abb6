"""The coach's desk in the catalog: one row per athlete for the overview, tags, acknowledgements.

:func:`desk_rows` answers the overview in two queries whatever the number of
tests (window functions over ``tests``), so a page over 500 athletes and
20 000 tests stays fast; :func:`totals_by_athlete` fetches the sparkline
totals of only the athletes on the page.  Tables: ``athlete_tags`` and
``acknowledgements`` (migration 0019).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from stepdown.catalog.db import CatalogError, Connection, now_utc, transaction
from stepdown.catalog.repo import check_athlete_id

TAG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
REASON_KEY = re.compile(r"^[a-z_]+:[A-Za-z0-9_.:-]{1,80}$")


@dataclass(frozen=True)
class DeskRow:
    """An athlete with the latest test and what the overview needs about it (the latest
    test's fields are None without a test)."""

    athlete_id: str
    """The athlete's id."""
    name: str
    """The athlete's name."""
    tags: tuple[str, ...]
    """The athlete's tags, sorted."""
    n_tests: int
    """How many tests the athlete has."""
    latest_id: int | None
    """The latest test's id."""
    when: str | None
    """The latest test's time (ISO UTC)."""
    test_leg: str | None
    """The latest test's leg."""
    total: int | None
    """The latest test's checklist total, 0-8."""
    category: str | None
    """The latest test's category: good, medium or poor."""
    prev_total: int | None
    """The total of the test before it (None without one)."""
    prev_category: str | None
    """The category of the test before it (None without one)."""
    pain: bool
    """Pain was reported in a rep of the latest test."""
    reviewed: bool
    """The latest test has a coach label or note."""


_NEWEST = ("(SELECT t.id FROM tests t WHERE t.athlete_id = a.id"
           " ORDER BY COALESCE(t.started_at, t.imported_at) DESC, t.id DESC LIMIT 1{})")
# An athlete's tags in one space-separated string (SQLite before 3.44 has no string_agg).
_TAGS_OF = {"sqlite": "group_concat(tag, ' ')", "postgresql": "string_agg(tag, ' ')"}
_ATHLETES_SQL = (
    "SELECT a.id, a.name, (SELECT {tags} FROM athlete_tags g"
    " WHERE g.athlete_id = a.id) AS tags,"
    " (SELECT COUNT(*) FROM tests t WHERE t.athlete_id = a.id) AS n,"
    f" {_NEWEST.format('')} AS latest_id, {_NEWEST.format(' OFFSET 1')} AS prev_id"
    " FROM athletes a"
)
_TEST_SQL = """
SELECT t.id, COALESCE(t.started_at, t.imported_at) AS at, t.test_leg, t.total, t.category,
       EXISTS (SELECT 1 FROM reps p WHERE p.test_id = t.id AND p.pain_nrs > 0) AS pain,
       (EXISTS (SELECT 1 FROM notes n WHERE n.test_id = t.id AND n.deleted_at IS NULL)
        OR EXISTS (SELECT 1 FROM coach_labels l JOIN reps p ON l.rep_id = p.id
                   WHERE p.test_id = t.id)) AS reviewed
FROM tests t WHERE t.id IN ({})
"""


def desk_rows(conn: Connection, visible: set[str] | None = None, *, text: str = "",
              tag: str = "", category: str = "") -> list[DeskRow]:
    """Athletes ordered by id, filtered: ``visible`` ids only (None: all), ``text`` a
    case-insensitive part of the id or name, ``tag`` one tag, ``category`` the
    latest result (good/medium/poor).

    Two queries: athletes with their newest and previous test id (index
    ``tests_latest``), then those tests' rows.

    Parameters
    ----------
    conn : Connection
        The catalog.
    visible : set of str or None
        The athlete ids the viewer may see; None for all.
    text : str
        Part of the id or name (any case); '' for any.
    tag : str
        One tag; '' for any.
    category : str
        The latest result's category (good/medium/poor); '' for any.

    Returns
    -------
    list of DeskRow
        One per athlete shown, ordered by id.
    """
    where, params = [], []
    if text:
        where.append("(lower(a.id) LIKE ? ESCAPE '!' OR lower(a.name) LIKE ? ESCAPE '!')")
        part = "%" + re.sub(r"([!%_])", r"!\1", text.lower()) + "%"
        params += [part, part]
    if tag:
        where.append("a.id IN (SELECT athlete_id FROM athlete_tags WHERE tag = ?)")
        params.append(tag)
    sql = _ATHLETES_SQL.replace("{tags}", _TAGS_OF[conn.dialect])
    athletes = conn.execute(
        sql + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY a.id",
        params).fetchall()
    if visible is not None:
        athletes = [a for a in athletes if a["id"] in visible]
    ids = [a[k] for a in athletes for k in ("latest_id", "prev_id") if a[k] is not None]
    tests = {}
    for start in range(0, len(ids), 900):  # SQLite's limit on bound parameters
        part = ids[start:start + 900]
        tests.update((r["id"], r) for r in conn.execute(
            _TEST_SQL.format(",".join("?" * len(part))), part))
    rows = []
    for a in athletes:
        last, prev = tests.get(a["latest_id"]), tests.get(a["prev_id"])
        if category and (last is None or last["category"] != category):
            continue
        rows.append(DeskRow(
            a["id"], a["name"], tuple(sorted((a["tags"] or "").split())), a["n"],
            a["latest_id"], last["at"] if last else None, last["test_leg"] if last else None,
            last["total"] if last else None, last["category"] if last else None,
            prev["total"] if prev else None, prev["category"] if prev else None,
            bool(last and last["pain"]), bool(last and last["reviewed"])))
    return rows


def totals_by_athlete(conn: Connection, athlete_ids: list[str]) -> dict[str, list[int]]:
    """Checklist totals of each athlete's tests, oldest first.

    Parameters
    ----------
    conn : Connection
        The catalog.
    athlete_ids : list of str
        The athletes on the page.

    Returns
    -------
    dict of str to list of int
        Athlete id -> its tests' totals (0-8), oldest first; empty without a test.
    """
    out: dict[str, list[int]] = {a: [] for a in athlete_ids}
    if not athlete_ids:
        return out
    marks = ",".join("?" * len(athlete_ids))
    for a, total in conn.execute(
        f"SELECT athlete_id, total FROM tests WHERE athlete_id IN ({marks})"
        " ORDER BY athlete_id, COALESCE(started_at, imported_at), id", athlete_ids,
    ):
        out[a].append(total)
    return out


def all_tags(conn: Connection) -> list[str]:
    """Every tag given to some athlete.

    Parameters
    ----------
    conn : Connection
        The catalog.

    Returns
    -------
    list of str
        The tags, sorted, each once.
    """
    return [r[0] for r in conn.execute("SELECT DISTINCT tag FROM athlete_tags ORDER BY tag")]


def set_tags(conn: Connection, athlete_id: str, tags: list[str]) -> list[str]:
    """Replace an athlete's tags (lower-cased, checked); returns them sorted.

    Parameters
    ----------
    conn : Connection
        The catalog.
    athlete_id : str
        The athlete.
    tags : list of str
        The new tags (blank ones are dropped, repeats kept once).

    Returns
    -------
    list of str
        The tags stored, sorted.

    Raises
    ------
    CatalogError
        A tag that is not 1-32 lower-case letters, digits, '-' or '_'.
    """
    check_athlete_id(athlete_id)
    clean = sorted({t.strip().lower() for t in tags if t.strip()})
    bad = [t for t in clean if not TAG.match(t)]
    if bad:
        raise CatalogError(f"invalid tag {bad[0]!r}: 1-32 lower-case letters, digits, '-' or '_'")
    with transaction(conn):
        conn.execute("DELETE FROM athlete_tags WHERE athlete_id = ?", (athlete_id,))
        conn.executemany("INSERT INTO athlete_tags (athlete_id, tag) VALUES (?, ?)",
                         [(athlete_id, t) for t in clean])
    return clean


@dataclass(frozen=True)
class Acknowledgement:
    """Who saw a reason on the Today view, and when."""

    reason_key: str
    """The reason's key (:class:`stepdown.web.today.Reason`)."""
    author: str
    """The coach who acknowledged it."""
    created_at: str
    """When (ISO UTC)."""


def acknowledge(conn: Connection, athlete_id: str, reason_key: str, author: str) -> None:
    """Record that ``author`` has seen this reason (the first acknowledgement is kept).

    Parameters
    ----------
    conn : Connection
        The catalog.
    athlete_id : str
        The athlete.
    reason_key : str
        The reason's key (``kind:what``).
    author : str
        The coach.

    Raises
    ------
    CatalogError
        An invalid athlete id or reason key.
    """
    check_athlete_id(athlete_id)
    if not REASON_KEY.match(reason_key):
        raise CatalogError(f"invalid reason {reason_key!r}")
    with transaction(conn):
        conn.execute(
            "INSERT INTO acknowledgements (athlete_id, reason_key, author, created_at)"
            " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING", (athlete_id, reason_key, author, now_utc()))


def acknowledgements(conn: Connection,
                     athlete_ids: list[str] | None = None) -> dict[str, dict[str, Acknowledgement]]:
    """Acknowledged reasons per athlete (all athletes when ``athlete_ids`` is None).

    Parameters
    ----------
    conn : Connection
        The catalog.
    athlete_ids : list of str or None
        The athletes; None for all.

    Returns
    -------
    dict of str to dict of str to Acknowledgement
        Athlete id -> reason key -> its acknowledgement.
    """
    sql = "SELECT athlete_id, reason_key, author, created_at FROM acknowledgements"
    params: list[str] = []
    if athlete_ids is not None:
        sql += f" WHERE athlete_id IN ({','.join('?' * len(athlete_ids))})"
        params = list(athlete_ids)
    out: dict[str, dict[str, Acknowledgement]] = {}
    for a, key, author, at in conn.execute(sql, params):
        out.setdefault(a, {})[key] = Acknowledgement(key, author, at)
    return out
