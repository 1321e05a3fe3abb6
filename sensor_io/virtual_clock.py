"""An asyncio event loop on virtual time, for emulated sensors.

The emulated BLE world (:mod:`sensor_io.ble_emulation`) and everything that talks to it
(bleak, :class:`sensor_io.ble_client.StreamingSession`, the live recording loop) measure
time with ``loop.time()``.  On a :class:`VirtualTimeLoop` that clock only moves when
every task is waiting: instead of sleeping until the next timer, the loop jumps to it.
So a 30 s emulated test runs as fast as the machine computes it, and the arrival time
of every notification is the same on an idle machine and a loaded one: tests that
stream through emulated sensors no longer depend on wall time.

Real I/O still works (signal handlers, pipes, threads finishing ``to_thread`` work):
every step polls it without blocking first, and when no timer is pending the loop
blocks on real I/O as usual.  Work running in a thread (``run_in_executor``,
``asyncio.to_thread``) holds virtual time still until it finishes, so it takes no
virtual time however long the machine needs for it: otherwise the emulated sensors
would stream on while, say, a live analysis runs, and how much data arrived meanwhile
would depend on the machine's load.

>>> run_virtual(asyncio.sleep(3600))  # returns at once; virtual time is then 3600 s
"""

from __future__ import annotations

import asyncio
import selectors
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class _SkipAheadSelector(selectors.DefaultSelector):  # type: ignore[misc,valid-type]
    """A selector that, asked to wait for a timer, advances the loop's clock instead."""

    loop: VirtualTimeLoop

    def select(self, timeout: float | None = None) -> list[Any]:
        ready = super().select(0)
        if ready or timeout == 0:
            return ready
        if timeout is None or self.loop.in_threads:
            # no timer pending, or work in a thread holds the clock: only real I/O (or
            # the thread's result, through the loop's self-pipe) can wake the loop
            return super().select(None)
        self.loop.advance(timeout)
        return []


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """A selector event loop whose ``time()`` is virtual (s, starts at ``start``).

    Parameters
    ----------
    start : float
        The virtual time at creation, s.
    """

    def __init__(self, start: float = 0.0) -> None:
        selector = _SkipAheadSelector()
        selector.loop = self
        super().__init__(selector)
        self._virtual_now = float(start)
        self.in_threads = 0
        """How many ``run_in_executor`` calls have not finished (they hold the clock)."""

    def time(self) -> float:
        """The virtual time, s.

        Returns
        -------
        float
            The virtual clock's reading, s.
        """
        return self._virtual_now

    def run_in_executor(self, executor: Any, func: Any, *args: Any) -> asyncio.Future[Any]:
        """As asyncio's, and virtual time stands still until ``func`` has returned.

        Parameters
        ----------
        executor : Any
            The executor (None: the loop's default).
        func : Any
            The callable to run in a thread.
        *args : Any
            Its positional arguments.

        Returns
        -------
        asyncio.Future
            The future of ``func(*args)``.
        """
        future = super().run_in_executor(executor, func, *args)
        self.in_threads += 1
        future.add_done_callback(self._thread_done)
        return future

    def _thread_done(self, _future: asyncio.Future[Any]) -> None:
        self.in_threads -= 1

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds`` (≥ 0).

        Parameters
        ----------
        seconds : float
            How far, s; negative values move nothing.
        """
        self._virtual_now += max(0.0, seconds)


def run_virtual(coro: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(coro)`` on a :class:`VirtualTimeLoop`.

    Parameters
    ----------
    coro : Coroutine
        The coroutine to run.

    Returns
    -------
    T
        What ``coro`` returns.
    """
    with asyncio.Runner(loop_factory=VirtualTimeLoop) as runner:
        return runner.run(coro)
