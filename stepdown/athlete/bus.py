"""The live state of a session and its events, fanned out to the live page's listeners.

The record loop publishes from its own thread; each listener is an asyncio queue on the
web server's event loop, fed through ``call_soon_threadsafe`` so that neither side ever
blocks the other.  Every event carries the whole state (a few kB), so a page that
(re)connects at any moment shows everything at once, and a lost event costs nothing.
"""

from __future__ import annotations

import asyncio
import copy
import threading
import time
from collections.abc import AsyncIterator
from typing import Any

from sensor_io.json_doc import JSONDoc


class EventBus:
    """State dict + publish/subscribe.

    ``publish(kind, **changes)`` merges ``changes`` into the state and sends ``{"kind",
    "seq", "t_pub" (Unix s), "state"}`` to every listener; :meth:`listen` yields the current
    state first, then each event.

    Parameters
    ----------
    state : dict of str to Any or None
        The initial state (copied); None: empty.
    max_queued : int
        Events a listener may have waiting; a slower one loses its oldest.
    """

    def __init__(self, state: JSONDoc | None = None, max_queued: int = 256) -> None:
        self._lock = threading.Lock()
        self._state: JSONDoc = dict(state or {})
        self._seq = 0
        self._listeners: list[tuple[asyncio.AbstractEventLoop, asyncio.Queue]] = []
        self._closed = False
        self.max_queued = max_queued

    def state(self) -> JSONDoc:
        """A deep copy of the current state.

        Returns
        -------
        dict of str to Any
            The state, safe to change.
        """
        with self._lock:
            return copy.deepcopy(self._state)

    def publish(self, kind: str, **changes: Any) -> JSONDoc:
        """Merge ``changes`` into the state and send the event to every listener.

        Thread-safe: the record loop calls it from its own thread.

        Parameters
        ----------
        kind : str
            What happened (e.g. ``rep``, ``phase``).
        **changes : Any
            State keys to set (deep-copied).

        Returns
        -------
        dict of str to Any
            The event sent: ``kind``, ``seq``, ``t_pub`` (Unix s) and the whole ``state``.
        """
        with self._lock:
            self._state.update(copy.deepcopy(changes))
            self._seq += 1
            event = {"kind": kind, "seq": self._seq, "t_pub": time.time(),
                     "state": copy.deepcopy(self._state)}
            listeners = list(self._listeners)
        for loop, q in listeners:
            with_loop_open(loop, _offer, q, event)
        return event

    def close(self) -> None:
        """End every listener's stream (the server can then shut down)."""
        with self._lock:
            self._closed = True
            listeners, self._listeners = self._listeners, []
        for loop, q in listeners:
            with_loop_open(loop, _offer, q, None)

    async def listen(self) -> AsyncIterator[JSONDoc]:
        """The current state, then each event, until the bus closes.

        Runs on the listener's event loop; a listener that stops iterating is removed.

        Yields
        ------
        dict of str to Any
            First ``{"kind": "state", ...}``, then each published event (``kind``, ``seq``,
            ``t_pub`` in Unix s, ``state``).
        """
        q: asyncio.Queue = asyncio.Queue(self.max_queued)
        entry = (asyncio.get_running_loop(), q)
        with self._lock:
            if self._closed:
                return
            self._listeners.append(entry)
            first = {"kind": "state", "seq": self._seq, "t_pub": time.time(),
                     "state": copy.deepcopy(self._state)}
        try:
            yield first
            while (event := await q.get()) is not None:
                yield event
        finally:
            with self._lock:
                if entry in self._listeners:
                    self._listeners.remove(entry)

    @property
    def listeners(self) -> int:
        """How many listeners are connected now."""
        with self._lock:
            return len(self._listeners)


def _offer(q: asyncio.Queue, event: JSONDoc | None) -> None:
    """Queue an event; a listener too slow to keep up loses its oldest events (each
    carries the whole state, so the newest is all the page needs)."""
    while q.full():
        q.get_nowait()
    q.put_nowait(event)


def with_loop_open(loop: asyncio.AbstractEventLoop, fn, *args: Any) -> None:
    """``fn(*args)`` on ``loop``'s thread, unless the loop has already closed.

    Parameters
    ----------
    loop : asyncio.AbstractEventLoop
        The loop to run it on.
    fn : callable
        What to call there.
    *args : Any
        Its arguments.
    """
    try:
        loop.call_soon_threadsafe(fn, *args)
    except RuntimeError:  # the server's loop ended
        pass
