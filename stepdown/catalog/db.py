"""Open the catalog: SQLite (default, embedded) or PostgreSQL, migrated to the newest schema.

Where: ``connect(path_or_url)``; without one, ``$STEPDOWN_DATABASE_URL`` if set (e.g.
``postgresql://coach@db.example/stepdown``), else the SQLite file
:func:`stepdown.paths.catalog_path`. Both go through one code path: a SQLAlchemy
engine, and :class:`Connection`, the small DB-API surface the catalog uses
(``execute`` with ``?`` placeholders, ``executemany``, rows readable by position and
by column name). The SQL of the catalog is written once, in the subset both databases
share (``ON CONFLICT``, ``RETURNING``); only the placeholder style differs, handled here.

SQLite: WAL journal, foreign keys on, a 5 s busy timeout (opening the catalog and taking
the write lock retry for up to 15 s in all, see :func:`retry_while_locked`); a write transaction is
``BEGIN IMMEDIATE``. PostgreSQL: read committed; concurrent writers of the same
test meet on the unique constraints (see :mod:`stepdown.catalog.repo`).

Migrations are the files ``migrations/NNNN_name.sql`` of this package, applied in
the order of their number.  Each applied file is recorded in ``schema_migrations``
(and, on SQLite, ``PRAGMA user_version`` holds the highest number applied), so a file
numbered below one already applied (e.g. another feature's ``0002`` landing after
``0003``) is still applied the next time the catalog is opened. They are written in
SQLite's dialect; on PostgreSQL :func:`postgres_sql` translates the few words that
differ (``INTEGER PRIMARY KEY``, ``REAL``, ``GLOB``). Tests apply every migration on both.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from sensor_io.errors import InputError, first_line

_MIGRATION_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
DATABASE_URL_ENV = "STEPDOWN_DATABASE_URL"

T = TypeVar("T")
BUSY_TIMEOUT_MS = 5000  # how long SQLite waits for another process's lock, per try


class CatalogError(InputError):
    """The catalog cannot be opened or refuses an operation."""


@dataclass(frozen=True)
class Migration:
    """One migration script of the package."""

    number: int
    """Its number (``NNNN`` of the file name): the order it is applied in."""
    name: str
    """Its name (the rest of the file name, without ``.sql``)."""
    sql: str
    """Its SQL, in SQLite's dialect."""


def migrations() -> list[Migration]:
    """All migration scripts shipped with the package, ordered by number.

    Returns
    -------
    list of Migration
        The scripts ``migrations/NNNN_name.sql``.

    Raises
    ------
    CatalogError
        When two scripts share a number.
    """
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
    """Current time as ISO 8601 UTC with a Z suffix, second resolution.

    Returns
    -------
    str
        ``YYYY-MM-DDTHH:MM:SSZ``.
    """
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------- rows and connections


class Record(tuple):
    """A result row: by position (``row[0]``), by column name (``row["id"]``), ``dict(row)``.

    Parameters
    ----------
    values : iterable
        The row's values, in column order.
    keys : tuple of str
        The column names.
    """

    _keys: tuple[str, ...] = ()

    def __new__(cls, values: Iterable[Any], keys: tuple[str, ...]) -> Record:
        row = super().__new__(cls, values)
        row._keys = keys
        return row

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            try:
                return tuple.__getitem__(self, self._keys.index(key))
            except ValueError:
                raise IndexError(f"no column {key!r}") from None
        return tuple.__getitem__(self, key)

    def keys(self) -> tuple[str, ...]:
        """The column names (so ``dict(row)`` works).

        Returns
        -------
        tuple of str
            The names, in column order.
        """
        return self._keys


class Cursor:
    """The result of :meth:`Connection.execute`: fetchone, fetchall, iteration.

    Parameters
    ----------
    result : sqlalchemy.engine.CursorResult
        The driver-level result; ``rowcount`` is taken from it.
    """

    def __init__(self, result: Any) -> None:
        self._result = result
        self._keys = tuple(result.keys()) if result.returns_rows else ()
        self.rowcount = result.rowcount

    def fetchone(self) -> Record | None:
        """The next row.

        Returns
        -------
        Record or None
            The row; None when no row is left or the statement returns none.
        """
        row = self._result.fetchone() if self._keys else None
        return None if row is None else Record(row, self._keys)

    def fetchall(self) -> list[Record]:
        """The rows not fetched yet.

        Returns
        -------
        list of Record
            The rows; empty for a statement that returns none.
        """
        return list(self)

    def __iter__(self) -> Iterator[Record]:
        if not self._keys:
            return iter(())
        return (Record(row, self._keys) for row in self._result)


_QMARK = re.compile(r"'[^']*'|\?|%")


def _format_paramstyle(sql: str) -> str:
    """``?`` placeholders as ``%s`` (psycopg), a literal ``%`` doubled; quoted text kept."""
    return _QMARK.sub(lambda m: {"?": "%s", "%": "%%"}.get(m.group(0), m.group(0)), sql)


class Connection:
    """One catalog connection (SQLite or PostgreSQL) in autocommit mode; group writes
    with :func:`transaction`. ``dialect`` is "sqlite" or "postgresql".

    Parameters
    ----------
    sa_connection : sqlalchemy.engine.Connection
        An autocommit SQLAlchemy connection (:func:`engine_for`).
    """

    def __init__(self, sa_connection: Any) -> None:
        self._conn = sa_connection
        self.dialect: str = sa_connection.dialect.name
        self.url: str = str(sa_connection.engine.url)  # which catalog (password masked)
        self._qmark = sa_connection.dialect.paramstyle == "qmark"

    def _sql(self, sql: str) -> str:
        return sql if self._qmark else _format_paramstyle(sql)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        """Run one statement.

        Parameters
        ----------
        sql : str
            The statement, with ``?`` placeholders.
        params : sequence
            The placeholders' values.

        Returns
        -------
        Cursor
            Its rows (if any) and ``rowcount``.
        """
        return Cursor(self._conn.exec_driver_sql(self._sql(sql), tuple(params)))

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one statement once per row of parameters (nothing for no rows).

        Parameters
        ----------
        sql : str
            The statement, with ``?`` placeholders.
        rows : iterable of sequence
            The placeholders' values, one sequence per run.
        """
        rows = [tuple(r) for r in rows]
        if rows:
            self._conn.exec_driver_sql(self._sql(sql), rows)

    def executescript(self, script: str) -> None:
        """Several statements without parameters (migrations).

        Parameters
        ----------
        script : str
            The statements, separated by ``;``.
        """
        driver = self._conn.connection.driver_connection
        if self.dialect == "sqlite":
            driver.executescript(script)
        else:
            driver.execute(script)

    @property
    def in_transaction(self) -> bool:
        """Whether a transaction is open on the connection."""
        driver = self._conn.connection.driver_connection
        if self.dialect == "sqlite":
            return driver.in_transaction
        return driver.info.transaction_status != 0  # psycopg: 0 = idle

    def close(self) -> None:
        """Close the connection (an SQLite file is closed, a PostgreSQL one pooled)."""
        self._conn.close()


# ---------------------------------------------------------------- opening


def database_url(where: str | os.PathLike[str] | None = None) -> str:
    """The catalog's SQLAlchemy URL: ``where`` (a URL or an SQLite file), else
    ``$STEPDOWN_DATABASE_URL``, else the SQLite catalog in the data home.

    Parameters
    ----------
    where : str or os.PathLike or None
        A database URL (``postgres://`` and ``postgresql://`` use psycopg) or an SQLite
        file; None for the environment or the default.

    Returns
    -------
    str
        The SQLAlchemy URL.
    """
    if where is None:
        where = os.environ.get(DATABASE_URL_ENV) or None
    if where is None:
        from stepdown.paths import catalog_path

        where = catalog_path()
    text = str(where)
    if "://" in text:
        return re.sub(r"^postgres(ql)?://", "postgresql+psycopg://", text)
    return f"sqlite:///{Path(text)}"


def shown_url(url: str) -> str:
    """``url`` as shown to people: without its password.

    Parameters
    ----------
    url : str
        A database URL.

    Returns
    -------
    str
        The URL with its password masked; for text that is not a URL, what follows its
        last ``@``.
    """
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not even a URL: show nothing of it that could hold a secret
        return url.split("@")[-1]


def _create_owner_only(path: Path) -> None:
    """Create the SQLite file's folder (0700) and the file (0600) if missing: health data
    and password hashes are the owner's only (SQLite's -wal follows the file)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))


_ENGINES: dict[str, Any] = {}


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    # Switching to WAL takes the exclusive lock: only the first opener of a new file does it.
    if dbapi_conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
        dbapi_conn.execute("PRAGMA journal_mode=WAL")
    dbapi_conn.execute("PRAGMA foreign_keys=ON")


def engine_for(url: str) -> Any:
    """One SQLAlchemy engine per URL and process, in autocommit mode. SQLite files are
    opened per connection (no pool), PostgreSQL connections are pooled.

    Parameters
    ----------
    url : str
        An SQLAlchemy URL (:func:`database_url`).

    Returns
    -------
    sqlalchemy.engine.Engine
        The engine (SQLite: WAL, foreign keys on, the busy timeout).
    """
    if url not in _ENGINES:
        import sqlalchemy as sa
        from sqlalchemy.pool import NullPool

        if url.startswith("sqlite"):
            engine = sa.create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT",
                                      connect_args={"check_same_thread": False})
            sa.event.listen(engine, "connect", _sqlite_pragmas)
        else:
            engine = sa.create_engine(url, isolation_level="AUTOCOMMIT", pool_pre_ping=True,
                                      connect_args={"connect_timeout": 10})
        _ENGINES[url] = engine
    return _ENGINES[url]


def connect(where: str | os.PathLike[str] | None = None) -> Connection:
    """Open (creating if needed) and migrate the catalog (see :func:`database_url`).

    The connection may be used from other threads (the web server), one at a time.
    A database that cannot be reached or read is one :class:`CatalogError` naming it
    (never its password).

    Parameters
    ----------
    where : str or os.PathLike or None
        A database URL or an SQLite file; None for ``$STEPDOWN_DATABASE_URL`` or the data
        home's catalog.

    Returns
    -------
    Connection
        The open, migrated catalog.
    """
    import sqlalchemy.exc

    url = database_url(where)
    path = Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:///") else None
    if path is not None:
        _create_owner_only(path)
    try:
        engine = engine_for(url)
        conn = Connection(retry_while_locked(engine.connect, lambda: path))
    except sqlalchemy.exc.DBAPIError as err:
        raise CatalogError(_open_error(url, err)) from None
    except (ImportError, sqlalchemy.exc.ArgumentError) as err:  # unknown scheme or driver
        raise CatalogError(f"{shown_url(url)}: not a usable catalog database URL "
                           f"({first_line(err)})") from None
    try:
        retry_while_locked(lambda: migrate(conn), lambda: path)  # each pass skips what is applied
    except CatalogError:
        conn.close()
        raise
    except (sqlalchemy.exc.DBAPIError, engine.dialect.dbapi.Error) as err:  # scripts: raw driver
        conn.close()
        raise CatalogError(_open_error(url, err)) from None
    return conn


def _open_error(url: str, err: Exception) -> str:
    if url.startswith("sqlite"):
        return catalog_problem(err, Path(url.removeprefix("sqlite:///")))
    return f"cannot use the catalog database at {shown_url(url)}: {first_line(_driver_error(err))}"


def _driver_error(err: BaseException) -> BaseException:
    """The driver's own exception inside a SQLAlchemy one (its text without the SQL)."""
    return getattr(err, "orig", None) or err


LOCK_TRIES = 3
"""Opening the catalog and write transactions wait for another process's lock up to
LOCK_TRIES × BUSY_TIMEOUT_MS in all before saying the catalog is busy."""


def retry_while_locked(action: Callable[[], T], path: Callable[[], Path | None]) -> T:
    """Run ``action`` again while SQLite says the database is locked or busy, for up to
    LOCK_TRIES × BUSY_TIMEOUT_MS in all, pausing 10 ms doubling to 250 ms between tries.

    SQLite's busy timeout covers an ordinary wait, but where waiting could deadlock (this
    connection holds a read lock while another holds the write lock, as when two processes
    create a new catalog together) it says "locked" at once, long before that timeout.

    Parameters
    ----------
    action : callable
        What to run (opening a connection, migrating, ``BEGIN IMMEDIATE``).
    path : callable
        Gives the SQLite file for the message (None for an in-memory database); called only
        when giving up.

    Returns
    -------
    object
        What ``action`` returned.

    Raises
    ------
    CatalogError
        Still locked when the time is up.
    """
    deadline = time.monotonic() + LOCK_TRIES * BUSY_TIMEOUT_MS / 1000
    pause = 0.01
    while True:
        try:
            return action()
        except Exception as err:
            if not _is_lock_error(err):
                raise
            if time.monotonic() + pause > deadline:
                raise CatalogError(catalog_problem(err, path())) from None
        time.sleep(pause)
        pause = min(2 * pause, 0.25)


def _is_lock_error(err: BaseException) -> bool:
    text = str(_driver_error(err))
    return is_database_error(err) and ("locked" in text or "busy" in text)


def catalog_problem(err: BaseException, path: Path | None = None) -> str:
    """One line for a database error on the catalog: locked by another process, damaged,
    or another problem; with what to do.

    Parameters
    ----------
    err : BaseException
        The database error.
    path : Path or None
        The SQLite file (default: the catalog :func:`database_url` names).

    Returns
    -------
    str
        The line to show.
    """
    url = database_url(path)
    if not url.startswith("sqlite"):
        return f"cannot use the catalog database at {shown_url(url)}: {first_line(_driver_error(err))}"
    path = Path(url.removeprefix("sqlite:///"))
    text = str(_driver_error(err))
    if "locked" in text or "busy" in text:
        return (f"the catalog {path} is locked by another stepdown process (waited "
                f"{LOCK_TRIES * BUSY_TIMEOUT_MS / 1000:g} s): try again when it has finished")
    if "malformed" in text or "not a database" in text or "corrupt" in text:
        return (f"{path}: not a usable stepdown catalog, the file is damaged ({text}): "
                f"restore a backup, or rebuild it with "
                f"`sqlite3 {path} .recover | sqlite3 repaired.sqlite3`")
    return f"{path}: not a usable stepdown catalog ({text})"


def is_database_error(err: BaseException) -> bool:
    """True for an error of the catalog's database (the driver's or SQLAlchemy's).

    Parameters
    ----------
    err : BaseException
        Any exception.

    Returns
    -------
    bool
        Whether it is an sqlite3 or SQLAlchemy database error.
    """
    import sqlite3
    import sys

    sa_exc = sys.modules.get("sqlalchemy.exc")  # never imported: not one of its errors
    return isinstance(err, sqlite3.DatabaseError) or (
        sa_exc is not None and isinstance(err, sa_exc.DBAPIError))


def postgres_sql(sql: str) -> str:
    """A migration written for SQLite, for PostgreSQL: auto-numbered integer keys,
    double-precision REAL, SIMILAR TO for GLOB (the character classes mean the same).

    Parameters
    ----------
    sql : str
        The migration's SQL, SQLite's dialect.

    Returns
    -------
    str
        The same migration in PostgreSQL's.
    """
    sql = re.sub(r"\bINTEGER PRIMARY KEY\b",
                 "INTEGER GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY", sql)
    sql = re.sub(r"\bREAL\b", "DOUBLE PRECISION", sql)
    return re.sub(r"\bGLOB\b", "SIMILAR TO", sql)


MIGRATION_LOCK = 0x5D0_14
"""PostgreSQL advisory lock key held while migrating: two processes opening a new
database at once take turns instead of both creating the same tables."""


def migrate(conn: Connection) -> list[int]:
    """Apply every migration not yet applied, each in its own transaction.

    Parameters
    ----------
    conn : Connection
        The catalog (on PostgreSQL, an advisory lock makes concurrent openers take turns).

    Returns
    -------
    list of int
        The numbers applied now.
    """
    if conn.dialect == "sqlite":
        return _migrate(conn)
    conn.execute("SELECT pg_advisory_lock(?)", (MIGRATION_LOCK,))
    try:
        return _migrate(conn)
    finally:
        conn.execute("SELECT pg_advisory_unlock(?)", (MIGRATION_LOCK,))


def _migrate(conn: Connection) -> list[int]:
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " number INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    applied = _applied(conn)
    sqlite = conn.dialect == "sqlite"
    done = []
    for mig in migrations():
        if mig.number in applied:
            continue
        body = mig.sql if sqlite else postgres_sql(mig.sql)
        version = f"PRAGMA user_version = {max(applied | {mig.number})};\n" if sqlite else ""
        # executescript would COMMIT on its own; wrap it so a broken script leaves nothing.
        try:
            conn.executescript(
                f"{'BEGIN IMMEDIATE' if sqlite else 'BEGIN'};\n{body}\n"
                f"INSERT INTO schema_migrations VALUES"
                f" ({mig.number}, '{mig.name}', '{now_utc()}');\n{version}COMMIT;"
            )
        except Exception:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if _applied(conn) >= {mig.number}:  # another process applied it meanwhile
                applied.add(mig.number)
                continue
            raise
        applied.add(mig.number)
        done.append(mig.number)
    return done


def _applied(conn: Connection) -> set[int]:
    return {row[0] for row in conn.execute("SELECT number FROM schema_migrations")}


def schema_version(conn: Connection) -> int:
    """The highest migration number applied.

    Parameters
    ----------
    conn : Connection
        The catalog.

    Returns
    -------
    int
        The number; 0 before any.
    """
    return int(conn.execute("SELECT COALESCE(MAX(number), 0) FROM schema_migrations").fetchone()[0])


@contextmanager
def transaction(conn: Connection) -> Iterator[Connection]:
    """One write transaction: everything inside commits together or not at all.

    On SQLite, taking the write lock is retried LOCK_TRIES times (each waits up to the
    busy timeout) while another process holds it.

    Parameters
    ----------
    conn : Connection
        The catalog.

    Yields
    ------
    Connection
        ``conn``, inside the transaction.
    """
    if conn.dialect == "sqlite":
        _begin_immediate(conn)
    else:
        conn.execute("BEGIN")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _begin_immediate(conn: Connection) -> None:
    retry_while_locked(lambda: conn.execute("BEGIN IMMEDIATE"), lambda: _db_path(conn))


def _db_path(conn: Connection) -> Path | None:
    """The SQLite file behind ``conn`` (None for an in-memory database)."""
    row = conn.execute("PRAGMA database_list").fetchone()
    return Path(row[2]) if row and row[2] else None
