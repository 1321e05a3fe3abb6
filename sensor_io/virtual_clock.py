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
blocks on real I/O as usual.  Work running in a thread does not hold virtual time
back (it is not a timer), so it appears to take no virtual time.

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
        if timeout is None:  # no timer pending: only real I/O can wake the loop
            return super().select(None)
        self.loop.advance(timeout)
        return []


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """A selector event loop whose ``time()`` is virtual (s, starts at ``start``)."""

    def __init__(self, start: float = 0.0) -> None:
        selector = _SkipAheadSelector()
        selector.loop = self
        super().__init__(selector)
        self._virtual_now = float(start)

    def time(self) -> float:
        return self._virtual_now

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds`` (≥ 0)."""
        self._virtual_now += max(0.0, seconds)


def run_virtual(coro: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(coro)`` on a :class:`VirtualTimeLoop`."""
    with asyncio.Runner(loop_factory=VirtualTimeLoop) as runner:
        return runner.run(coro)
