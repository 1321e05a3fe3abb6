"""The toy device: starts at a rate it offers (50 or 100 Hz), refuses any other."""

from __future__ import annotations

import struct

import numpy as np

from sensor_io.vendors.base import Answer, DeviceTime, Packets
from toy_vendor.gatt import CONTROL_UUID, DATA_UUID


class ToyDevice:
    samples_per_packet = 5
    chars = ((CONTROL_UUID, ["write", "notify"]), (DATA_UUID, ["notify"]))

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.rate_hz = 50.0
        self.streaming = False

    def on_subscribe(self, uuid: str) -> None:
        return None

    def on_read(self, uuid: str) -> bytes:
        return b""

    def on_write(self, uuid: str, data: bytes) -> None:
        if uuid != CONTROL_UUID or not data:
            return
        if data[0] == 1 and len(data) == 3:
            rate = int.from_bytes(data[1:3], "little")
            ok = rate in (50, 100)
            if ok:
                self.rate_hz, self.streaming = float(rate), True
            self.answer(CONTROL_UUID, bytes([0x81, 0 if ok else 1]))
        elif data[0] == 2:
            self.streaming = False

    def packets(self, t: np.ndarray, acc: np.ndarray, gyr: np.ndarray,
                device_time: DeviceTime) -> Packets:
        us = int(round(device_time(t[:1])[0] * 1e6)) & 0xFFFFFFFF
        body = np.column_stack([acc, gyr]).astype("<f4").tobytes()
        return [(DATA_UUID, struct.pack("<I", us) + body)]


def emulate(answer: Answer, variant: None, battery_v: float) -> ToyDevice:
    return ToyDevice(answer)
