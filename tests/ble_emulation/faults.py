"""Scripted misbehaviour of an emulated peripheral (test-only): the
:class:`sensor_io.ble_emulation.FaultScript` the fault tests give a peripheral.

>>> EmulatedPeripheral(address, profile, signal, faults=Faults(drop_every=7))
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sensor_io.ble_emulation import EmulatedPeripheral


@dataclass
class Faults:
    """What goes wrong with one peripheral.

    ``*_every`` = k acts on every k-th notification (0: never).  ``disconnect_at_s``
    (world time, s) drops the link; the device is then unreachable for ``down_for_s`` s.
    ``fail_connects`` connection attempts fail before one succeeds; a ``silent`` sensor
    connects and accepts commands but never sends data.  ``device_stops_at_s``: the
    device ends its measurement on its own (Polar: the ``01 TYPE…`` indication).
    """

    drop_every: int = 0
    duplicate_every: int = 0
    split_every: int = 0
    corrupt_every: int = 0
    disconnect_at_s: float | None = None
    down_for_s: float = 3.0
    fail_connects: int = 0
    silent: bool = False
    device_stops_at_s: float | None = None
    _dropped: bool = field(default=False, repr=False)
    _stopped: bool = field(default=False, repr=False)

    def refuses_connect(self) -> bool:
        if self.fail_connects > 0:
            self.fail_connects -= 1
            return True
        return False

    def on_tick(self, p: EmulatedPeripheral, now_s: float) -> bool:
        if self.disconnect_at_s is not None and not self._dropped and now_s >= self.disconnect_at_s:
            self._dropped = True
            p.vanish(self.down_for_s)
        if self.device_stops_at_s is not None and not self._stopped \
                and now_s >= self.device_stops_at_s:
            self._stopped = True
            getattr(p.device, "stop_by_device", lambda: None)()
        return not self.silent

    def deliver(self, n: int, data: bytes) -> list[bytes]:
        if self.drop_every and n % self.drop_every == 0:
            return []
        if self.corrupt_every and n % self.corrupt_every == 0:
            b = bytearray(data)
            b[len(b) // 2] ^= 0x5A
            data = bytes(b)
        if self.split_every and n % self.split_every == 0 and len(data) > 2:
            out = [data[: len(data) // 2], data[len(data) // 2:]]
        else:
            out = [data]
        if self.duplicate_every and n % self.duplicate_every == 0:
            out.append(data)
        return out
