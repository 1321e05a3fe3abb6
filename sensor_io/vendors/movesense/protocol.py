"""Movesense GATT SensorData Protocol (GSP): the ``gatt_sensordata_app`` firmware sample
of movesense-device-lib (``samples/gatt_sensordata_app/GATTSensorDataClient.cpp``).

- service ``34802252-7185-4d5d-b431-630e7050e8f0``; commands are written to
  ``34800001-…``, answers and data are notified on ``34800002-…``.
- Commands: ``CMD REF <data>``; REF is a client-chosen uint8 that must not be zero (the
  firmware marks a free subscription slot by reference 0).  ``00 REF`` hello, answered
  ``01 REF 'Hello'``; ``01 REF <path>`` subscribe to a Whiteboard resource path with
  its leading slash (``/Meas/IMU6/52``), whose data then come as ``02 REF <payload>``;
  ``02 REF`` unsubscribe (REF as given to subscribe).
- ``01 REF <status uint16>``: a command's result; the firmware writes it high byte first
  (507, no free subscription slot, is ``01 REF 01 FB``).  A successful subscribe is
  answered by its data only.  ``03 REF <payload>``: the second part of a data packet too
  long for one notification (later firmware).
- Payloads (SBEM as the firmware serialises them): uint32 LE timestamp in ms (device
  clock, first sample of the packet), then the arrays of N samples each, float32 LE:
  ``/Meas/IMU6``: acc (m/s²), gyro (°/s), N = (len − 4)/24; ``/Meas/IMU9``: acc, gyro,
  magnetometer (µT), N = (len − 4)/36.  A payload is decoded only by the schema of the
  path subscribed under its reference: 292 bytes are 12 IMU6 samples *or* 8 IMU9 ones.

GSP has no GET, so the device's ``/Meas/IMU/Info`` cannot be read through it: the rate is
chosen from the documented list (13 … 1666 Hz) and the subscription's data confirm it.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

from sensor_io.vendors.common import (
    DEG,
    STANDARD_GRAVITY,
    Command,
    CommandIO,
    DecoderStats,
    DeviceProfile,
    DeviceRejected,
    Plausible,
    ProtocolError,
    Samples,
    Started,
    nearest,
)
from sensor_io.vendors.movesense.gatt import (  # noqa: F401 (the protocol's names)
    NOTIFY_UUID,
    SERVICE_UUID,
    WRITE_UUID,
)

CMD_HELLO = 0x00
CMD_SUBSCRIBE = 0x01
CMD_UNSUBSCRIBE = 0x02
RESP_COMMAND_RESULT = 0x01
RESP_DATA = 0x02
RESP_DATA_PART2 = 0x03
HELLO_ANSWER = b"Hello"

HELLO_REF = 0x01
IMU_REF = 0x63  # 99, the reference the GSP examples use for their subscription
RATES_HZ = (13.0, 26.0, 52.0, 104.0, 208.0, 416.0, 833.0, 1666.0)
SCHEMA_ARRAYS = {"IMU6": 2, "IMU9": 3}  # float32 triplet arrays per sample

# LSM6DS3 / LSM303AGR largest full scales (the firmware's range may be smaller)
PLAUSIBLE = Plausible(acc_max=16 * STANDARD_GRAVITY, gyr_max=2000 * DEG, mag_max=4915.0)


def hello(ref: int = HELLO_REF) -> bytes:
    """Hello command ``00 REF`` (answered ``01 REF 'Hello'``).

    Parameters
    ----------
    ref : int
        The reference, 1-255.

    Returns
    -------
    bytes
        The 2-byte command.
    """
    return bytes([CMD_HELLO, _ref(ref)])


def subscribe(path: str, ref: int = IMU_REF) -> bytes:
    """Subscribe command for a resource path such as ``/Meas/IMU6/104``.

    Parameters
    ----------
    path : str
        The Whiteboard resource path, with its leading slash.
    ref : int
        The reference its data will carry, 1-255.

    Returns
    -------
    bytes
        ``01 REF`` then the path in ASCII.
    """
    if not path.startswith("/"):
        raise ProtocolError(f"Movesense resource path {path!r} must start with '/'")
    return bytes([CMD_SUBSCRIBE, _ref(ref)]) + path.encode("ascii")


def unsubscribe(ref: int = IMU_REF) -> bytes:
    """Unsubscribe command ``02 REF``.

    Parameters
    ----------
    ref : int
        The reference given to subscribe, 1-255.

    Returns
    -------
    bytes
        The 2-byte command.
    """
    return bytes([CMD_UNSUBSCRIBE, _ref(ref)])


def _ref(ref: int) -> int:
    if not 1 <= ref <= 255:
        raise ProtocolError(f"GSP reference {ref} must be 1…255 (0 is never answered)")
    return ref


def imu_path(rate_hz: float, schema: str = "IMU6") -> str:
    """``/Meas/IMU6/<rate>`` or ``/Meas/IMU9/<rate>`` for a documented rate.

    Parameters
    ----------
    rate_hz : float
        One of RATES_HZ, Hz.
    schema : str
        "IMU6" (acc, gyro) or "IMU9" (acc, gyro, magnetometer).

    Returns
    -------
    str
        The resource path.
    """
    if rate_hz not in RATES_HZ:
        raise ProtocolError(f"Movesense IMU rate {rate_hz} Hz not supported "
                            f"(choose from {list(RATES_HZ)})")
    if schema not in SCHEMA_ARRAYS:
        raise ProtocolError(f"Movesense schema {schema} not handled")
    return f"/Meas/{schema}/{int(rate_hz)}"


def schema_of(path: str) -> str:
    """``IMU6``/``IMU9`` from a subscription path (ProtocolError for anything else).

    Parameters
    ----------
    path : str
        A path ``/Meas/IMU6|IMU9/<rate>``.

    Returns
    -------
    str
        "IMU6" or "IMU9".
    """
    parts = path.strip("/").split("/")
    if len(parts) != 3 or parts[0] != "Meas" or parts[1] not in SCHEMA_ARRAYS:
        raise ProtocolError(f"Movesense path {path!r} is not /Meas/IMU6|IMU9/<rate>")
    return parts[1]


def parse_result(data: bytes) -> int | str:
    """A command result ``01 REF …``: its status code, or the hello answer's text.

    Parameters
    ----------
    data : bytes
        The notification.

    Returns
    -------
    int or str
        The status (uint16, high byte first; 200 OK), or "Hello".
    """
    if len(data) < 3 or data[0] != RESP_COMMAND_RESULT:
        raise ProtocolError(f"not a GSP command result: {bytes(data).hex(' ')}")
    if data[2:] == HELLO_ANSWER:
        return HELLO_ANSWER.decode()
    if len(data) != 4:
        raise ProtocolError(f"GSP command result of {len(data)} bytes: {bytes(data).hex(' ')}")
    return int.from_bytes(data[2:4], "big")


def decode_imu(payload: bytes, rate_hz: float, schema: str = "IMU6") -> Samples:
    """Decode one IMU6/IMU9 payload (after the ``02 REF`` header).

    Parameters
    ----------
    payload : bytes
        uint32 LE timestamp (ms, device clock), then N samples of each array, float32 LE:
        acc (m/s²), gyro (°/s)[, magnetometer (µT)].
    rate_hz : float
        The subscribed rate, Hz (spaces the samples).
    schema : str
        "IMU6" or "IMU9".

    Returns
    -------
    Samples
        acc (N, 3) m/s², gyr (N, 3) rad/s, mag (N, 3) µT for IMU9, sensor frame;
        t_device_s (N,) s: the packet timestamp for the first sample, then 1/rate_hz apart.
    """
    arrays = SCHEMA_ARRAYS[schema]
    size = 12 * arrays
    if len(payload) < 4 + size or (len(payload) - 4) % size:
        raise ProtocolError(f"Movesense {schema} payload of {len(payload)} bytes is not "
                            f"4 + N×{size}")
    (ts_ms,) = struct.unpack_from("<I", payload, 0)
    n = (len(payload) - 4) // size
    vals = np.frombuffer(payload, dtype="<f4", offset=4).astype(np.float64).reshape(arrays, n, 3)
    t = ts_ms / 1000.0 + np.arange(n) / rate_hz
    return Samples(acc=vals[0], gyr=vals[1] * DEG, t_device_s=t,
                   mag=vals[2] if arrays == 3 else None)


@dataclass
class _Subscription:
    schema: str
    rate_hz: float


class MovesenseDecoder:
    """Stateful GSP decoder: data routed by reference to the schema subscribed under it
    (an unknown reference is never decoded), DATA_PART2 continuations joined, the uint32
    ms device clock unwrapped, command results in :attr:`results` (hello answers in
    :attr:`hello`), implausible samples dropped and counted.

    Parameters
    ----------
    rate_hz : float
        The subscribed rate, Hz.
    ref : int
        The subscription's reference.
    schema : str
        "IMU6" or "IMU9".
    """

    def __init__(self, rate_hz: float = 104.0, ref: int = IMU_REF, schema: str = "IMU6") -> None:
        self.stats = DecoderStats()
        self.subs: dict[int, _Subscription] = {}
        self.subscribe(ref, schema, rate_hz)
        self.results: dict[int, int] = {}  # ref -> status (200 OK)
        self.hello: set[int] = set()       # refs whose hello was answered
        self._pending: dict[int, bytes] = {}
        self._wraps = 0
        self._last_ms: int | None = None
        self._last_t: float | None = None

    def subscribe(self, ref: int, schema: str, rate_hz: float) -> None:
        """Decode data under ``ref`` by ``schema`` (IMU6/IMU9) at ``rate_hz``.

        Parameters
        ----------
        ref : int
            The subscription's reference.
        schema : str
            "IMU6" or "IMU9".
        rate_hz : float
            The subscribed rate, Hz.
        """
        self.subs = {ref: _Subscription(schema, rate_hz)}
        self.rate_hz = rate_hz

    def feed(self, char_uuid: str, data: bytes) -> Samples:
        """Decode one notification: a command result is recorded, data decoded by its
        reference's schema (a first part waits for its continuation).

        Parameters
        ----------
        char_uuid : str
            The characteristic that notified.
        data : bytes
            The notification's value.

        Returns
        -------
        Samples
            acc m/s², gyr rad/s[, mag µT], sensor frame, t_device_s s (unwrapped); possibly
            none.
        """
        data = bytes(data)
        if len(data) < 2:
            self.stats.reject(ProtocolError("Movesense notification shorter than 2 bytes"))
            return Samples.empty(timed=True)
        kind, ref = data[0], data[1]
        if kind == RESP_COMMAND_RESULT:
            return self._result(data)
        if ref not in self.subs or kind not in (RESP_DATA, RESP_DATA_PART2):
            self.stats.reject(ProtocolError(f"Movesense packet type {kind} ref {ref} unknown"))
            return Samples.empty(timed=True)
        size = 12 * SCHEMA_ARRAYS[self.subs[ref].schema]
        if kind == RESP_DATA:
            out = []
            if ref in self._pending:  # a first part whose continuation never came
                out.append(self._decode(ref, self._pending.pop(ref)))
            payload = data[2:]
            if len(payload) >= 4 and (len(payload) - 4) % size == 0:
                out.append(self._decode(ref, payload))
            else:
                self._pending[ref] = payload  # wait for DATA_PART2
            return Samples.concat(out) if out else Samples.empty(timed=True)
        if ref not in self._pending:
            self.stats.reject(ProtocolError("Movesense DATA_PART2 without a first part"))
            return Samples.empty(timed=True)
        return self._decode(ref, self._pending.pop(ref) + data[2:])

    def _result(self, data: bytes) -> Samples:
        try:
            result = parse_result(data)
        except ProtocolError as err:
            self.stats.reject(err)
            return Samples.empty(timed=True)
        if isinstance(result, str):
            self.hello.add(data[1])
        else:
            self.results[data[1]] = result
            if result >= 400 and data[1] in self.subs:
                self.stats.notices.append(f"the device refused the subscription "
                                          f"(status {result})")
        self.stats.packets += 1
        return Samples.empty(timed=True)

    def _decode(self, ref: int, payload: bytes) -> Samples:
        sub = self.subs[ref]
        try:
            out = decode_imu(payload, sub.rate_hz, sub.schema)
        except ProtocolError as err:
            self.stats.reject(err)
            return Samples.empty(timed=True)
        ms = struct.unpack_from("<I", payload, 0)[0]
        if self._last_ms is not None and ms + 0x80000000 < self._last_ms:
            self._wraps += 1
        self._last_ms = ms
        out.t_device_s = out.t_device_s + self._wraps * (2**32 / 1000.0)
        self.stats.packets += 1
        out = PLAUSIBLE.check(out, self.stats, self._last_t)
        if len(out):
            self._last_t = float(out.t_device_s[-1])
        self.stats.samples += len(out)
        return out


def _is_hello(ref: int):
    return lambda uuid, d: (uuid == NOTIFY_UUID and len(d) >= 2
                            and d[0] == RESP_COMMAND_RESULT and d[1] == ref)


def _subscription_answer(ref: int):
    """A result for ``ref`` (an error) or its first data: the firmware answers a
    successful subscribe with data only."""
    return lambda uuid, d: (uuid == NOTIFY_UUID and len(d) >= 2 and d[1] == ref
                            and d[0] in (RESP_COMMAND_RESULT, RESP_DATA))


async def start_imu(io: CommandIO, wanted_hz: float, decoder: MovesenseDecoder,
                    schema: str = "IMU6") -> Started:
    """Hello (the GSP firmware must answer it), then subscribe to ``/Meas/<schema>/<rate>``
    at the documented rate nearest to ``wanted_hz`` and await its first data.

    Parameters
    ----------
    io : CommandIO
        The link to the device.
    wanted_hz : float
        The rate asked for, Hz.
    decoder : MovesenseDecoder
        The link's decoder (subscribed here).
    schema : str
        "IMU6" or "IMU9".

    Returns
    -------
    Started
        The rate streamed, Hz, and the setup line; DeviceRejected when the device refuses.
    """
    answer = (await io.request(Command(WRITE_UUID, hello()), _is_hello(HELLO_REF),
                               "Movesense HELLO (is the gatt_sensordata_app firmware "
                               "installed?)"))[0]
    if parse_result(answer) != HELLO_ANSWER.decode():
        raise DeviceRejected(f"Movesense answered HELLO with {answer.hex(' ')}")
    rate = nearest(RATES_HZ, wanted_hz)
    path = imu_path(rate, schema)
    decoder.subscribe(IMU_REF, schema, rate)
    first = (await io.request(Command(WRITE_UUID, subscribe(path, IMU_REF)),
                              _subscription_answer(IMU_REF), f"Movesense subscribe {path}"))[0]
    if first[0] == RESP_COMMAND_RESULT:
        status = parse_result(first)
        if status != 200:
            raise DeviceRejected(f"Movesense refused {path}: status {status}")
    return Started(rate, f"{path} ({rate:g} Hz of {[int(r) for r in RATES_HZ]})")


async def stop_imu(io: CommandIO) -> None:
    """Unsubscribe the IMU stream.

    Parameters
    ----------
    io : CommandIO
        The link to the device.
    """
    await io.write(Command(WRITE_UUID, unsubscribe(IMU_REF)))


PROFILE = DeviceProfile(
    model="Movesense",
    service_uuid=SERVICE_UUID,
    notify_uuids=(NOTIFY_UUID,),
    write_uuid=WRITE_UUID,
    name_prefixes=("Movesense",),
    rates_hz=RATES_HZ,
    start=start_imu,  # type: ignore[arg-type]
    stop=stop_imu,
    decoder=MovesenseDecoder,
    timed=True,
)
