"""The coach's keys in the terminal (issue 13), read from a real pseudo-terminal."""

import os
import queue
import sys

import pytest

from stepdown.athlete.keys import key_control


def test_keys_stand_for_the_page_controls():
    assert key_control("s", band_on=False, set_active=True) == ("stop_set", None)
    assert key_control("S", band_on=False, set_active=False) == ("start_set", None)
    assert key_control("b", band_on=False, set_active=True) == ("band", True)
    assert key_control("B", band_on=True, set_active=True) == ("band", False)
    assert key_control("7", band_on=False, set_active=True) == ("pain", 7)
    assert key_control("x", band_on=False, set_active=True) is None
    assert key_control("\n", band_on=False, set_active=True) is None


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX terminals only")
def test_key_presses_on_a_terminal_become_controls_and_the_terminal_is_restored():
    import pty
    import termios

    from stepdown.athlete.keys import TerminalKeys

    master, slave = pty.openpty()
    before = termios.tcgetattr(slave)
    got: queue.Queue = queue.Queue()
    keys = TerminalKeys(slave, lambda a, v: got.put((a, v)), lambda: (False, True))
    try:
        assert not termios.tcgetattr(slave)[3] & termios.ICANON  # one key at a time, no Enter
        os.write(master, b"b4xs")
        sent = [got.get(timeout=5) for _ in range(3)]
    finally:
        keys.close()
        after = termios.tcgetattr(slave)
        os.close(master)
        os.close(slave)
    assert sent == [("band", True), ("pain", 4), ("stop_set", None)]
    assert after == before
