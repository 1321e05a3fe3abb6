"""The toy protocol.  Start: ``01 RATE(uint16 Hz)`` on the control point, answered
``81 STATUS`` (0: started); stop: ``02``.  Data: uint32 µs device time of the first
sample, then per sample acc 3×float32 m/s² and gyr 3×float32 rad/s (sensor frame)."""

from __future__ import annotations

import struct

import numpy as np

from sensor_io.vendors.common import (
    Command,
    CommandIO,
    DecoderStats,
    DeviceProfile,
    DeviceRejected,
    ProtocolError,
    Samples,
    Started,
    nearest,
)
from toy_vendor.gatt import CONTROL_UUID, DATA_UUID, SERVICE_UUID

RATES_HZ = (50.0, 100.0)
SAMPLE_BYTES = 24


class ToyDecoder:
    """Toy data packets to samples on the device clock."""

    def __init__(self, rate_hz: float) -> None:
        self.rate_hz = rate_hz
        self.stats = DecoderStats()

    def feed(self, char_uuid: str, data: bytes) -> Samples:
        if char_uuid != DATA_UUID:
            return Samples.empty(timed=True)
        if len(data) < 4 or (len(data) - 4) % SAMPLE_BYTES:
            self.stats.reject(ProtocolError(f"toy packet of {len(data)} bytes"))
            return Samples.empty(timed=True)
        t0 = struct.unpack_from("<I", data)[0] / 1e6
        values = np.frombuffer(data, "<f4", offset=4).reshape(-1, 6).astype(float)
        t = t0 + np.arange(len(values)) / self.rate_hz
        self.stats.packets += 1
        self.stats.samples += len(values)
        return Samples(values[:, :3], values[:, 3:], t)


async def start(io: CommandIO, wanted_hz: float, decoder: ToyDecoder) -> Started:
    rate = nearest(RATES_HZ, wanted_hz)
    (answer,) = await io.request(
        Command(CONTROL_UUID, b"\x01" + int(rate).to_bytes(2, "little")),
        lambda uuid, data: uuid == CONTROL_UUID and data[:1] == b"\x81", "toy start")
    if answer[1:2] != b"\x00":
        raise DeviceRejected(f"toy start refused (status {answer[1]})")
    decoder.rate_hz = rate
    return Started(rate, f"{rate:g} Hz")


async def stop(io: CommandIO) -> None:
    await io.write(Command(CONTROL_UUID, b"\x02"))


PROFILE = DeviceProfile(
    model="Toy IMU",
    service_uuid=SERVICE_UUID,
    notify_uuids=(CONTROL_UUID, DATA_UUID),
    write_uuid=CONTROL_UUID,
    name_prefixes=("TOY",),
    rates_hz=RATES_HZ,
    start=start,  # type: ignore[arg-type]
    stop=stop,
    decoder=ToyDecoder,
    timed=True,
)
