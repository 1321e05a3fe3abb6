"""Open the catalog: SQLite in WAL mode, foreign keys on, migrated to the newest schema.

Migrations are the files ``migrations/NNNN_name.sql`` of this package, applied in
the order of their number.  Each applied file is recorded in ``schema_migrations``
and ``PRAGMA user_version`` holds the highest number applied, so a file numbered
below one already applied (e.g. another feature's ``0002`` landing after ``0003``)
is still applied the next time the catalog is opened.
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

from sensor_io.errors import InputError

_MIGRATION_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


BUSY_TIMEOUT_MS = 5000  # how long SQLite waits for another process's lock, per try


class CatalogError(InputError):
    """The catalog cannot be opened or refuses an operation."""


@dataclass(frozen=True)
class Migration:
    number: int
    name: str
    sql: str


def migrations() -> list[Migration]:
    """All migration scripts shipped with the package, ordered by number."""
    found = []
    for entry in resources.files("stepdown.catalog.migrations").iterdir():
        m = _MIGRATION_NAME.match(entry.name)
        if m:
            found.append(Migration(int(m.group(1)), m.group(2), entry.read_text("utf-8")))
    found.sort(key=lambda mig: mig.number)
    numbers = [mig.number for mig in found]
    if len(set(numbers)) != len(numbers):
        raise CatalogError(f"two catalog migrations share a number: {numbers}")
    return found


def now_utc() -> str:
    """Current time as ISO 8601 UTC with a Z suffix, second resolution."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def connect(path: Path | None = None) -> sqlite3.Connection:
    """Open (creating if needed) and migrate the catalog at ``path``.

    ``path`` defaults to :func:`stepdown.paths.catalog_path`.  The connection has
    WAL journaling, foreign keys on and rows as :class:`sqlite3.Row`.  It may be
    used from other threads (the web server), one at a time.
    """
    if path is None:
        from stepdown.paths import catalog_path

        path = catalog_path()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not path.exists():  # health data and password hashes: owner only (SQLite's -wal follows)
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    try:
        conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        migrate(conn)
    except sqlite3.DatabaseError as err:
        raise CatalogError(catalog_problem(err, path)) from None
    return conn


LOCK_TRIES = 3
"""Write transactions try this many times to take the lock, each waiting up to
BUSY_TIMEOUT_MS, before saying the catalog is busy."""


def catalog_problem(err: sqlite3.DatabaseError, path: Path | None = None) -> str:
    """One line for an SQLite error on the catalog: locked by another process, damaged,
    or another problem; with what to do."""
    if path is None:
        from stepdown.paths import catalog_path

        path = catalog_path()
    text = str(err)
    if "locked" in text or "busy" in text:
        return (f"the catalog {path} is locked by another stepdown process (waited "
                f"{LOCK_TRIES * BUSY_TIMEOUT_MS / 1000:g} s): try again when it has finished")
    if "malformed" in text or "not a database" in text or "corrupt" in text:
        return (f"{path}: not a usable stepdown catalog, the file is damaged ({text}): "
                f"restore a backup, or rebuild it with "
                f"`sqlite3 {path} .recover | sqlite3 repaired.sqlite3`")
    return f"{path}: not a usable stepdown catalog ({text})"


def migrate(conn: sqlite3.Connection) -> list[int]:
    """Apply every migration not yet applied, each in its own transaction.

    Returns the numbers applied now.
    """
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " number INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    applied = {row[0] for row in conn.execute("SELECT number FROM schema_migrations")}
    done = []
    for mig in migrations():
        if mig.number in applied:
            continue
        # executescript would COMMIT on its own; wrap it so a broken script leaves nothing.
        try:
            conn.executescript(
                f"BEGIN IMMEDIATE;\n{mig.sql}\n"
                f"INSERT INTO schema_migrations VALUES"
                f" ({mig.number}, '{mig.name}', '{now_utc()}');\n"
                f"PRAGMA user_version = {max(applied | {mig.number})};\n"
                "COMMIT;"
            )
        except sqlite3.Error:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        applied.add(mig.number)
        done.append(mig.number)
    return done


def schema_version(conn: sqlite3.Connection) -> int:
    """The highest migration number applied (``PRAGMA user_version``)."""
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction: everything inside commits together or not at all.

    Taking the write lock is retried LOCK_TRIES times (each waits up to the busy timeout)
    while another process holds it."""
    for attempt in range(LOCK_TRIES):
        try:
            conn.execute("BEGIN IMMEDIATE")
            break
        except sqlite3.OperationalError as err:
            if "locked" not in str(err) and "busy" not in str(err):
                raise
            if attempt == LOCK_TRIES - 1:
                raise CatalogError(catalog_problem(err, _db_path(conn))) from None
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _db_path(conn: sqlite3.Connection) -> Path | None:
    """The file behind ``conn`` (None for an in-memory database)."""
    row = conn.execute("PRAGMA database_list").fetchone()
    return Path(row[2]) if row and row[2] else None
