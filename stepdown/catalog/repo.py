"""The catalog's repository: athletes, tests, reps, items, coach labels and notes.

Every read and write of those tables goes through this module (accounts live in
:mod:`stepdown.catalog.accounts`).  Functions take an open connection from
:func:`stepdown.catalog.db.connect` and return plain dataclasses.

A test is stored from its typed analysis (:class:`analysis.result.AnalysisResult`); its
document (the analysis JSON contract of DESIGN.md) is kept beside the normalised rows and
read back typed by :func:`get_test`.
Coach labels never overwrite the automatic verdict: they are stored beside it,
append-only, the newest per rep and item being the current one.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from analysis import registry
from analysis.result import CATEGORIES as CATEGORIES  # re-exported: the web app reads repo.CATEGORIES
from analysis.result import AnalysisResult, ResultError
from stepdown.catalog.db import CatalogError, Connection, now_utc, transaction

ATHLETE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
NOTE_MAX_CHARS = 4000


class AnalysisContractError(CatalogError):
    """An analysis document that breaks the analysis JSON contract."""


@dataclass(frozen=True)
class AthleteInfo:
    """An athlete; body dimensions in m, None where unknown."""

    id: str
    """The athlete's id (letters, digits, ``_.-``)."""
    name: str = ""
    """The athlete's name; '' when not given."""
    height_m: float | None = None
    """Body height, m."""
    thigh_length_m: float | None = None
    """Thigh length, m."""
    shank_length_m: float | None = None
    """Shank length, m."""
    foot_medial_offset_m: float | None = None
    """Medial offset of the foot from the ankle, m (the charts' second knee threshold)."""
    notes: str = ""
    """Free text about the athlete."""


@dataclass(frozen=True)
class TestSummary:
    """One test as listed: its result and the mean of its reps' peak measures."""

    id: int
    """The test's id."""
    athlete_id: str
    """Whose test."""
    started_at: str | None
    """When the recording started (ISO UTC); None when it does not say."""
    imported_at: str
    """When the test was imported (ISO UTC)."""
    test_leg: str
    """The stance (test) leg: left or right."""
    step_height_m: float | None
    """Step height, m; None when not given."""
    rule: str
    """The test-level rule: majority, any or worst."""
    total: int
    """Checklist total, 0-8 (automatic)."""
    piva_total: int
    """Piva 0-6 subtotal."""
    category: str
    """good, medium or poor."""
    n_reps: int
    """Number of reps."""
    mean_measures: dict[str, float | None]
    """Measure -> mean over reps of each rep's peak, in the unit of its name."""
    any_pain: bool
    """Pain above 0 was reported for some rep."""
    n_labels: int
    """Coach labels given on the test's reps (all versions)."""
    n_notes: int
    """Notes on the test (not deleted)."""

    @property
    def when(self) -> str:
        """The test's time for display: recording start, else import time."""
        return self.started_at or self.imported_at

    @property
    def when_text(self) -> str:
        """:attr:`when` for people: ``2026-11-24 17:03`` (UTC)."""
        return self.when.replace("T", " ")[:16]


@dataclass(frozen=True)
class AthleteSummary:
    """An athlete with their tests in time order (oldest first)."""

    athlete: AthleteInfo
    """The athlete."""
    tests: list[TestSummary]
    """Their tests, oldest first."""

    @property
    def latest(self) -> TestSummary | None:
        """The newest test; None without a test."""
        return self.tests[-1] if self.tests else None


@dataclass(frozen=True)
class Label:
    """A coach's verdict on one item of one rep."""

    value: int
    """The item's score, 0 to its maximum."""
    author: str
    """The coach."""
    created_at: str
    """When (ISO UTC)."""


@dataclass
class RepDetail:
    """One rep: times in s on the recording clock, measures in their named units."""

    index: int
    """The rep's number in the test, from 1."""
    start_s: float
    """Start, s."""
    bottom_s: float | None
    """Deepest point, s; None when not found."""
    end_s: float
    """End, s."""
    total: int
    """The rep's checklist total (automatic)."""
    pain_nrs: float | None
    """Pain NRS 0-10 reported for the rep; None when not reported."""
    measures: dict[str, float | None] = field(default_factory=dict)
    """Measure -> the rep's peak, in the unit of its name; None when not measured."""
    items: dict[str, int | None] = field(default_factory=dict)
    """Item -> automatic score; None: not assessed."""
    sources: dict[str, str] = field(default_factory=dict)
    """Item -> where its score came from (rule, classifier, reported, not_assessed)."""
    labels: dict[str, Label] = field(default_factory=dict)
    """Item -> the current (newest) coach label."""

    def reviewed_items(self) -> dict[str, int | None]:
        """Items as the coach sees them: the coach label where there is one.

        Returns
        -------
        dict of str to int or None
            Item -> score.
        """
        return {k: (self.labels[k].value if k in self.labels else v) for k, v in self.items.items()}


@dataclass(frozen=True)
class Note:
    """A coach's note on a test or one of its reps."""

    id: int
    """The note's id."""
    rep_index: int | None
    """The rep it is about; None for the whole test."""
    author: str
    """The coach."""
    text: str
    """The note."""
    created_at: str
    """When (ISO UTC)."""
    for_athlete: bool = False
    """Shown in the athlete's report (the coach chose it)."""


@dataclass
class TestDetail:
    """Everything stored about one test."""

    summary: TestSummary
    """The test as listed."""
    sensors: list[str]
    """The placements the analysis used."""
    recording_path: str
    """The catalog's copy of the recording."""
    analysis: AnalysisResult
    """The stored analysis, typed."""
    test_items: dict[str, int | None]
    """Item -> test-level automatic score; None: not assessed."""
    reps: list[RepDetail]
    """The reps, in order."""
    notes: list[Note]
    """The notes not deleted, oldest first."""


# ---------------------------------------------------------------- athletes


def check_athlete_id(athlete_id: str) -> str:
    """Return ``athlete_id`` if it is a valid id (letters, digits, ``_.-``), else raise.

    Parameters
    ----------
    athlete_id : str
        The id to check.

    Returns
    -------
    str
        ``athlete_id`` itself.

    Raises
    ------
    CatalogError
        Not 1-64 letters, digits, '_', '.' or '-' (starting with a letter or digit).
    """
    if not isinstance(athlete_id, str) or not ATHLETE_ID.match(athlete_id):
        raise CatalogError(
            f"invalid athlete id {athlete_id!r}: use 1-64 letters, digits, '_', '.' or '-'"
        )
    return athlete_id


def ensure_athlete(conn: Connection, athlete: AthleteInfo) -> None:
    """Create the athlete if missing; fill body dimensions that are still unknown.

    Parameters
    ----------
    conn : Connection
        The catalog.
    athlete : AthleteInfo
        The athlete (body dimensions in m); a stored name or dimension is kept.
    """
    check_athlete_id(athlete.id)
    conn.execute(
        "INSERT INTO athletes (id, name, height_m, thigh_length_m, shank_length_m,"
        " foot_medial_offset_m, notes, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (id) DO UPDATE SET"
        " name = CASE WHEN athletes.name = '' THEN excluded.name ELSE athletes.name END,"
        " height_m = COALESCE(athletes.height_m, excluded.height_m),"
        " thigh_length_m = COALESCE(athletes.thigh_length_m, excluded.thigh_length_m),"
        " shank_length_m = COALESCE(athletes.shank_length_m, excluded.shank_length_m),"
        " foot_medial_offset_m = COALESCE(athletes.foot_medial_offset_m,"
        " excluded.foot_medial_offset_m)",
        (athlete.id, athlete.name, athlete.height_m, athlete.thigh_length_m,
         athlete.shank_length_m, athlete.foot_medial_offset_m, athlete.notes, now_utc()),
    )


def get_athlete(conn: Connection, athlete_id: str) -> AthleteInfo | None:
    """One athlete.

    Parameters
    ----------
    conn : Connection
        The catalog.
    athlete_id : str
        The athlete.

    Returns
    -------
    AthleteInfo or None
        The athlete; None when there is none of that id.
    """
    row = conn.execute(
        "SELECT id, name, height_m, thigh_length_m, shank_length_m, foot_medial_offset_m, notes"
        " FROM athletes WHERE id = ?", (athlete_id,),
    ).fetchone()
    return AthleteInfo(**dict(row)) if row else None


def list_athletes(
    conn: Connection, only: set[str] | None = None
) -> list[AthleteSummary]:
    """Athletes ordered by id, each with their tests; ``only`` restricts to those ids.

    Parameters
    ----------
    conn : Connection
        The catalog.
    only : set of str or None
        The athlete ids to list; None for all.

    Returns
    -------
    list of AthleteSummary
        The athletes, each with their tests oldest first.
    """
    rows = conn.execute(
        "SELECT id, name, height_m, thigh_length_m, shank_length_m, foot_medial_offset_m, notes"
        " FROM athletes ORDER BY id"
    ).fetchall()
    tests = list_tests(conn)
    by_athlete: dict[str, list[TestSummary]] = {}
    for t in tests:
        by_athlete.setdefault(t.athlete_id, []).append(t)
    return [
        AthleteSummary(AthleteInfo(**dict(r)), by_athlete.get(r["id"], []))
        for r in rows if only is None or r["id"] in only
    ]


# ---------------------------------------------------------------- tests


def find_test_by_hash(conn: Connection, content_sha256: str) -> int | None:
    """The test stored from a recording with this content.

    Parameters
    ----------
    conn : Connection
        The catalog.
    content_sha256 : str
        SHA-256 (hex) of the recording's file(s).

    Returns
    -------
    int or None
        The test's id; None when no test has that content.
    """
    row = conn.execute(
        "SELECT id FROM tests WHERE content_sha256 = ?", (content_sha256,)
    ).fetchone()
    return int(row[0]) if row else None


def read_analysis(doc: Any) -> AnalysisResult:
    """The typed analysis of a parsed analysis document (from a file or the database).

    Parameters
    ----------
    doc : Any
        The parsed JSON document.

    Returns
    -------
    AnalysisResult
        The analysis, typed.

    Raises
    ------
    AnalysisContractError
        One line, for a document this stepdown cannot read: the contract is checked by
        :meth:`analysis.result.AnalysisResult.from_json`.
    """
    try:
        return AnalysisResult.from_json(doc)
    except ResultError as err:
        raise AnalysisContractError(str(err)) from None


def _item(value: Any) -> int | None:
    """A checklist item value: an integer, or None where not assessed."""
    return None if value is None else int(value)


def _pain_for_rep(pain_nrs: list[float] | float | None, rep_index: int) -> float | None:
    if pain_nrs is None:
        return None
    if isinstance(pain_nrs, int | float):
        return float(pain_nrs)
    return float(pain_nrs[rep_index - 1]) if 0 < rep_index <= len(pain_nrs) else None


def store_test(
    conn: Connection,
    *,
    athlete: AthleteInfo,
    analysis: AnalysisResult,
    recording_path: str,
    content_sha256: str,
    started_at: str | None = None,
    step_height_m: float | None = None,
    pain_nrs: list[float] | float | None = None,
) -> tuple[int, bool]:
    """Store one analysed test in one transaction; returns ``(test_id, created)``.

    Idempotent on ``content_sha256``: a recording already stored is left as it is
    and ``created`` is False, also when another writer stores it at the same moment
    (on PostgreSQL both may find it missing; the unique hash stops the second one, whose
    transaction is rolled back).

    Parameters
    ----------
    conn : Connection
        The catalog.
    athlete : AthleteInfo
        Whose test (created if missing).
    analysis : AnalysisResult
        The test's analysis.
    recording_path : str
        The catalog's copy of the recording.
    content_sha256 : str
        SHA-256 (hex) of the recording's file(s): the test's identity.
    started_at : str or None
        When the recording started (ISO UTC).
    step_height_m : float or None
        Step height, m.
    pain_nrs : list of float or float or None
        The recording's 0-10 pain, per rep or one number for the whole test.

    Returns
    -------
    test_id : int
        The stored test's id.
    created : bool
        False when the recording was stored already.
    """
    from sqlalchemy.exc import IntegrityError

    try:
        return _insert_test(conn, athlete, analysis, recording_path, content_sha256, started_at,
                            step_height_m, pain_nrs)
    except IntegrityError:
        existing = find_test_by_hash(conn, content_sha256)
        if existing is None:  # another constraint: a real error
            raise
        return existing, False


def _insert_test(conn: Connection, athlete: AthleteInfo, analysis: AnalysisResult,
                 recording_path: str, content_sha256: str, started_at: str | None,
                 step_height_m: float | None, pain_nrs: list[float] | float | None
                 ) -> tuple[int, bool]:
    with transaction(conn):
        existing = find_test_by_hash(conn, content_sha256)
        if existing is not None:
            return existing, False
        ensure_athlete(conn, athlete)
        test = analysis.test
        cur = conn.execute(
            "INSERT INTO tests (athlete_id, started_at, imported_at, test_leg, step_height_m,"
            " sensors, recording_path, content_sha256, analysis_version, analysis_json,"
            " rule, total, piva_total, category) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
            " RETURNING id",
            (athlete.id, started_at, now_utc(), analysis.recording.test_leg, step_height_m,
             json.dumps(list(analysis.recording.sensors_used)), recording_path,
             content_sha256, analysis.version, json.dumps(analysis.to_json()),
             test.rule, test.total, test.piva_total, test.category),
        )
        test_id = int(cur.fetchone()[0])
        conn.executemany(
            "INSERT INTO test_items (test_id, item, value) VALUES (?, ?, ?)",
            [(test_id, k, _item(v)) for k, v in test.items.items()],
        )
        for rep in analysis.reps:
            cur = conn.execute(
                "INSERT INTO reps (test_id, rep_index, start_s, bottom_s, end_s, total, pain_nrs)"
                " VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (test_id, rep.index, rep.start_s, rep.bottom_s, rep.end_s, rep.total,
                 _pain_for_rep(pain_nrs, rep.index)),
            )
            rep_id = cur.fetchone()[0]
            conn.executemany(
                "INSERT INTO rep_measures (rep_id, name, value) VALUES (?, ?, ?)",
                [(rep_id, k, None if v is None else float(v))
                 for k, v in rep.measures.to_json().items()],
            )
            conn.executemany(
                "INSERT INTO rep_items (rep_id, item, value, source) VALUES (?, ?, ?, ?)",
                [(rep_id, k, _item(score.value), score.source) for k, score in rep.items.items()],
            )
    return test_id, True


_SUMMARY_SQL = """
SELECT t.id, t.athlete_id, t.started_at, t.imported_at, t.test_leg, t.step_height_m, t.rule,
       t.total, t.piva_total, t.category,
       (SELECT COUNT(*) FROM reps r WHERE r.test_id = t.id) AS n_reps,
       (SELECT COUNT(*) FROM coach_labels l JOIN reps r ON l.rep_id = r.id
         WHERE r.test_id = t.id) AS n_labels,
       (SELECT COUNT(*) FROM notes n WHERE n.test_id = t.id AND n.deleted_at IS NULL) AS n_notes,
       EXISTS (SELECT 1 FROM reps r WHERE r.test_id = t.id AND r.pain_nrs > 0) AS any_pain
FROM tests t
"""


def _summaries(conn: Connection, where: str, params: tuple) -> list[TestSummary]:
    rows = conn.execute(
        _SUMMARY_SQL + where + " ORDER BY COALESCE(t.started_at, t.imported_at), t.id", params
    ).fetchall()
    if not rows:
        return []
    ids = [r["id"] for r in rows]
    marks = ",".join("?" * len(ids))
    means: dict[int, dict[str, float | None]] = {i: {} for i in ids}
    for m in conn.execute(
        "SELECT r.test_id, m.name, AVG(m.value) FROM rep_measures m JOIN reps r ON m.rep_id = r.id"
        f" WHERE r.test_id IN ({marks}) GROUP BY r.test_id, m.name", ids,
    ):
        means[m[0]][m[1]] = m[2]
    return [
        TestSummary(**{k: r[k] for k in r.keys() if k != "any_pain"},
                    mean_measures=means[r["id"]], any_pain=bool(r["any_pain"]))
        for r in rows
    ]


def list_tests(conn: Connection, athlete_id: str | None = None) -> list[TestSummary]:
    """Tests in time order (oldest first), of one athlete or of all.

    Parameters
    ----------
    conn : Connection
        The catalog.
    athlete_id : str or None
        The athlete; None for all.

    Returns
    -------
    list of TestSummary
        Ordered by start (else import) time, then id.
    """
    if athlete_id is None:
        return _summaries(conn, "", ())
    return _summaries(conn, "WHERE t.athlete_id = ?", (athlete_id,))


def test_athlete(conn: Connection, test_id: int) -> str | None:
    """The athlete a test belongs to, or None if there is no such test.

    Parameters
    ----------
    conn : Connection
        The catalog.
    test_id : int
        The test.

    Returns
    -------
    str or None
        The athlete's id.
    """
    row = conn.execute("SELECT athlete_id FROM tests WHERE id = ?", (test_id,)).fetchone()
    return row[0] if row else None


def test_revision(conn: Connection, test_id: int) -> tuple | None:
    """What identifies everything shown about a test as it now stands, or None if there is
    no such test: its athlete (first), recording hash, newest coach label, note and note
    change, and the athlete's stored details.  Labels and notes are append-only (an edit or
    a deletion adds a ``note_versions`` row), so any change gives a new value: the web app
    keys its rendered pages on it.  One indexed look-up.

    Parameters
    ----------
    conn : Connection
        The catalog.
    test_id : int
        The test.

    Returns
    -------
    tuple or None
        The values, hashable; None when there is no such test.
    """
    row = conn.execute(
        "SELECT t.athlete_id, t.content_sha256,"
        " (SELECT MAX(l.id) FROM coach_labels l JOIN reps r ON l.rep_id = r.id"
        "  WHERE r.test_id = t.id),"
        " (SELECT MAX(n.id) FROM notes n WHERE n.test_id = t.id),"
        " (SELECT MAX(v.id) FROM note_versions v JOIN notes n ON v.note_id = n.id"
        "  WHERE n.test_id = t.id),"
        " a.name, a.height_m, a.thigh_length_m, a.shank_length_m, a.foot_medial_offset_m, a.notes"
        " FROM tests t JOIN athletes a ON a.id = t.athlete_id WHERE t.id = ?", (test_id,)
    ).fetchone()
    return None if row is None else tuple(row)


def get_test(conn: Connection, test_id: int) -> TestDetail | None:
    """Everything stored about one test, or None.

    Parameters
    ----------
    conn : Connection
        The catalog.
    test_id : int
        The test.

    Returns
    -------
    TestDetail or None
        The test; None when there is no such test.
    """
    found = _summaries(conn, "WHERE t.id = ?", (test_id,))
    if not found:
        return None
    row = conn.execute(
        "SELECT sensors, recording_path, analysis_json FROM tests WHERE id = ?", (test_id,)
    ).fetchone()
    test_items = {r[0]: r[1] for r in conn.execute(
        "SELECT item, value FROM test_items WHERE test_id = ?", (test_id,))}
    notes = [Note(**{**dict(r), "for_athlete": bool(r["for_athlete"])}) for r in conn.execute(
        "SELECT id, rep_index, author, text, created_at, for_athlete FROM notes"
        " WHERE test_id = ? AND deleted_at IS NULL ORDER BY id", (test_id,))]
    analysis = read_analysis(json.loads(row["analysis_json"]))
    return TestDetail(found[0], json.loads(row["sensors"]), row["recording_path"], analysis,
                      test_items, _rep_details(conn, test_id), notes)


def _rep_details(conn: Connection, test_id: int) -> list[RepDetail]:
    """A test's reps in order, with measures, items, sources and current coach labels."""
    reps: dict[int, RepDetail] = {}
    for r in conn.execute(
        "SELECT id, rep_index, start_s, bottom_s, end_s, total, pain_nrs FROM reps"
        " WHERE test_id = ? ORDER BY rep_index", (test_id,),
    ):
        reps[r["id"]] = RepDetail(r["rep_index"], r["start_s"], r["bottom_s"], r["end_s"],
                                  r["total"], r["pain_nrs"])
    for r in conn.execute(
        "SELECT m.rep_id, m.name, m.value FROM rep_measures m JOIN reps r ON m.rep_id = r.id"
        " WHERE r.test_id = ?", (test_id,),
    ):
        reps[r[0]].measures[r[1]] = r[2]
    for r in conn.execute(
        "SELECT i.rep_id, i.item, i.value, i.source FROM rep_items i JOIN reps r"
        " ON i.rep_id = r.id WHERE r.test_id = ?", (test_id,),
    ):
        reps[r[0]].items[r[1]] = r[2]
        reps[r[0]].sources[r[1]] = r[3]
    for r in conn.execute(
        "SELECT l.rep_id, l.item, l.value, l.author, l.created_at FROM coach_labels l"
        " JOIN reps r ON l.rep_id = r.id WHERE r.test_id = ? ORDER BY l.id", (test_id,),
    ):
        reps[r[0]].labels[r[1]] = Label(r[2], r[3], r[4])  # newest wins
    return list(reps.values())


# ---------------------------------------------------------------- coach input


def add_label(
    conn: Connection, test_id: int, rep_index: int, item: str, value: int, author: str
) -> None:
    """Record a coach's verdict for one item of one rep (kept beside the automatic one).

    Parameters
    ----------
    conn : Connection
        The catalog.
    test_id : int
        The test.
    rep_index : int
        The rep's number in the test, from 1.
    item : str
        A checklist item of the registry.
    value : int
        The score, 0 to the item's maximum.
    author : str
        The coach.

    Raises
    ------
    CatalogError
        An unknown item, a score out of range, or no such rep.
    """
    most = registry.max_points()
    if item not in most:
        raise CatalogError(f"unknown checklist item {item!r}: one of {', '.join(most)}")
    if not isinstance(value, int) or not 0 <= value <= most[item]:
        raise CatalogError(f"label for {item} must be an integer 0-{most[item]}")
    with transaction(conn):
        row = conn.execute(
            "SELECT id FROM reps WHERE test_id = ? AND rep_index = ?", (test_id, rep_index)
        ).fetchone()
        if row is None:
            raise CatalogError(f"test {test_id} has no rep {rep_index}")
        conn.execute(
            "INSERT INTO coach_labels (rep_id, item, value, author, created_at)"
            " VALUES (?, ?, ?, ?, ?)", (row[0], item, value, author, now_utc()),
        )


def label_history(
    conn: Connection, test_id: int, rep_index: int, item: str
) -> list[Label]:
    """All labels ever given for one rep item, oldest first.

    Parameters
    ----------
    conn : Connection
        The catalog.
    test_id : int
        The test.
    rep_index : int
        The rep's number in the test, from 1.
    item : str
        The checklist item.

    Returns
    -------
    list of Label
        The labels; the last is the current one.
    """
    return [Label(*r) for r in conn.execute(
        "SELECT l.value, l.author, l.created_at FROM coach_labels l JOIN reps r"
        " ON l.rep_id = r.id WHERE r.test_id = ? AND r.rep_index = ? AND l.item = ?"
        " ORDER BY l.id", (test_id, rep_index, item))]


def check_note_text(text: str) -> str:
    """A note's text, stripped; refuses an empty or too long one.

    Parameters
    ----------
    text : str
        The text given.

    Returns
    -------
    str
        The text without surrounding white space.

    Raises
    ------
    CatalogError
        Empty, or longer than ``NOTE_MAX_CHARS`` characters.
    """
    text = text.strip()
    if not text:
        raise CatalogError("a note cannot be empty")
    if len(text) > NOTE_MAX_CHARS:
        raise CatalogError(f"a note is limited to {NOTE_MAX_CHARS} characters")
    return text


def add_note(
    conn: Connection, test_id: int, author: str, text: str,
    rep_index: int | None = None, *, for_athlete: bool = False,
) -> int:
    """Add a coach's note to a test (or to one of its reps); returns the note id.

    Parameters
    ----------
    conn : Connection
        The catalog.
    test_id : int
        The test.
    author : str
        The coach.
    text : str
        The note (checked by :func:`check_note_text`).
    rep_index : int or None
        The rep it is about; None for the whole test.
    for_athlete : bool
        The note goes into the athlete's report (else coaches only).

    Returns
    -------
    int
        The note's id.
    """
    text = check_note_text(text)
    with transaction(conn):
        if test_athlete(conn, test_id) is None:
            raise CatalogError(f"no test {test_id}")
        cur = conn.execute(
            "INSERT INTO notes (test_id, rep_index, author, text, created_at, for_athlete)"
            " VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            (test_id, rep_index, author, text, now_utc(), int(for_athlete)),
        )
        note_id = int(cur.fetchone()[0])
    return note_id


# ---------------------------------------------------------------- research export


def export_rows(conn: Connection, athlete_ids: set[str] | None = None) -> list[dict]:
    """One flat dict per rep: test and rep facts, measures, items, sources, coach labels.

    Columns: ``athlete_id, test_id, started_at, test_leg, step_height_m, rule,
    test_total, category, rep_index, start_s, bottom_s, end_s, rep_total, pain_nrs``,
    then each measure by name, ``item_<k>``, ``source_<k>`` and ``label_<k>``
    (the current coach label, empty if none).

    Parameters
    ----------
    conn : Connection
        The catalog.
    athlete_ids : set of str or None
        Only these athletes; None for all.

    Returns
    -------
    list of dict
        One row per rep, tests in time order.
    """
    out = []
    for summary in list_tests(conn):
        if athlete_ids is not None and summary.athlete_id not in athlete_ids:
            continue
        for rep in _rep_details(conn, summary.id):
            row: dict[str, Any] = {
                "athlete_id": summary.athlete_id, "test_id": summary.id,
                "started_at": summary.started_at, "test_leg": summary.test_leg,
                "step_height_m": summary.step_height_m, "rule": summary.rule,
                "test_total": summary.total, "category": summary.category,
                "rep_index": rep.index, "start_s": rep.start_s, "bottom_s": rep.bottom_s,
                "end_s": rep.end_s, "rep_total": rep.total, "pain_nrs": rep.pain_nrs,
            }
            row.update(rep.measures)
            for k in registry.item_names():
                row[f"item_{k}"] = rep.items.get(k)
                row[f"source_{k}"] = rep.sources.get(k)
                row[f"label_{k}"] = rep.labels[k].value if k in rep.labels else None
            out.append(row)
    return out
