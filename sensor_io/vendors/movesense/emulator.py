"""The emulated Movesense gatt_sensordata_app firmware, written from its source
(GATTSensorDataClient.cpp), *not* from :mod:`.protocol`: a command with reference 0 or a
path without its leading '/' is never answered."""

from __future__ import annotations

import struct

import numpy as np

from sensor_io.vendors.base import Answer, DeviceTime, Packets
from sensor_io.vendors.common import DEG
from sensor_io.vendors.movesense import protocol as movesense


class MovesenseDevice:
    """The gatt_sensordata_app firmware (GATTSensorDataClient.cpp): hello answered
    ``01 REF Hello``, subscriptions by Whiteboard path, data ``02 REF <SBEM>``; a command
    with reference 0 is never answered, an unknown path never streams."""

    samples_per_packet = 4
    chars = ((movesense.WRITE_UUID, ["write", "write-without-response"]),
             (movesense.NOTIFY_UUID, ["notify"]))
    PATHS = {f"/Meas/{s}/{int(r)}": (s, r) for s in ("IMU6", "IMU9")
             for r in (13, 26, 52, 104, 208, 416, 833, 1666)}

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.subs: dict[int, tuple[str, float]] = {}  # ref -> (schema, rate)

    @property
    def streaming(self) -> bool:
        return bool(self.subs)

    @property
    def rate_hz(self) -> float:
        return next(iter(self.subs.values()))[1] if self.subs else 52.0

    def on_subscribe(self, uuid: str) -> None:
        return None

    def on_read(self, uuid: str) -> bytes:
        return b""

    def on_write(self, uuid: str, data: bytes) -> None:
        if uuid != movesense.WRITE_UUID or len(data) < 2 or data[1] == 0:
            return
        cmd, ref = data[0], data[1]
        if cmd == 0:
            self.answer(movesense.NOTIFY_UUID, bytes([1, ref]) + b"Hello")
        elif cmd == 1:
            path = data[2:].decode("ascii", "replace")
            if len(self.subs) >= 8:
                self.answer(movesense.NOTIFY_UUID, bytes([1, ref, 0x01, 0xFB]))  # 507
            elif path in self.PATHS:
                self.subs[ref] = self.PATHS[path]
        elif cmd == 2:
            self.subs.pop(ref, None)

    def packets(self, t: np.ndarray, acc: np.ndarray, gyr: np.ndarray,
                device_time: DeviceTime, mag: np.ndarray | None = None) -> Packets:
        ms = int(device_time(t[:1])[0] * 1000) & 0xFFFFFFFF
        out = []
        for ref, (schema, _) in self.subs.items():
            arrays = [acc, gyr / DEG]
            if schema == "IMU9":
                arrays.append(mag if mag is not None else np.tile([20.0, 0.0, -40.0],
                                                                  (len(t), 1)))
            body = b"".join(np.asarray(a, "<f4").tobytes() for a in arrays)
            out.append((movesense.NOTIFY_UUID, bytes([2, ref]) + struct.pack("<I", ms) + body))
        return out


def emulate(answer: Answer, variant: None, battery_v: float) -> MovesenseDevice:
    """The emulated device of a peripheral (one model)."""
    return MovesenseDevice(answer)
