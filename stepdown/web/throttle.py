"""Login throttling: too many failed logins lock an account name, and an address, for a while.

A sliding window per key: after ``limit`` failures within ``window_s`` seconds
the key is locked until the oldest of those failures leaves the window.  Keys
are the account name (``user:NAME``, also for names that do not exist, so the
answer does not tell which names exist) and the client address (``addr:IP``).
While locked, the password is not even checked: a guess costs the guesser a
wait, not the server a hash.

The failures live in the catalog (table ``login_failures``, wall-clock times), so
every server process (``stepdown serve --workers N``) sees the same counts and a
restart keeps them.  The table stays small: only a login whose password was checked
adds rows, and rows older than the window are deleted at the next failure.  Two
processes checking the same key at the same instant may each let one more guess
through than the limit (at most one per concurrent password check), never more.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from stepdown.catalog.db import Connection, transaction

ACCOUNT_LIMIT = 5
ADDRESS_LIMIT = 20
WINDOW_S = 15 * 60.0


@dataclass(frozen=True)
class LoginThrottle:
    """Failed-login limits per account and per address; the counts are in the catalog."""

    account_limit: int = ACCOUNT_LIMIT
    """Failures within the window that lock an account name."""
    address_limit: int = ADDRESS_LIMIT
    """Failures within the window that lock a client address."""
    window_s: float = WINDOW_S
    """The sliding window, s."""
    clock: Callable[[], float] = time.time
    """Seconds since the epoch (the same in every process; tests pass their own)."""

    def _keys(self, username: str, address: str) -> tuple[tuple[str, int], ...]:
        return ((f"user:{username.lower()}", self.account_limit),
                (f"addr:{address}", self.address_limit))

    def wait_s(self, conn: Connection, username: str, address: str) -> float:
        """Seconds until a login for ``username`` from ``address`` is heard again; 0 if now.

        Parameters
        ----------
        conn : Connection
            The catalog.
        username : str
            The account name tried (any case).
        address : str
            The client's IP address.

        Returns
        -------
        float
            The wait, s; 0.0 when neither key is locked.
        """
        now = self.clock()
        wait = 0.0
        for key, limit in self._keys(username, address):
            # the limit-th newest failure inside the window: the lock ends when it leaves it
            row = conn.execute(
                "SELECT failed_at FROM login_failures WHERE key = ? AND failed_at > ?"
                " ORDER BY failed_at DESC LIMIT 1 OFFSET ?",
                (key, now - self.window_s, limit - 1)).fetchone()
            if row is not None:
                wait = max(wait, row[0] + self.window_s - now)
        return wait

    def failed(self, conn: Connection, username: str, address: str) -> None:
        """Count one failed login (and forget failures that have left the window).

        Parameters
        ----------
        conn : Connection
            The catalog.
        username : str
            The account name tried (any case).
        address : str
            The client's IP address.
        """
        now = self.clock()
        with transaction(conn):
            conn.execute("DELETE FROM login_failures WHERE failed_at <= ?",
                         (now - self.window_s,))
            conn.executemany("INSERT INTO login_failures (key, failed_at) VALUES (?, ?)",
                             [(key, now) for key, _ in self._keys(username, address)])

    def succeeded(self, conn: Connection, username: str) -> None:
        """Forget the account's failures (the address keeps its count).

        Parameters
        ----------
        conn : Connection
            The catalog.
        username : str
            The account name (any case).
        """
        with transaction(conn):
            conn.execute("DELETE FROM login_failures WHERE key = ?",
                         (f"user:{username.lower()}",))
