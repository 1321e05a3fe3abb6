"""Copy a whole catalog into another database (``stepdown catalog migrate-to URL``).

The usual move: a clinic's SQLite catalog into an empty PostgreSQL database. The
target is opened (and so migrated to the newest schema) first, must hold no rows,
and receives every table in foreign-key order in one transaction, ids kept; on
PostgreSQL the id sequences then continue after the copied ids. Afterwards the rows
of every table are counted on both sides; any difference is an error.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from stepdown.catalog.db import (
    CatalogError,
    Connection,
    connect,
    database_url,
    engine_for,
    shown_url,
    transaction,
)

CHUNK_ROWS = 2000


@dataclass(frozen=True)
class TableCopy:
    """Rows of one table in the source and, after the copy, in the target."""

    table: str
    """The table's name."""
    source_rows: int
    """Rows in the source."""
    target_rows: int
    """Rows in the target after the copy."""


def catalog_tables(where: str | os.PathLike[str] | None) -> list[tuple[str, list[str], bool]]:
    """(table, columns, has an integer ``id`` key) of a catalog, parents before children
    (SQLAlchemy's reflection and foreign-key sort); ``schema_migrations`` left out.

    Parameters
    ----------
    where : str or os.PathLike or None
        The catalog: an SQLite file or a database URL; None for the current one.

    Returns
    -------
    list of tuple of (str, list of str, bool)
        Per table: its name, its columns, and whether its key is one integer ``id``.
    """
    import warnings

    import sqlalchemy as sa

    meta = sa.MetaData()
    with warnings.catch_warnings():  # only tables and columns are needed, not the indexes
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based",
                                sa.exc.SAWarning)
        meta.reflect(bind=engine_for(database_url(where)))
    out = []
    for table in meta.sorted_tables:
        if table.name == "schema_migrations":
            continue
        keys = list(table.primary_key.columns)
        numbered = len(keys) == 1 and keys[0].name == "id" and isinstance(keys[0].type, sa.Integer)
        out.append((table.name, [c.name for c in table.columns], numbered))
    return out


def _count(conn: Connection, table: str) -> int:
    return int(conn.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0])


def copy_catalog(source: str | os.PathLike[str] | None, target: str) -> list[TableCopy]:
    """Copy every row of the catalog at ``source`` (default: the current one) into the
    empty catalog at ``target``; returns the verified row counts per table.

    Parameters
    ----------
    source : str or os.PathLike or None
        The catalog to copy: an SQLite file or a URL; None for the current one.
    target : str
        The empty target catalog's URL (migrated to the newest schema first).

    Returns
    -------
    list of TableCopy
        Source and target rows of every table, equal.

    Raises
    ------
    CatalogError
        The same database twice, a target that holds rows, or counts that differ.
    """
    if database_url(source) == database_url(target):
        raise CatalogError("the source and the target catalog are the same database")
    src, dst = connect(source), connect(target)
    try:
        tables = catalog_tables(source)
        busy = [(t, n) for t, _, _ in tables if (n := _count(dst, t))]
        if busy:
            raise CatalogError(f"{shown_url(database_url(target))} already holds a catalog "
                               f"({busy[0][1]} rows in {busy[0][0]}); migrate-to copies into "
                               "an empty database only")
        with transaction(dst):
            for table, columns, _ in tables:
                _copy_table(src, dst, table, columns)
        if dst.dialect == "postgresql":
            for table, _, has_id in tables:
                if has_id:
                    dst.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                                f" COALESCE((SELECT MAX(id) FROM \"{table}\"), 0) + 1, false)")
        counts = [TableCopy(t, _count(src, t), _count(dst, t)) for t, _, _ in tables]
    finally:
        src.close()
        dst.close()
    wrong = [c for c in counts if c.source_rows != c.target_rows]
    if wrong:
        raise CatalogError("copy incomplete: " + ", ".join(
            f"{c.table} {c.target_rows} of {c.source_rows} rows" for c in wrong))
    return counts


def _copy_table(src: Connection, dst: Connection, table: str, columns: list[str]) -> None:
    names = ", ".join(f'"{c}"' for c in columns)
    insert = f'INSERT INTO "{table}" ({names}) VALUES ({", ".join("?" * len(columns))})'
    chunk: list[tuple] = []
    for row in src.execute(f'SELECT {names} FROM "{table}"'):
        chunk.append(tuple(row))
        if len(chunk) >= CHUNK_ROWS:
            dst.executemany(insert, chunk)
            chunk = []
    dst.executemany(insert, chunk)
