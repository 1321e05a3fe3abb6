"""Rendered pages and reports kept in this process's memory, keyed by what they show.

A key holds everything a page depends on: the test's revision
(:func:`stepdown.catalog.repo.test_revision`, which changes with every label, note or
note edit), and for a coach's page the viewer's name, rights and time zone.  A stale
entry is never served: a changed test has a new key, and the old entry ages out.
Each server process keeps its own cache (nothing here is shared between workers).

The one per-request part of a page, the session's CSRF token, is rendered as a
placeholder (:data:`CSRF_PLACEHOLDER`, random per process) and put in by
:func:`with_csrf` on every request.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

T = TypeVar("T")

CSRF_PLACEHOLDER = "csrf-" + secrets.token_urlsafe(24)  # same characters as a real token


class RenderCache:
    """A thread-safe least-recently-used map of at most ``max_entries`` rendered results.

    Two threads missing the same key may both render it (the second result wins);
    rendering is pure, so that only costs time, never correctness.

    Parameters
    ----------
    max_entries : int
        How many rendered results are kept; the least recently used goes first.
    """

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._items: OrderedDict[Hashable, object] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: Hashable, make: Callable[[], T]) -> T:
        """The entry for ``key``, made by ``make()`` (outside the lock) if missing.

        Parameters
        ----------
        key : Hashable
            Everything the result depends on.
        make : callable
            Renders the result (no arguments).

        Returns
        -------
        T
            The cached or the newly made result.
        """
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                self.hits += 1
                return self._items[key]  # type: ignore[return-value]
            self.misses += 1
        value = make()
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.max_entries:
                self._items.popitem(last=False)
        return value


def with_csrf(html: str, csrf_token: str) -> str:
    """A cached page with the session's CSRF token in place of the placeholder.

    Parameters
    ----------
    html : str
        The cached page, with :data:`CSRF_PLACEHOLDER` where the token goes.
    csrf_token : str
        The session's CSRF token.

    Returns
    -------
    str
        The page to send.
    """
    return html.replace(CSRF_PLACEHOLDER, csrf_token)
