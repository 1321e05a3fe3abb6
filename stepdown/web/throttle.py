"""Login throttling: too many failed logins lock an account name, and an address, for a while.

A sliding window per key: after ``limit`` failures within ``window_s`` seconds
the key is locked until the oldest of those failures leaves the window.  Keys
are the account name (``user:NAME``, also for names that do not exist, so the
answer does not tell which names exist) and the client address (``addr:IP``).
While locked, the password is not even checked: a guess costs the guesser a
wait, not the server a hash.

The counts live in this process's memory (``stepdown serve`` runs one process);
they are lost on restart, which only shortens a lock.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

ACCOUNT_LIMIT = 5
ADDRESS_LIMIT = 20
WINDOW_S = 15 * 60.0
MAX_KEYS = 100_000  # beyond this many tracked keys, the least recently failed are forgotten


@dataclass
class LoginThrottle:
    """Failed-login counts per account and per address (thread-safe)."""

    account_limit: int = ACCOUNT_LIMIT
    address_limit: int = ADDRESS_LIMIT
    window_s: float = WINDOW_S
    clock: Callable[[], float] = time.monotonic
    _failures: dict[str, deque[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _keys(self, username: str, address: str) -> tuple[tuple[str, int], ...]:
        return ((f"user:{username.lower()}", self.account_limit),
                (f"addr:{address}", self.address_limit))

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.get(key, deque())
        while times and times[0] <= now - self.window_s:
            times.popleft()
        return times

    def wait_s(self, username: str, address: str) -> float:
        """Seconds until a login for ``username`` from ``address`` is heard again; 0 if now."""
        now = self.clock()
        wait = 0.0
        with self._lock:
            for key, limit in self._keys(username, address):
                times = self._recent(key, now)
                if len(times) >= limit:
                    wait = max(wait, times[-limit] + self.window_s - now)
        return wait

    def failed(self, username: str, address: str) -> None:
        """Count one failed login."""
        now = self.clock()
        with self._lock:
            for key, _ in self._keys(username, address):
                times = self._recent(key, now)
                times.append(now)
                self._failures.pop(key, None)
                self._failures[key] = times  # re-inserted: dict order = least recent first
            while len(self._failures) > MAX_KEYS:
                del self._failures[next(iter(self._failures))]

    def succeeded(self, username: str) -> None:
        """Forget the account's failures (the address keeps its count)."""
        with self._lock:
            self._failures.pop(f"user:{username.lower()}", None)
