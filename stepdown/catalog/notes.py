"""Editing and deleting coach notes, with their history (migration 0019).

A note is never overwritten silently: before an edit or a deletion, the text as
it was (and whether it was shared with the athlete) goes to ``note_versions``
with who changed it and when.  A deleted note disappears from the test
(``deleted_at``) but its history stays.  Notes are added with
:func:`stepdown.catalog.repo.add_note`.
"""

from __future__ import annotations

from dataclasses import dataclass

from stepdown.catalog.db import CatalogError, Connection, Record, now_utc, transaction
from stepdown.catalog.repo import check_note_text


@dataclass(frozen=True)
class NoteVersion:
    """A note as it was before one change."""

    text: str
    """The text before the change."""
    for_athlete: bool
    """Whether it was shared with the athlete before the change."""
    changed_by: str
    """Who changed it."""
    changed_at: str
    """When (ISO UTC)."""
    change: str
    """"edited" or "deleted"."""


def _current(conn: Connection, test_id: int, note_id: int) -> Record:
    row = conn.execute(
        "SELECT text, for_athlete, author FROM notes WHERE id = ? AND test_id = ?"
        " AND deleted_at IS NULL", (note_id, test_id)).fetchone()
    if row is None:
        raise CatalogError(f"no note {note_id} on test {test_id}")
    return row


def _keep(conn: Connection, note_id: int, row: Record, by: str, change: str) -> None:
    conn.execute(
        "INSERT INTO note_versions (note_id, text, for_athlete, changed_by, changed_at, change)"
        " VALUES (?, ?, ?, ?, ?, ?)", (note_id, row["text"], row["for_athlete"], by, now_utc(),
                                       change))


def note_author(conn: Connection, test_id: int, note_id: int) -> str | None:
    """Who wrote a (not deleted) note of this test, or None if there is none.

    Parameters
    ----------
    conn : Connection
        The catalog.
    test_id : int
        The test.
    note_id : int
        The note.

    Returns
    -------
    str or None
        The author's user name.
    """
    row = conn.execute("SELECT author FROM notes WHERE id = ? AND test_id = ?"
                       " AND deleted_at IS NULL", (note_id, test_id)).fetchone()
    return row[0] if row else None


def edit_note(conn: Connection, test_id: int, note_id: int, text: str,
              for_athlete: bool, by: str) -> bool:
    """Change a note's text and sharing; returns False when nothing changed.

    Parameters
    ----------
    conn : Connection
        The catalog.
    test_id : int
        The note's test.
    note_id : int
        The note.
    text : str
        The new text (checked as a new note's is).
    for_athlete : bool
        Share the note with the athlete.
    by : str
        Who changes it.

    Returns
    -------
    bool
        True when the note changed (its earlier version is kept).

    Raises
    ------
    CatalogError
        No such (live) note on the test, or a text that is not allowed.
    """
    text = check_note_text(text)
    with transaction(conn):
        row = _current(conn, test_id, note_id)
        if row["text"] == text and bool(row["for_athlete"]) == for_athlete:
            return False
        _keep(conn, note_id, row, by, "edited")
        conn.execute("UPDATE notes SET text = ?, for_athlete = ? WHERE id = ?",
                     (text, int(for_athlete), note_id))
    return True


def delete_note(conn: Connection, test_id: int, note_id: int, by: str) -> None:
    """Remove a note from its test; its text stays in the history.

    Parameters
    ----------
    conn : Connection
        The catalog.
    test_id : int
        The note's test.
    note_id : int
        The note.
    by : str
        Who deletes it.

    Raises
    ------
    CatalogError
        No such (live) note on the test.
    """
    with transaction(conn):
        row = _current(conn, test_id, note_id)
        _keep(conn, note_id, row, by, "deleted")
        conn.execute("UPDATE notes SET deleted_at = ? WHERE id = ?", (now_utc(), note_id))


def note_history(conn: Connection, test_id: int) -> dict[int, list[NoteVersion]]:
    """Earlier versions of the test's notes (deleted ones too), oldest first, by note id.

    Parameters
    ----------
    conn : Connection
        The catalog.
    test_id : int
        The test.

    Returns
    -------
    dict of int to list of NoteVersion
        Note id -> its earlier versions, oldest first.
    """
    out: dict[int, list[NoteVersion]] = {}
    for r in conn.execute(
        "SELECT v.note_id, v.text, v.for_athlete, v.changed_by, v.changed_at, v.change"
        " FROM note_versions v JOIN notes n ON v.note_id = n.id WHERE n.test_id = ?"
        " ORDER BY v.note_id, v.id", (test_id,),
    ):
        out.setdefault(r[0], []).append(NoteVersion(r[1], bool(r[2]), r[3], r[4], r[5]))
    return out
