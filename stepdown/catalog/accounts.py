"""Accounts of the review web app: users, their athletes, and login sessions.

Passwords are stored as scrypt hashes (memory-hard, :func:`hashlib.scrypt`,
n=2**17, r=8, p=1: 128 MiB and about half a second per hash, the OWASP
password-storage guidance).  A hash stored with a lower cost is replaced at the
next successful login (:func:`authenticate`).  A session is a random token kept in the
browser's cookie; the catalog stores only its SHA-256, with the session's CSRF
token and expiry.  A coach sees only the athletes assigned to them, unless the
account was created to see all (a head clinician).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from stepdown.catalog.db import CatalogError, Connection, now_utc, transaction
from stepdown.catalog.repo import check_athlete_id

USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,31}$")
MIN_PASSWORD_CHARS = 10
SESSION_HOURS = 12
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**17, 8, 1
_SCRYPT_MAXMEM = 256 * 1024 * 1024  # above 128 * n * r (hashlib's default allows 32 MiB)


@dataclass(frozen=True)
class User:
    """An account of the review web app and the athletes it may see."""

    username: str
    """Login name (lower case)."""
    sees_all: bool
    """The account sees every athlete (a head clinician)."""
    athletes: frozenset[str]
    """Ids of the athletes assigned to it."""
    time_zone: str = "UTC"
    """IANA name; the web app shows times in it."""

    def can_see(self, athlete_id: str) -> bool:
        """Whether this user may see the athlete.

        Parameters
        ----------
        athlete_id : str
            The athlete.

        Returns
        -------
        bool
            True when the account sees all or the athlete is assigned to it.
        """
        return self.sees_all or athlete_id in self.athletes

    def visible(self) -> set[str] | None:
        """Athlete ids this user may see; None means all of them.

        Returns
        -------
        set of str or None
            The assigned athletes; None for an account that sees all.
        """
        return None if self.sees_all else set(self.athletes)


@dataclass(frozen=True)
class Session:
    """A live login session."""

    user: User
    """Who is logged in."""
    csrf_token: str
    """The token every form of the session carries."""


def hash_password(password: str) -> str:
    """A self-describing scrypt hash: ``scrypt$n$r$p$salt_hex$hash_hex``.

    Parameters
    ----------
    password : str
        The password.

    Returns
    -------
    str
        The hash with its parameters and a random 16-byte salt.
    """
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R,
                            p=_SCRYPT_P, maxmem=_SCRYPT_MAXMEM, dklen=32)
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    """True if ``password`` matches the stored hash (constant-time compare).

    Parameters
    ----------
    password : str
        The password given.
    stored : str
        A hash from :func:`hash_password`.

    Returns
    -------
    bool
        Whether they match; False for a malformed hash, another scheme, or parameters that
        would need more memory than this module allows.
    """
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        if int(n) * int(r) * 128 > _SCRYPT_MAXMEM or int(p) != 1:
            return False  # not a hash this module wrote: refuse rather than exhaust memory
        got = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r),
                             p=int(p), maxmem=_SCRYPT_MAXMEM, dklen=len(digest) // 2)
    except ValueError:
        return False
    return hmac.compare_digest(got.hex(), digest)


def needs_rehash(stored: str) -> bool:
    """True if ``stored`` was hashed with other scrypt parameters than the current ones.

    Parameters
    ----------
    stored : str
        A stored hash.

    Returns
    -------
    bool
        Whether it should be replaced at the next successful login.
    """
    return not stored.startswith(f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}$")


def _dummy_hash() -> str:
    # Verified against when the user does not exist, so both cases take as long.
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}$" + "00" * 16 + "$" + "00" * 32


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_CHARS:
        raise CatalogError(f"password too short: at least {MIN_PASSWORD_CHARS} characters")


def _require_user(conn: Connection, username: str) -> None:
    if not conn.execute("SELECT 1 FROM users WHERE username = ?", (username,)).fetchone():
        raise CatalogError(f"no user {username!r}")


def add_user(
    conn: Connection, username: str, password: str, *,
    athletes: list[str] = (), sees_all: bool = False,
) -> None:
    """Create an account; refuses an existing name, a bad name or a short password.

    Parameters
    ----------
    conn : Connection
        The catalog.
    username : str
        1-32 lower-case letters, digits, '_', '.' or '-'.
    password : str
        At least ``MIN_PASSWORD_CHARS`` characters.
    athletes : list of str
        Athlete ids the coach may see.
    sees_all : bool
        The account sees every athlete.

    Raises
    ------
    CatalogError
        An existing or invalid name, a short password or an invalid athlete id.
    """
    if not USERNAME.match(username):
        raise CatalogError(
            f"invalid user name {username!r}: 1-32 lower-case letters, digits, '_', '.' or '-'")
    _check_password(password)
    for a in athletes:
        check_athlete_id(a)
    pw_hash = hash_password(password)
    with transaction(conn):
        if conn.execute("SELECT 1 FROM users WHERE username = ?", (username,)).fetchone():
            raise CatalogError(f"user {username!r} already exists")
        conn.execute(
            "INSERT INTO users (username, password_hash, sees_all, created_at) VALUES (?,?,?,?)",
            (username, pw_hash, int(sees_all), now_utc()),
        )
        conn.executemany(
            "INSERT INTO coach_athletes (username, athlete_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
            [(username, a) for a in athletes],
        )


def assign(conn: Connection, username: str, athletes: list[str]) -> None:
    """Give an existing coach access to more athletes.

    Parameters
    ----------
    conn : Connection
        The catalog.
    username : str
        The account.
    athletes : list of str
        Athlete ids to add (ones already assigned are kept once).
    """
    for a in athletes:
        check_athlete_id(a)
    with transaction(conn):
        _require_user(conn, username)
        conn.executemany(
            "INSERT INTO coach_athletes (username, athlete_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
            [(username, a) for a in athletes],
        )


def unassign(conn: Connection, username: str, athletes: list[str]) -> int:
    """Take athletes away from a coach; returns how many assignments were removed.

    Parameters
    ----------
    conn : Connection
        The catalog.
    username : str
        The account.
    athletes : list of str
        Athlete ids to take away.

    Returns
    -------
    int
        Assignments removed.
    """
    with transaction(conn):
        _require_user(conn, username)
        return sum(conn.execute(
            "DELETE FROM coach_athletes WHERE username = ? AND athlete_id = ?", (username, a)
        ).rowcount for a in athletes)


def remove_user(conn: Connection, username: str) -> None:
    """Delete an account with its assignments and sessions (its labels and notes stay).

    Parameters
    ----------
    conn : Connection
        The catalog.
    username : str
        The account.
    """
    with transaction(conn):
        _require_user(conn, username)
        conn.execute("DELETE FROM web_sessions WHERE username = ?", (username,))
        conn.execute("DELETE FROM coach_athletes WHERE username = ?", (username,))
        conn.execute("DELETE FROM users WHERE username = ?", (username,))


def set_password(conn: Connection, username: str, password: str) -> None:
    """Give an account a new password and end all its sessions (every browser logs in again).

    Parameters
    ----------
    conn : Connection
        The catalog.
    username : str
        The account.
    password : str
        The new password (at least ``MIN_PASSWORD_CHARS`` characters).
    """
    _check_password(password)
    pw_hash = hash_password(password)
    with transaction(conn):
        _require_user(conn, username)
        conn.execute("UPDATE users SET password_hash = ? WHERE username = ?", (pw_hash, username))
        conn.execute("DELETE FROM web_sessions WHERE username = ?", (username,))


def set_time_zone(conn: Connection, username: str, time_zone: str) -> None:
    """Set the IANA time zone (``Europe/Berlin``) the account's times are shown in.

    Parameters
    ----------
    conn : Connection
        The catalog.
    username : str
        The account.
    time_zone : str
        IANA time zone name.

    Raises
    ------
    CatalogError
        An unknown time zone or account.
    """
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise CatalogError(f"unknown time zone {time_zone!r} (e.g. Europe/Berlin, UTC)") from None
    with transaction(conn):
        _require_user(conn, username)
        conn.execute("UPDATE users SET time_zone = ? WHERE username = ?", (time_zone, username))


def end_sessions(conn: Connection, username: str) -> int:
    """Log an account out everywhere; returns how many sessions were ended.

    Parameters
    ----------
    conn : Connection
        The catalog.
    username : str
        The account.

    Returns
    -------
    int
        Sessions ended.
    """
    with transaction(conn):
        _require_user(conn, username)
        return conn.execute("DELETE FROM web_sessions WHERE username = ?", (username,)).rowcount


def get_user(conn: Connection, username: str) -> User | None:
    """An account with its assigned athletes.

    Parameters
    ----------
    conn : Connection
        The catalog.
    username : str
        The account.

    Returns
    -------
    User or None
        The account; None when there is none of that name.
    """
    row = conn.execute("SELECT sees_all, time_zone FROM users WHERE username = ?",
                       (username,)).fetchone()
    if row is None:
        return None
    athletes = frozenset(r[0] for r in conn.execute(
        "SELECT athlete_id FROM coach_athletes WHERE username = ?", (username,)))
    return User(username, bool(row[0]), athletes, row[1])


def list_users(conn: Connection) -> list[User]:
    """Every account, by name.

    Parameters
    ----------
    conn : Connection
        The catalog.

    Returns
    -------
    list of User
        The accounts in alphabetical order.
    """
    names = [r[0] for r in conn.execute("SELECT username FROM users ORDER BY username")]
    return [u for u in (get_user(conn, n) for n in names) if u is not None]


def count_users(conn: Connection) -> int:
    """How many accounts the catalog has.

    Parameters
    ----------
    conn : Connection
        The catalog.

    Returns
    -------
    int
        The number of accounts.
    """
    return int(conn.execute("SELECT COUNT(*) FROM users").fetchone()[0])


def require_users(what: str) -> None:
    """Refuse (one line) to start ``what`` (a page behind logins) on a catalog without
    accounts: nobody could log in.

    Parameters
    ----------
    what : str
        What is being started, as the message names it (``"the review app"``).

    Raises
    ------
    CatalogError
        When the current catalog has no account.
    """
    from stepdown.catalog.db import connect

    conn = connect()
    try:
        if count_users(conn) == 0:
            raise CatalogError(f"no accounts yet for {what}: create one with "
                               "`stepdown users add NAME --all-athletes`")
    finally:
        conn.close()


def authenticate(conn: Connection, username: str, password: str) -> User | None:
    """The user if the password is right, else None (same work either way).

    A hash stored with other scrypt parameters is replaced after a successful login.

    Parameters
    ----------
    conn : Connection
        The catalog.
    username : str
        The name given.
    password : str
        The password given.

    Returns
    -------
    User or None
        The account; None for a wrong password or an unknown name.
    """
    row = conn.execute(
        "SELECT password_hash FROM users WHERE username = ?", (username,)
    ).fetchone()
    ok = verify_password(password, row[0] if row else _dummy_hash())
    if not (ok and row):
        return None
    if needs_rehash(row[0]):
        new_hash = hash_password(password)
        with transaction(conn):
            conn.execute("UPDATE users SET password_hash = ? WHERE username = ?",
                         (new_hash, username))
    return get_user(conn, username)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(conn: Connection, username: str) -> str:
    """Open a session for a logged-in user; returns the cookie token (kept nowhere else).

    Parameters
    ----------
    conn : Connection
        The catalog (expired sessions are deleted on the way).
    username : str
        The account.

    Returns
    -------
    str
        The random token; the catalog keeps only its SHA-256.
    """
    token = secrets.token_urlsafe(32)
    expires = (datetime.now(UTC) + timedelta(hours=SESSION_HOURS)).strftime("%Y-%m-%dT%H:%M:%SZ")
    with transaction(conn):
        conn.execute("DELETE FROM web_sessions WHERE expires_at < ?", (now_utc(),))
        conn.execute(
            "INSERT INTO web_sessions (token_sha256, username, csrf_token, created_at, expires_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (_token_hash(token), username, secrets.token_urlsafe(32), now_utc(), expires),
        )
    return token


def get_session(conn: Connection, token: str | None) -> Session | None:
    """The live session for a cookie token, or None (unknown, expired or user gone).

    Parameters
    ----------
    conn : Connection
        The catalog.
    token : str or None
        The cookie's token.

    Returns
    -------
    Session or None
        The session; None without a token or for one that is not live.
    """
    if not token:
        return None
    row = conn.execute(
        "SELECT username, csrf_token FROM web_sessions WHERE token_sha256 = ? AND expires_at > ?",
        (_token_hash(token), now_utc()),
    ).fetchone()
    if row is None:
        return None
    user = get_user(conn, row[0])
    return Session(user, row[1]) if user else None


def end_session(conn: Connection, token: str | None) -> None:
    """Log one session out (nothing for no token).

    Parameters
    ----------
    conn : Connection
        The catalog.
    token : str or None
        The cookie's token.
    """
    if token:
        with transaction(conn):
            conn.execute("DELETE FROM web_sessions WHERE token_sha256 = ?", (_token_hash(token),))
