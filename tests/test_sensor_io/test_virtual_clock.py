"""The virtual-time event loop: timers jump, work in a thread holds the clock."""

from __future__ import annotations

import asyncio
import time

from sensor_io.virtual_clock import run_virtual


def test_a_sleep_takes_virtual_time_not_wall_time():
    async def main() -> tuple[float, float]:
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        await asyncio.sleep(3600)
        return t0, loop.time()

    start = time.monotonic()
    t0, t1 = run_virtual(main())
    assert t1 - t0 >= 3600 and time.monotonic() - start < 5


def test_work_in_a_thread_holds_virtual_time_while_timers_are_pending():
    # A sensor's notification timer ticks every 10 ms of virtual time while a slow job
    # (0.3 s of wall time) runs in a thread. The job must take no virtual time, so no tick
    # later than the job's start lands while it runs, however slow the machine.
    async def main() -> tuple[float, float, list[float]]:
        loop = asyncio.get_running_loop()
        ticks: list[float] = []

        async def sensor() -> None:
            while True:
                await asyncio.sleep(0.01)
                ticks.append(loop.time())

        task = asyncio.create_task(sensor())
        await asyncio.sleep(0.05)
        before = loop.time()
        await asyncio.to_thread(time.sleep, 0.3)
        after, during = loop.time(), list(ticks)
        task.cancel()
        return before, after, during

    before, after, ticks = run_virtual(main())
    assert after == before
    assert max(ticks) <= before  # (before the fix the clock ran on: ~400 s of virtual time in 0.3 s)
