"""Movesense GATT SensorData Protocol (GSP), as published by Movesense
(``gatt_sensordata_app`` sample in movesense-device-lib).

- service ``34802252-7185-4d5d-b431-630e7050e8f0``; commands are written to
  ``34800001-…``, responses and data are notified on ``34800002-…``.
- Commands: ``00 REF`` hello, ``01 REF <path>`` subscribe (path in ASCII, e.g.
  ``Meas/IMU6/104``), ``02 REF`` unsubscribe.  REF is a client-chosen uint8 that tags the
  subscription's data.
- Notifications: ``01 REF STATUS(uint16 LE)`` command result, ``02 REF <payload>`` data,
  ``03 REF <payload>`` second part of a data packet too long for one notification.
- ``Meas/IMU6`` payload: uint32 LE timestamp in ms (device clock, first sample of the
  packet), then N × 3 float32 LE accelerations (m/s²), then N × 3 float32 LE angular
  rates (°/s); N = (len - 4) / 24.
"""

from __future__ import annotations

import struct

import numpy as np

from sensor_io.protocols.common import (
    DEG,
    Command,
    DecoderStats,
    DeviceProfile,
    ProtocolError,
    Samples,
)

SERVICE_UUID = "34802252-7185-4d5d-b431-630e7050e8f0"
WRITE_UUID = "34800001-7185-4d5d-b431-630e7050e8f0"
NOTIFY_UUID = "34800002-7185-4d5d-b431-630e7050e8f0"

CMD_HELLO = 0x00
CMD_SUBSCRIBE = 0x01
CMD_UNSUBSCRIBE = 0x02
RESP_COMMAND_RESULT = 0x01
RESP_DATA = 0x02
RESP_DATA_PART2 = 0x03

IMU_REF = 0x63  # our tag for the IMU6 subscription
RATES_HZ = (13.0, 26.0, 52.0, 104.0, 208.0, 416.0, 833.0, 1666.0)
SAMPLE_BYTES = 24  # 3 float32 acc + 3 float32 gyro


def hello(ref: int = 0) -> bytes:
    return bytes([CMD_HELLO, ref])


def subscribe(path: str, ref: int = IMU_REF) -> bytes:
    """Subscribe command for a resource path such as ``Meas/IMU6/104``."""
    return bytes([CMD_SUBSCRIBE, ref]) + path.lstrip("/").encode("ascii")


def unsubscribe(ref: int = IMU_REF) -> bytes:
    return bytes([CMD_UNSUBSCRIBE, ref])


def imu6_path(rate_hz: float) -> str:
    if rate_hz not in RATES_HZ:
        raise ProtocolError(f"Movesense IMU rate {rate_hz} Hz not supported "
                            f"(choose from {list(RATES_HZ)})")
    return f"Meas/IMU6/{int(rate_hz)}"


def decode_imu6(payload: bytes, rate_hz: float) -> Samples:
    """Decode one IMU6 payload (after the ``02 REF`` header).

    Returns acc (N, 3) m/s², gyr (N, 3) rad/s, t_device_s (N,) s: the packet timestamp
    for the first sample, then 1/rate_hz apart.
    """
    if len(payload) < 4 + SAMPLE_BYTES or (len(payload) - 4) % SAMPLE_BYTES:
        raise ProtocolError(f"Movesense IMU6 payload of {len(payload)} bytes is not "
                            f"4 + N×{SAMPLE_BYTES}")
    (ts_ms,) = struct.unpack_from("<I", payload, 0)
    n = (len(payload) - 4) // SAMPLE_BYTES
    vals = np.frombuffer(payload, dtype="<f4", offset=4).astype(np.float64)
    acc = vals[: 3 * n].reshape(n, 3)
    gyr = vals[3 * n:].reshape(n, 3) * DEG
    if not (np.all(np.isfinite(acc)) and np.all(np.isfinite(gyr))):
        raise ProtocolError("Movesense IMU6 payload holds non-finite values")
    t = ts_ms / 1000.0 + np.arange(n) / rate_hz
    return Samples(acc=acc, gyr=gyr, t_device_s=t)


def encode_imu6(ts_ms: int, acc: np.ndarray, gyr_rad_s: np.ndarray, ref: int = IMU_REF) -> bytes:
    """The ``02 REF`` notification a sensor sends for samples acc (N, 3) m/s² and
    gyr (N, 3) rad/s (used by the emulated sensor and by tests)."""
    acc = np.asarray(acc, dtype="<f4").reshape(-1, 3)
    gyr = (np.asarray(gyr_rad_s) / DEG).astype("<f4").reshape(-1, 3)
    return (bytes([RESP_DATA, ref]) + struct.pack("<I", ts_ms & 0xFFFFFFFF)
            + acc.tobytes() + gyr.tobytes())


class MovesenseDecoder:
    """Stateful GSP decoder: routes data by reference, joins DATA_PART2 continuations,
    unwraps the uint32 ms device clock, records command results in :attr:`results`."""

    def __init__(self, rate_hz: float = 104.0, ref: int = IMU_REF) -> None:
        self.rate_hz = rate_hz
        self.ref = ref
        self.stats = DecoderStats()
        self.results: dict[int, int] = {}  # ref -> status (200 OK)
        self._pending: bytes | None = None
        self._wraps = 0
        self._last_ms: int | None = None

    def feed(self, char_uuid: str, data: bytes) -> Samples:
        if len(data) < 2:
            self.stats.reject(ProtocolError("Movesense notification shorter than 2 bytes"))
            return Samples.empty(timed=True)
        kind, ref = data[0], data[1]
        if kind == RESP_COMMAND_RESULT:
            if len(data) >= 4:
                self.results[ref] = struct.unpack_from("<H", data, 2)[0]
            self.stats.packets += 1
            return Samples.empty(timed=True)
        if ref != self.ref or kind not in (RESP_DATA, RESP_DATA_PART2):
            self.stats.reject(ProtocolError(f"Movesense packet type {kind} ref {ref} unknown"))
            return Samples.empty(timed=True)
        if kind == RESP_DATA:
            payload = data[2:]
            if self._pending is not None:  # a first part whose continuation never came
                self._decode(self._pending)
            self._pending = None
            if len(payload) >= 4 and (len(payload) - 4) % SAMPLE_BYTES == 0:
                return self._decode(payload)
            self._pending = payload  # wait for DATA_PART2
            return Samples.empty(timed=True)
        if self._pending is None:
            self.stats.reject(ProtocolError("Movesense DATA_PART2 without a first part"))
            return Samples.empty(timed=True)
        payload, self._pending = self._pending + data[2:], None
        return self._decode(payload)

    def _decode(self, payload: bytes) -> Samples:
        try:
            out = decode_imu6(payload, self.rate_hz)
        except ProtocolError as err:
            self.stats.reject(err)
            return Samples.empty(timed=True)
        ms = struct.unpack_from("<I", payload, 0)[0]
        if self._last_ms is not None and ms + 0x80000000 < self._last_ms:
            self._wraps += 1
        self._last_ms = ms
        out.t_device_s = out.t_device_s + self._wraps * (2**32 / 1000.0)
        self.stats.packets += 1
        self.stats.samples += len(out)
        return out


def _start(rate_hz: float) -> list[Command]:
    return [Command(WRITE_UUID, hello()), Command(WRITE_UUID, subscribe(imu6_path(rate_hz)))]


def _stop() -> list[Command]:
    return [Command(WRITE_UUID, unsubscribe())]


PROFILE = DeviceProfile(
    model="Movesense",
    service_uuid=SERVICE_UUID,
    notify_uuids=(NOTIFY_UUID,),
    write_uuid=WRITE_UUID,
    name_prefixes=("Movesense",),
    rates_hz=RATES_HZ[:5],
    start=_start,
    stop=_stop,
    decoder=MovesenseDecoder,
    timed=True,
)
