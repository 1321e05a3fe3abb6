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
    ``FF AA 27 REG 00`` is answered by ``55 71 REG 00`` + 8 int16 registers."""

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
        return self.RATES.get(self.registers[0x03], 10.0)

    def on_subscribe(self, uuid: str) -> None:
        self.streaming = uuid == witmotion.NOTIFY_UUID

    def on_read(self, uuid: str) -> bytes:
        return b""

    def on_write(self, uuid: str, data: bytes) -> None:
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
        raw = np.column_stack([acc / (16 * STANDARD_GRAVITY), gyr / (2000 * DEG),
                               np.zeros((len(t), 3))]) * 32768
        raw = np.clip(np.round(raw), -32768, 32767).astype("<i2")
        return [(witmotion.NOTIFY_UUID, b"\x55\x61" + row.tobytes()) for row in raw]


def emulate(answer: Answer, variant: None, battery_v: float) -> WitMotionDevice:
    """The emulated device of a peripheral; ``battery_v`` (V) is what its register reads."""
    return WitMotionDevice(answer, battery_v)
