"""The emulated Movella DOT, written from the BLE Service Specification (XD0506P),
*not* from :mod:`.protocol`."""

from __future__ import annotations

import struct

import numpy as np

from sensor_io.vendors.base import Answer, DeviceTime, Packets
from sensor_io.vendors.common import DEG
from sensor_io.vendors.movella import protocol as movella


class DotDevice:
    """Movella DOT (BLE Service Specification, XD0506P): output rate in the device
    control characteristic (0x1002, 32 bytes, bit 4 of the visit index), measurement
    control ``01 ACTION MODE`` on 0x2001; "Rate quantities" (mode 21) notified on the
    medium payload characteristic 0x2003: uint32 µs timestamp, acc 3×float32 m/s²,
    gyro 3×float32 °/s, zero-padded to 40 bytes.  A type other than 1, or a rate not in
    the documented list, is refused (the write is ignored).

    Parameters
    ----------
    answer : Answer
        ``answer(uuid, bytes)``: sends a notification to the client.
    """

    samples_per_packet = 1
    chars = ((movella.DEVICE_CONTROL_UUID, ["read", "write"]),
             (movella.MEASUREMENT_CONTROL_UUID, ["read", "write"]),
             (movella.MEDIUM_UUID, ["notify"]), (movella.BATTERY_UUID, ["read", "notify"]))
    RATES = (1, 4, 10, 12, 15, 20, 30, 60, 120)

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.control = bytearray(32)
        self.control[24:26] = (60).to_bytes(2, "little")
        self.mode: int | None = None
        self.notifying: set[str] = set()

    @property
    def streaming(self) -> bool:
        """Whether mode 21 is on and the medium payload is subscribed to."""
        return self.mode == 21 and movella.MEDIUM_UUID in self.notifying

    @property
    def rate_hz(self) -> float:
        """The output rate in the device control, Hz (60 at power-up)."""
        return float(int.from_bytes(self.control[24:26], "little"))

    def on_subscribe(self, uuid: str) -> None:
        """Note the subscription.

        Parameters
        ----------
        uuid : str
            The characteristic subscribed to.
        """
        self.notifying.add(uuid)

    def on_read(self, uuid: str) -> bytes:
        """The device control (32 bytes), the measurement control or the battery.

        Parameters
        ----------
        uuid : str
            The characteristic read.

        Returns
        -------
        bytes
            Its value.
        """
        if uuid == movella.DEVICE_CONTROL_UUID:
            return bytes(self.control)
        if uuid == movella.MEASUREMENT_CONTROL_UUID:
            return bytes([1, 1 if self.mode else 0, self.mode or 0])
        if uuid == movella.BATTERY_UUID:
            return bytes([64, 0])  # Table 21: level %, not charging
        return b""

    def on_write(self, uuid: str, data: bytes) -> None:
        """A device control write (rate) or a measurement control write (start, stop).

        Parameters
        ----------
        uuid : str
            The characteristic written.
        data : bytes
            The bytes written.
        """
        if uuid == movella.DEVICE_CONTROL_UUID and len(data) == 32:
            rate = int.from_bytes(data[24:26], "little")
            if data[0] & 0x10 and rate in self.RATES[:-1] and self.mode is None:
                self.control[24:26] = data[24:26]
        elif uuid == movella.MEASUREMENT_CONTROL_UUID and len(data) == 3 and data[0] == 1:
            self.mode = data[2] if data[1] == 1 else None

    def packets(self, t: np.ndarray, acc: np.ndarray, gyr: np.ndarray,
                device_time: DeviceTime) -> Packets:
        """One medium-payload notification per sample: little-endian uint32 µs, 3×float32
        m/s², 3×float32 °/s, 12 zero bytes.

        Parameters
        ----------
        t : numpy.ndarray
            World times, shape (N,), s.
        acc : numpy.ndarray
            Acceleration, shape (N, 3), m/s², sensor frame.
        gyr : numpy.ndarray
            Angular rate, shape (N, 3), rad/s, sensor frame.
        device_time : DeviceTime
            Maps world time to the device's clock, s.

        Returns
        -------
        Packets
            ``[(uuid, bytes)]`` notifications, in sending order.
        """
        us = (np.round(device_time(t) * 1e6).astype(np.int64) & 0xFFFFFFFF)
        return [(movella.MEDIUM_UUID, struct.pack("<I3f3f", int(u), *a, *(g / DEG)) + bytes(12))
                for u, a, g in zip(us, acc, gyr, strict=True)]


def emulate(answer: Answer, variant: None, battery_v: float) -> DotDevice:
    """The emulated device of a peripheral (one model).

    Parameters
    ----------
    answer : Answer
        ``answer(uuid, bytes)``: sends a notification to the client.
    variant : None
        The model (this vendor has one).
    battery_v : float
        The battery voltage, V (not reported by this model).

    Returns
    -------
    DotDevice
        A device in its power-up state.
    """
    return DotDevice(answer)
