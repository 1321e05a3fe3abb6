"""The coach's keys in the terminal running `stepdown record`: the live page's keys
(S set start/stop, B band on/off, 0-9 pain of the last rep) without the page.

A daemon thread reads single key presses from a terminal put in cbreak mode (no echo,
no Enter needed; Ctrl-C still interrupts the recording) and hands them to
``LiveFeedback.control``; :meth:`TerminalKeys.close` restores the terminal.  Only on a
POSIX terminal: elsewhere (a pipe, Windows) it does nothing.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from typing import Any

KEYS = "S set start/stop, B band on/off, 0-9 pain of the last rep"


def key_control(key: str, band_on: bool, set_active: bool) -> tuple[str, Any] | None:
    """The control a key stands for, given the band and set state; None for other keys.

    Parameters
    ----------
    key : str
        One key press (S, B or a digit, either case).
    band_on : bool
        Whether the band is on now (B turns it the other way).
    set_active : bool
        Whether a set is running now (S stops it, else starts one).

    Returns
    -------
    tuple of (str, Any) or None
        (action, value) for ``LiveFeedback.control``: ``start_set`` / ``stop_set`` (None),
        ``band`` (bool), ``pain`` (NRS 0-9).
    """
    k = key.lower()
    if k == "s":
        return ("stop_set", None) if set_active else ("start_set", None)
    if k == "b":
        return "band", not band_on
    if k.isdigit() and len(k) == 1:
        return "pain", int(k)
    return None


class TerminalKeys:
    """Reads keys from ``fd`` (a terminal) and calls ``send(action, value)``.

    ``state()`` gives (band on, set active) to turn S and B into the right control.  The
    terminal is put in cbreak mode until :meth:`close`.

    Parameters
    ----------
    fd : int
        The terminal's file descriptor.
    send : callable
        Called with (action, value) for each control key.
    state : callable
        Returns (band on, set active).
    """

    def __init__(self, fd: int, send: Callable[[str, Any], None],
                 state: Callable[[], tuple[bool, bool]]) -> None:
        import termios
        import tty

        self.fd, self.send, self.state = fd, send, state
        self._saved = termios.tcgetattr(fd)
        tty.setcbreak(fd)
        self._thread = threading.Thread(target=self._read, name="coach-keys", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while True:
            try:
                data = os.read(self.fd, 1)
            except OSError:
                return
            if not data:
                return
            control = key_control(data.decode(errors="ignore"), *self.state())
            if control is not None:
                self.send(*control)

    def close(self) -> None:
        """Restore the terminal's mode as it was before."""
        import termios

        termios.tcsetattr(self.fd, termios.TCSADRAIN, self._saved)


def open_terminal_keys(send: Callable[[str, Any], None],
                       state: Callable[[], tuple[bool, bool]]) -> TerminalKeys | None:
    """Terminal keys when stdin is a POSIX terminal, else None.

    Parameters
    ----------
    send : callable
        Called with (action, value) for each control key.
    state : callable
        Returns (band on, set active).

    Returns
    -------
    TerminalKeys or None
        Reading keys on a daemon thread; None on a pipe, a closed stdin or Windows.
    """
    try:
        fd = sys.stdin.fileno()
    except (AttributeError, ValueError, OSError):  # replaced or closed stdin (tests, pipes)
        return None
    if os.name != "posix" or not os.isatty(fd):
        return None
    return TerminalKeys(fd, send, state)
