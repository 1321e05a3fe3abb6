"""The emulated WitMotion BWT901BLE, written from the BLE 5.0 protocol document,
*not* from :mod:`.protocol`: a configuration write before unlock is ignored."""

from __future__ import annotations

import struct

import numpy as np

from sensor_io.vendors.base import Answer, DeviceTime, Packets
from sensor_io.vendors.common import DEG, STANDARD_GRAVITY
from sensor_io.vendors.witmotion import protocol as witmotion


class WitMotionDevice:
    """BWT901BLE (BLE 5.0 protocol): streams ``55 61`` frames whenever notifications are
    on; ``FF AA REG DL DH`` writes take effect only after unlock ``FF AA 69 88 B5``;
    ``FF AA 27 REG 00`` is answered by ``55 71 REG 00`` + 8 int16 registers.

    Parameters
    ----------
    answer : Answer
        ``answer(uuid, bytes)``: sends a notification to the client.
    battery_v : float
        The battery voltage register 0x64 reads (0.01 V units), V.
    """

    samples_per_packet = 1
    chars = ((witmotion.NOTIFY_UUID, ["notify"]),
             (witmotion.WRITE_UUID, ["write", "write-without-response"]))
    RATES = {0x01: 0.2, 0x02: 0.5, 0x03: 1.0, 0x04: 2.0, 0x05: 5.0, 0x06: 10.0,
             0x07: 20.0, 0x08: 50.0, 0x09: 100.0, 0x0B: 200.0}

    def __init__(self, answer: Answer, battery_v: float = 3.9) -> None:
        self.answer = answer
        self.registers = {0x03: 0x06, 0x64: round(battery_v * 100)}  # 10 Hz at power-up
        self.unlocked = False
        self.streaming = False

    @property
    def rate_hz(self) -> float:
        """The output rate of the rate register's code, Hz (10 at power-up)."""
        return self.RATES.get(self.registers[0x03], 10.0)

    def on_subscribe(self, uuid: str) -> None:
        """Start streaming when the notify characteristic is subscribed to.

        Parameters
        ----------
        uuid : str
            The characteristic subscribed to.
        """
        self.streaming = uuid == witmotion.NOTIFY_UUID

    def on_read(self, uuid: str) -> bytes:
        """Nothing to read (empty): registers are read by command.

        Parameters
        ----------
        uuid : str
            The characteristic read.

        Returns
        -------
        bytes
            Its value.
        """
        return b""

    def on_write(self, uuid: str, data: bytes) -> None:
        """A ``FF AA REG DL DH`` command: register read, unlock, or rate (once unlocked).

        Parameters
        ----------
        uuid : str
            The characteristic written.
        data : bytes
            The bytes written.
        """
        if len(data) != 5 or data[:2] != b"\xff\xaa":
            return
        reg, value = data[2], data[3] | (data[4] << 8)
        if reg == 0x27:
            regs = [self.registers.get(value + k, 0) for k in range(8)]
            self.answer(witmotion.NOTIFY_UUID, bytes([0x55, 0x71, value & 0xFF, value >> 8])
                        + struct.pack("<8h", *regs))
        elif reg == 0x69:
            self.unlocked = value == 0xB588
        elif self.unlocked and reg == 0x03 and value in self.RATES:
            self.registers[0x03] = value

    def packets(self, t: np.ndarray, acc: np.ndarray, gyr: np.ndarray,
                device_time: DeviceTime) -> Packets:
        """One ``55 61`` frame per sample: 9 × int16 LE (acc ±16 g, gyro ±2000 °/s, zero
        angles), untimed.

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
        raw = np.column_stack([acc / (16 * STANDARD_GRAVITY), gyr / (2000 * DEG),
                               np.zeros((len(t), 3))]) * 32768
        raw = np.clip(np.round(raw), -32768, 32767).astype("<i2")
        return [(witmotion.NOTIFY_UUID, b"\x55\x61" + row.tobytes()) for row in raw]


def emulate(answer: Answer, variant: None, battery_v: float) -> WitMotionDevice:
    """The emulated device of a peripheral; ``battery_v`` (V) is what its register reads.

    Parameters
    ----------
    answer : Answer
        ``answer(uuid, bytes)``: sends a notification to the client.
    variant : None
        The model (this vendor has one).
    battery_v : float
        The battery voltage, V.

    Returns
    -------
    WitMotionDevice
        A device in its power-up state.
    """
    return WitMotionDevice(answer, battery_v)
