"""A disk that fills up: ``os.write`` on chosen files succeeds for ``budget`` more bytes
(a write crossing it is cut short, as the kernel does), then fails with ENOSPC."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable


def filling_disk(budget: int, on_target: Callable[[int], bool]) -> Callable[[int, bytes], int]:
    """An ``os.write`` replacement; ``on_target(fd)`` says which descriptors the full disk
    holds.  Raise ``filling_disk.budget`` (the returned function's ``budget`` dict) to
    free space."""
    real_write = os.write
    state = {"n": budget}

    def write(fd: int, data: bytes) -> int:
        if not on_target(fd):
            return real_write(fd, data)
        if state["n"] <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        n = real_write(fd, bytes(data[:state["n"]]))
        state["n"] -= n
        return n

    write.budget = state  # type: ignore[attr-defined]
    return write
