"""Polar Measurement Data (PMD) protocol: Verity Sense, OH1, H10.

Written from Polar's documents in the polar-ble-sdk repository ("Polar Measurement Data
Specification for 3rd Party", ``technical_documentation/online_measurement.pdf``) and the
SDK's reading of them (``PmdControlPointResponse``, ``PmdSetting``, ``AccData``,
``PmdTimeStampUtils``).

- service ``fb005c80-02e7-f387-1cad-8acd2d8df0c8``; control point ``fb005c81-…``
  (read, write, indicate), data ``fb005c82-…`` (notify).
- Feature read: reading the control point gives ``0F <bitmask>``; bit k of byte 1 set
  means measurement type k is available (ECG 0, PPG 1, ACC 2, PPI 3, GYRO 5, MAG 6).
- Requests: ``01 TYPE`` get settings, ``02 TYPE <settings>`` start, ``03 TYPE`` stop.
  Settings are TLV ``KIND COUNT VALUE…``: sample rate 0, resolution 1, range 2 (uint16),
  range milliunit 3 (4 bytes), channels 4 (uint8), factor 5 (float32), security 6
  (16 bytes).  A start sends every setting the device listed, one value each.
- Answers: ``F0 OP TYPE STATUS MORE <parameters>``; STATUS 0 = success (the others are
  :data:`REASONS`); MORE ≠ 0: the parameters continue in the next answer.  A start answer
  may carry the stream's FACTOR; a parameter block of one byte or less carries nothing
  (the H10 answers ``F0 02 02 00 00 01``).  ``01 TYPE…`` (not ``F0``): the device stopped
  those online measurements.
- Data: ``TYPE TIMESTAMP(uint64 LE, ns since 2000-01-01, of the *last* sample)
  FRAME_TYPE <samples>``; FRAME_TYPE bit 7 = delta compressed, bits 0-6 the type.
  Delta frame: a reference sample (channels × resolution/8 bytes), then blocks
  ``BIT_WIDTH COUNT <COUNT × channels deltas, two's complement, packed LSB first>``.
- ACC units (the SDK's rule): uncompressed frames are mG; compressed type 0 counts are
  G × FACTOR, so mG = count × float32(FACTOR × 1000) truncated toward zero; compressed
  type 1 is mG = count × FACTOR truncated (count itself when FACTOR is 1).  GYRO:
  compressed type 0 is °/s = count × FACTOR.

Timestamps.  The SDK spreads a frame's samples evenly from the previous frame's last
timestamp to this one's, (ts − ts_prev)/n apart.  That is right for back-to-back frames
and it absorbs the Polar clock's drift (its sample period is not exactly 1/rate), but
after lost frames it stretches the samples over the gap.  Here the samples are spaced
by the *measured* period (the drift-corrected one, fitted over back-to-back frames)
back from the frame's timestamp, which equals the SDK's result for back-to-back frames
and keeps the samples where they were measured after a gap.
Always send stop for every started stream: the device keeps measuring otherwise.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

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
from sensor_io.vendors.polar.gatt import (  # noqa: F401 (the protocol's names)
    BATTERY_LEVEL_UUID,
    CONTROL_UUID,
    DATA_UUID,
    SERVICE_UUID,
)

OP_GET_SETTINGS = 0x01
OP_START = 0x02
OP_STOP = 0x03
RESPONSE = 0xF0
FEATURES = 0x0F
MEASUREMENT_STOPPED = 0x01  # device -> host, first byte of a control-point indication
TYPE_ECG, TYPE_PPG, TYPE_ACC, TYPE_PPI, TYPE_GYRO, TYPE_MAG = 0, 1, 2, 3, 5, 6
TYPE_NAMES = {TYPE_ECG: "ECG", TYPE_PPG: "PPG", TYPE_ACC: "ACC", TYPE_PPI: "PPI",
              TYPE_GYRO: "GYRO", TYPE_MAG: "MAGNETOMETER"}

SETTING_SAMPLE_RATE = 0
SETTING_RESOLUTION = 1
SETTING_RANGE = 2
SETTING_RANGE_MILLIUNIT = 3
SETTING_CHANNELS = 4
SETTING_FACTOR = 5
SETTING_SECURITY = 6
_SETTING_SIZE = {SETTING_SAMPLE_RATE: 2, SETTING_RESOLUTION: 2, SETTING_RANGE: 2,
                 SETTING_RANGE_MILLIUNIT: 4, SETTING_CHANNELS: 1, SETTING_FACTOR: 4,
                 SETTING_SECURITY: 16}

REASONS = {0: "success", 1: "invalid op code", 2: "invalid measurement type",
           3: "not supported", 4: "invalid length", 5: "invalid parameter",
           6: "already in state", 7: "invalid resolution", 8: "invalid sample rate",
           9: "invalid range", 10: "invalid MTU", 11: "invalid number of channels",
           12: "invalid state", 13: "device in charger", 14: "disk full"}

COMPRESSED = 0x80
HEADER_LEN = 10
MAX_WAIT_S = 2.0  # how long ACC samples wait for GYRO partners (s, device clock)
CHANNELS = 3

RATES_HZ = (26.0, 52.0, 104.0, 208.0, 416.0)  # Verity Sense (documentation/products)
ACC_RANGE_G = 8  # wanted: the smallest offered range at or above it
GYRO_RANGE_DPS = 2000


# -- settings and control point ------------------------------------------------------------
def encode_settings(settings: dict[int, list[int | float]]) -> bytes:
    """PMD TLV for {kind: [values]} in kind order (FACTOR values are float32).

    Parameters
    ----------
    settings : dict of int to list
        Setting kind -> its values.

    Returns
    -------
    bytes
        ``KIND COUNT VALUE…`` per kind, values little-endian (uint16 rate, resolution and
        range; 4-byte range milliunit; uint8 channels; float32 factor; 16-byte security).
    """
    out = bytearray()
    for kind in sorted(settings):
        values = settings[kind]
        out += bytes([kind, len(values)])
        for v in values:
            out += (struct.pack("<f", float(v)) if kind == SETTING_FACTOR
                    else int(v).to_bytes(_SETTING_SIZE[kind], "little"))
    return bytes(out)


def parse_settings(data: bytes) -> dict[int, list[int | float]]:
    """{kind: [values]} from a PMD TLV parameter block; a block of one byte or less
    carries no settings (the SDK's rule: the H10's start answer has one byte ``01``).

    Parameters
    ----------
    data : bytes
        The parameter block (little-endian TLV).

    Returns
    -------
    dict of int to list
        Setting kind -> its values; ProtocolError for a malformed or truncated block.
    """
    out: dict[int, list[int | float]] = {}
    if len(data) <= 1:
        return out
    i = 0
    while i < len(data):
        if len(data) - i < 2 or data[i] not in _SETTING_SIZE:
            raise ProtocolError(f"PMD settings malformed at byte {i}: {data.hex(' ')}")
        kind, count = data[i], data[i + 1]
        size = _SETTING_SIZE[kind]
        i += 2
        if len(data) - i < size * count:
            raise ProtocolError(f"PMD settings truncated: {data.hex(' ')}")
        vals: list[int | float] = []
        for _ in range(count):
            chunk = data[i:i + size]
            vals.append(struct.unpack("<f", chunk)[0] if kind == SETTING_FACTOR
                        else int.from_bytes(chunk, "little"))
            i += size
        out[kind] = vals
    return out


def get_settings(kind: int) -> bytes:
    """Get-settings request ``01 TYPE``.

    Parameters
    ----------
    kind : int
        The measurement type (ACC 2, GYRO 5, ...).

    Returns
    -------
    bytes
        The 2-byte request.
    """
    return bytes([OP_GET_SETTINGS, kind])


def start_request(kind: int, selected: dict[int, int]) -> bytes:
    """``02 TYPE`` + one value of every selected setting (FACTOR is never sent).

    Parameters
    ----------
    kind : int
        The measurement type (ACC 2, GYRO 5, ...).
    selected : dict of int to int
        Setting kind -> the value chosen.

    Returns
    -------
    bytes
        The start request.
    """
    return bytes([OP_START, kind]) + encode_settings(
        {k: [v] for k, v in selected.items() if k != SETTING_FACTOR})


def stop(kind: int) -> bytes:
    """Stop request ``03 TYPE``.

    Parameters
    ----------
    kind : int
        The measurement type (ACC 2, GYRO 5, ...).

    Returns
    -------
    bytes
        The 2-byte request.
    """
    return bytes([OP_STOP, kind])


def parse_features(data: bytes) -> set[int]:
    """Measurement types a device offers, from its control-point read ``0F <bitmask>``.

    Parameters
    ----------
    data : bytes
        The control-point read.

    Returns
    -------
    set of int
        The types whose bit is set (bit k of the bytes after ``0F``, LSB first).
    """
    if len(data) < 2 or data[0] != FEATURES:
        raise ProtocolError(f"not a PMD feature read: {bytes(data).hex(' ')}")
    return {8 * k + b for k, byte in enumerate(data[1:]) for b in range(8) if byte >> b & 1}


def feature_bytes(types: set[int]) -> bytes:
    """The feature read a device offering ``types`` answers (emulator).

    Parameters
    ----------
    types : set of int
        The measurement types offered.

    Returns
    -------
    bytes
        ``0F`` then a little-endian uint16 bitmask.
    """
    mask = sum(1 << t for t in types)
    return bytes([FEATURES]) + mask.to_bytes(2, "little")


class ControlResponse:
    """One control-point answer ``F0 OP TYPE STATUS MORE <parameters>``.

    Parameters
    ----------
    data : bytes
        The indication (ProtocolError when it is not an answer).
    """

    def __init__(self, data: bytes) -> None:
        if len(data) < 4 or data[0] != RESPONSE:
            raise ProtocolError(f"not a PMD control point answer: {bytes(data).hex(' ')}")
        self.op, self.kind, self.status = data[1], data[2], data[3]
        ok = self.status == 0
        self.more = ok and len(data) > 4 and data[4] != 0
        self.params = bytes(data[5:]) if ok else b""

    @property
    def reason(self) -> str:
        """The status in words (:data:`REASONS`)."""
        return REASONS.get(self.status, f"error {self.status}")


def parse_control_response(data: bytes) -> tuple[int, int, int, dict[int, list[int | float]]]:
    """(op, type, status, settings) of one complete control-point answer.

    Parameters
    ----------
    data : bytes
        The answer.

    Returns
    -------
    tuple
        (op code, measurement type, status (0 = success), settings {kind: [values]}).
    """
    r = ControlResponse(data)
    return r.op, r.kind, r.status, parse_settings(r.params)


def joined_answer(parts: list[bytes]) -> ControlResponse:
    """One answer from its notifications (MORE ≠ 0 continues in the next one).

    Parameters
    ----------
    parts : list of bytes
        The answer's notifications, in order.

    Returns
    -------
    ControlResponse
        The first part with every part's parameters joined.
    """
    first = ControlResponse(parts[0])
    first.params = first.params + b"".join(ControlResponse(p).params for p in parts[1:])
    return first


def _answers(op: int, kind: int) -> Callable[[str, bytes], bool]:
    return lambda uuid, d: (uuid == CONTROL_UUID and len(d) >= 3 and d[0] == RESPONSE
                            and d[1] == op and d[2] == kind)


def _complete(parts: list[bytes]) -> bool:
    return not ControlResponse(parts[-1]).more


# -- the command layer ---------------------------------------------------------------------
async def read_features(io: CommandIO) -> set[int]:
    """The measurement types the device offers (control-point read).

    Parameters
    ----------
    io : CommandIO
        The link to the device.

    Returns
    -------
    set of int
        The measurement types.
    """
    return parse_features(await io.read(CONTROL_UUID))


async def query_settings(io: CommandIO, kind: int) -> dict[int, list[int | float]]:
    """The settings the device offers for measurement ``kind`` (MORE answers joined).

    Parameters
    ----------
    io : CommandIO
        The link to the device.
    kind : int
        The measurement type (ACC 2, GYRO 5, ...).

    Returns
    -------
    dict of int to list
        Setting kind -> the values offered; DeviceRejected with the device's reason.
    """
    name = TYPE_NAMES.get(kind, str(kind))
    parts = await io.request(Command(CONTROL_UUID, get_settings(kind)),
                             _answers(OP_GET_SETTINGS, kind), f"Polar {name} settings request",
                             done=_complete)
    answer = joined_answer(parts)
    if answer.status:
        raise DeviceRejected(f"Polar refused the {name} settings request: {answer.reason}")
    return parse_settings(answer.params)


def choose_settings(offered: dict[int, list[int | float]], rate_hz: float,
                    range_: int) -> dict[int, int]:
    """One value of every offered setting: the given rate (must be offered), the smallest
    range at or above ``range_`` (else the largest), the largest of anything else
    (resolution, channels: the SDK's choice).

    Parameters
    ----------
    offered : dict of int to list
        The settings offered (:func:`query_settings`).
    rate_hz : float
        The sample rate, Hz.
    range_ : int
        The wanted range (g for ACC, °/s for GYRO).

    Returns
    -------
    dict of int to int
        Setting kind -> the value chosen (FACTOR and security left out).
    """
    out: dict[int, int] = {}
    for kind, values in offered.items():
        if kind in (SETTING_FACTOR, SETTING_SECURITY) or not values:
            continue
        ints = [int(v) for v in values]
        if kind == SETTING_SAMPLE_RATE:
            if int(rate_hz) not in ints:
                raise ProtocolError(f"rate {rate_hz:g} Hz not offered ({ints})")
            out[kind] = int(rate_hz)
        elif kind == SETTING_RANGE:
            above = [v for v in ints if v >= range_]
            out[kind] = min(above) if above else max(ints)
        else:
            out[kind] = max(ints)
    return out


async def start_measurement(io: CommandIO, kind: int, selected: dict[int, int]) -> float | None:
    """Start ``kind`` with ``selected`` settings; returns the FACTOR the device answered
    (None without one).  Raises DeviceRejected with the device's reason.

    Parameters
    ----------
    io : CommandIO
        The link to the device.
    kind : int
        The measurement type (ACC 2, GYRO 5, ...).
    selected : dict of int to int
        Setting kind -> the value chosen.

    Returns
    -------
    float or None
        The stream's FACTOR, None when the answer carries none.
    """
    name = TYPE_NAMES.get(kind, str(kind))
    parts = await io.request(Command(CONTROL_UUID, start_request(kind, selected)),
                             _answers(OP_START, kind), f"Polar {name} start", done=_complete)
    answer = joined_answer(parts)
    if answer.status:
        raise DeviceRejected(f"Polar refused to start {name}: {answer.reason} "
                             f"(status {answer.status})")
    factor = parse_settings(answer.params).get(SETTING_FACTOR)
    return float(factor[0]) if factor else None


async def start_imu(io: CommandIO, wanted_hz: float, decoder: PolarDecoder) -> Started:
    """Feature read, settings of ACC and GYRO, start both at the rate both offer nearest
    to ``wanted_hz``; the decoder learns rate, ranges, resolution and factors.

    Parameters
    ----------
    io : CommandIO
        The link to the device.
    wanted_hz : float
        The rate asked for, Hz.
    decoder : PolarDecoder
        The link's decoder (configured here).

    Returns
    -------
    Started
        The rate streamed, Hz, and the setup line (ranges in g and °/s); DeviceRejected
        when ACC or GYRO is missing or refused.
    """
    features = await read_features(io)
    missing = [TYPE_NAMES[k] for k in (TYPE_ACC, TYPE_GYRO) if k not in features]
    if missing:
        have = ", ".join(TYPE_NAMES.get(k, str(k)) for k in sorted(features)) or "none"
        raise DeviceRejected(f"this Polar device has no {' or '.join(missing)} stream "
                             f"(it offers {have}); stepdown needs acceleration and "
                             "angular rate")
    offered = {k: await query_settings(io, k) for k in (TYPE_ACC, TYPE_GYRO)}
    rates = (set(offered[TYPE_ACC].get(SETTING_SAMPLE_RATE, []))
             & set(offered[TYPE_GYRO].get(SETTING_SAMPLE_RATE, [])))
    if not rates:
        raise DeviceRejected("Polar ACC and GYRO offer no common sample rate")
    rate = float(nearest(sorted(float(r) for r in rates), wanted_hz))
    chosen = {TYPE_ACC: choose_settings(offered[TYPE_ACC], rate, ACC_RANGE_G),
              TYPE_GYRO: choose_settings(offered[TYPE_GYRO], rate, GYRO_RANGE_DPS)}
    decoder.configure(rate, chosen)
    for kind in (TYPE_ACC, TYPE_GYRO):
        factor = await start_measurement(io, kind, chosen[kind])
        if factor is not None:
            decoder.factors[kind] = factor
    acc_g = chosen[TYPE_ACC].get(SETTING_RANGE, ACC_RANGE_G)
    gyr_dps = chosen[TYPE_GYRO].get(SETTING_RANGE, GYRO_RANGE_DPS)
    return Started(rate, f"{rate:g} Hz (offered {sorted(int(r) for r in rates)}), "
                         f"±{acc_g} g, ±{gyr_dps} °/s")


async def stop_imu(io: CommandIO) -> None:
    """Stop the ACC and GYRO streams (the device keeps measuring otherwise).

    Parameters
    ----------
    io : CommandIO
        The link to the device.
    """
    for kind in (TYPE_ACC, TYPE_GYRO):
        await io.write(Command(CONTROL_UUID, stop(kind)))


# -- data frames ---------------------------------------------------------------------------
def _sign_extend(v: np.ndarray, bits: int) -> np.ndarray:
    sign = 1 << (bits - 1)
    return (v ^ sign) - sign


def _unpack_bits(data: bytes, bits: int, count: int) -> np.ndarray:
    """``count`` two's-complement integers of ``bits`` bits, packed LSB first."""
    if count == 0:
        return np.zeros(0, dtype=np.int64)
    b = np.unpackbits(np.frombuffer(data, np.uint8), bitorder="little")[: bits * count]
    weights = (1 << np.arange(bits, dtype=np.int64))
    v = b.reshape(count, bits).astype(np.int64) @ weights
    return _sign_extend(v, bits)


def decode_delta_frame(body: bytes, channels: int = CHANNELS, resolution: int = 16
                       ) -> np.ndarray:
    """Raw integer samples (N, channels) from a delta-compressed frame body.

    Parameters
    ----------
    body : bytes
        The frame after its 10-byte header: a reference sample (channels × resolution/8
        bytes, little-endian, signed), then blocks ``BIT_WIDTH COUNT <deltas>``
        (two's complement, packed LSB first).
    channels : int
        Values per sample.
    resolution : int
        Bits per value of the reference sample.

    Returns
    -------
    numpy.ndarray
        Shape (N, channels), int64 counts.
    """
    width = (resolution + 7) // 8
    ref_len = width * channels
    if len(body) < ref_len:
        raise ProtocolError("PMD delta frame shorter than its reference sample")
    ref = np.frombuffer(body[:ref_len], np.uint8).reshape(channels, width).astype(np.int64)
    prev = _sign_extend(sum(ref[:, k] << (8 * k) for k in range(width)), 8 * width)
    rows = [prev[None, :]]
    i = ref_len
    while i < len(body):
        if len(body) - i < 2:
            raise ProtocolError("PMD delta block header truncated")
        bits, count = body[i], body[i + 1]
        i += 2
        if not 1 <= bits <= 32:
            raise ProtocolError(f"PMD delta bit width {bits} invalid")
        nbytes = (bits * count * channels + 7) // 8
        if len(body) - i < nbytes:
            raise ProtocolError("PMD delta block truncated")
        deltas = _unpack_bits(body[i:i + nbytes], bits, count * channels).reshape(count, channels)
        i += nbytes
        block = prev + np.cumsum(deltas, axis=0)
        rows.append(block)
        if count:
            prev = block[-1]
    return np.concatenate(rows)


def acc_mg(counts: np.ndarray, frame_type: int, factor: float) -> np.ndarray:
    """ACC in mG from a frame's integer counts, by the SDK's rule for each frame type.

    Parameters
    ----------
    counts : numpy.ndarray
        Shape (N, 3), integer counts.
    frame_type : int
        The frame type byte (bit 7: compressed).
    factor : float
        The stream's FACTOR.

    Returns
    -------
    numpy.ndarray
        Shape (N, 3), float64, mG.
    """
    if not frame_type & COMPRESSED:
        return counts.astype(np.float64)
    c = counts.astype(np.float32)
    if frame_type & 0x7F == 0:
        scale = np.float32(factor) * np.float32(1000.0)  # counts are G × FACTOR
    elif factor == 1.0:
        return counts.astype(np.float64)
    else:
        scale = np.float32(factor)
    return np.trunc(c * scale).astype(np.float64)


def decode_frame_raw(data: bytes, resolution: int = 16) -> tuple[int, int, int, np.ndarray]:
    """(measurement type, timestamp ns, frame type, raw values (N, 3)) of one data frame;
    raw values are integer counts, or °/s for float GYRO frames.

    Parameters
    ----------
    data : bytes
        The notification: ``TYPE``, uint64 LE timestamp (ns since 2000-01-01, last
        sample), ``FRAME_TYPE``, samples.
    resolution : int
        Bits per value of a compressed frame's reference sample.

    Returns
    -------
    tuple
        (measurement type, timestamp ns, frame type, raw values (N, 3)).
    """
    if len(data) < HEADER_LEN + 1:
        raise ProtocolError(f"PMD data frame of {len(data)} bytes is truncated")
    kind = data[0] & 0x3F
    (ts_ns,) = struct.unpack_from("<Q", data, 1)
    frame_type = data[9]
    body = bytes(data[HEADER_LEN:])
    if kind not in (TYPE_ACC, TYPE_GYRO):
        raise ProtocolError(f"PMD measurement type {kind} not handled")
    if frame_type & COMPRESSED:
        if frame_type & 0x7F not in (0, 1) or (kind == TYPE_GYRO and frame_type & 0x7F):
            raise ProtocolError(f"PMD compressed frame type {frame_type & 0x7F} not handled")
        return kind, ts_ns, frame_type, decode_delta_frame(body, CHANNELS, resolution)
    if kind == TYPE_GYRO and frame_type == 1:  # float32 °/s
        if len(body) % 12:
            raise ProtocolError("PMD frame body is not a whole number of samples")
        return kind, ts_ns, frame_type, np.frombuffer(body, "<f4").reshape(-1, 3).astype(float)
    width = ({0: 1, 1: 2, 2: 3} if kind == TYPE_ACC else {0: 2}).get(frame_type)
    if width is None:
        raise ProtocolError(f"PMD frame type {frame_type} unknown")
    if not body or len(body) % (CHANNELS * width):
        raise ProtocolError("PMD frame body is not a whole number of samples")
    b = np.frombuffer(body, np.uint8).reshape(-1, width)
    v = sum(b[:, k].astype(np.int64) << (8 * k) for k in range(width))
    return kind, ts_ns, frame_type, _sign_extend(v, 8 * width).reshape(-1, CHANNELS)


def decode_frame(data: bytes, rate_hz: float, factor: float = 1.0) -> tuple[int, Samples]:
    """Decode one PMD data notification on its own (no previous frame known).

    Parameters
    ----------
    data : bytes
        The data notification.
    rate_hz : float
        The stream's rate, Hz.
    factor : float
        The stream's FACTOR.

    Returns
    -------
    kind : int
        The measurement type.
    samples : Samples
        ACC in ``acc`` (m/s², gyr zeros) or GYRO in ``gyr`` (rad/s, acc zeros), sensor
        frame; ``t_device_s`` is s since 2000-01-01 (device clock), the last sample at the
        frame's timestamp and the others 1/rate_hz apart before it.
    """
    kind, ts_ns, frame_type, raw = decode_frame_raw(data)
    n = len(raw)
    t = ts_ns * 1e-9 - (n - 1 - np.arange(n)) / rate_hz
    return kind, _samples(kind, raw, frame_type, factor, t)


def _samples(kind: int, raw: np.ndarray, frame_type: int, factor: float,
             t: np.ndarray) -> Samples:
    zeros = np.zeros((len(raw), 3))
    if kind == TYPE_ACC:
        return Samples(acc=acc_mg(raw, frame_type, factor) * 1e-3 * STANDARD_GRAVITY,
                       gyr=zeros, t_device_s=t)
    dps = raw.astype(np.float64)
    if factor != 1.0 and (frame_type & COMPRESSED or frame_type == 0):
        dps = (raw.astype(np.float32) * np.float32(factor)).astype(np.float64)
    return Samples(acc=zeros, gyr=dps * DEG, t_device_s=t)


# -- the decoder ---------------------------------------------------------------------------
class _StreamClock:
    """Sample times of one PMD stream from its frames' last-sample timestamps, spaced by
    the measured sample period (fitted over back-to-back frames: Polar clocks drift)."""

    def __init__(self, rate_hz: float) -> None:
        self.nominal = 1.0 / rate_hz
        self.prev_ns: int | None = None
        self._span_ns = 0.0  # summed (ts - prev) of back-to-back frames
        self._count = 0      # their summed sample counts

    @property
    def period_s(self) -> float:
        return self._span_ns * 1e-9 / self._count if self._count >= 50 else self.nominal

    def times(self, ts_ns: int, n: int) -> np.ndarray | None:
        """Times (s) of a frame's n samples, or None when the timestamp is not after the
        previous frame's or its count cannot fit the time since it (a misread frame)."""
        if self.prev_ns is not None:
            dt_s = (ts_ns - self.prev_ns) * 1e-9
            if dt_s <= 0 or dt_s < 0.5 * n * self.period_s:
                return None
            if dt_s <= 1.5 * n * self.period_s:  # back to back: measures the period
                self._span_ns += ts_ns - self.prev_ns
                self._count += n
        self.prev_ns = ts_ns
        return ts_ns * 1e-9 - (n - 1 - np.arange(n)) * self.period_s


class PolarDecoder:
    """Stateful PMD decoder: factors, ranges and rate from the start procedure (and from
    start answers it sees), drift-corrected sample times per stream, plausibility check,
    ACC and GYRO paired into IMU samples by device time (nearest ACC sample within half
    a period; an ACC sample leaves once a later GYRO sample exists, so it pairs with at
    most a frame of delay).  ``01 TYPE…`` on the control point (the device stopped a
    stream) becomes a notice.

    Parameters
    ----------
    rate_hz : float
        The sample rate, Hz (set again by :meth:`configure`).
    """

    def __init__(self, rate_hz: float = 52.0) -> None:
        self.stats = DecoderStats()
        self.factors: dict[int, float] = {TYPE_ACC: 1.0, TYPE_GYRO: 1.0}
        self.status: dict[tuple[int, int], int] = {}  # (op, type) -> status
        self.stopped: set[int] = set()
        self.configure(rate_hz, {})
        self._acc: list[tuple[np.ndarray, np.ndarray]] = []  # (t, acc)
        self._gyr: list[tuple[np.ndarray, np.ndarray]] = []

    def configure(self, rate_hz: float, chosen: dict[int, dict[int, int]]) -> None:
        """Rate (Hz) and the settings started per measurement type (ranges: g, °/s).

        Parameters
        ----------
        rate_hz : float
            The sample rate, Hz.
        chosen : dict of int to dict
            Measurement type -> {setting kind: value} as started.
        """
        self.rate_hz = rate_hz
        self.resolution = {k: s.get(SETTING_RESOLUTION, 16) for k, s in chosen.items()}
        acc_g = chosen.get(TYPE_ACC, {}).get(SETTING_RANGE, 16)
        gyr_dps = chosen.get(TYPE_GYRO, {}).get(SETTING_RANGE, 2000)
        self.plausible = Plausible(acc_max=acc_g * STANDARD_GRAVITY, gyr_max=gyr_dps * DEG)
        self._clocks = {k: _StreamClock(rate_hz) for k in (TYPE_ACC, TYPE_GYRO)}

    def feed(self, char_uuid: str, data: bytes) -> Samples:
        """Take one notification: control-point answers update the state, data frames are
        decoded and paired.

        Parameters
        ----------
        char_uuid : str
            The characteristic that notified (control point or data).
        data : bytes
            The notification's value.

        Returns
        -------
        Samples
            The IMU samples paired so far: acc m/s², gyr rad/s, sensor frame, t_device_s s
            since 2000-01-01; possibly none.
        """
        data = bytes(data)
        try:
            if char_uuid == CONTROL_UUID:
                self._control(data)
                return Samples.empty(timed=True)
            kind, ts_ns, frame_type, raw = decode_frame_raw(
                data, self.resolution.get(data[0] & 0x3F, 16))
        except ProtocolError as err:
            self.stats.reject(err)
            return Samples.empty(timed=True)
        self.stats.packets += 1
        t = self._clocks[kind].times(ts_ns, len(raw))
        if t is None:
            self.stats.implausible += len(raw)
            self.stats.last_error = "PMD frame out of timestamp order dropped"
            return Samples.empty(timed=True)
        s = self.plausible.check(_samples(kind, raw, frame_type, self.factors[kind], t),
                                 self.stats)
        if kind == TYPE_ACC:
            self._acc.append((s.t_device_s, s.acc))
            self._bound_waiting_acc()
        else:
            self._gyr.append((s.t_device_s, s.gyr))
        return self._pair()

    def _bound_waiting_acc(self) -> None:
        """Without GYRO frames, ACC frames wait for partners; keep at most MAX_WAIT_S."""
        if self._gyr or len(self._acc) < 2:
            return
        t_last = self._acc[-1][0]
        if not len(t_last):
            return
        kept = [(t, a) for t, a in self._acc if len(t) and t[-1] >= t_last[-1] - MAX_WAIT_S]
        lost = sum(len(t) for t, _ in self._acc) - sum(len(t) for t, _ in kept)
        if lost:
            self._acc = kept
            self.stats.last_error = f"{lost} ACC samples without a GYRO partner"

    def _control(self, data: bytes) -> None:
        if data and data[0] == MEASUREMENT_STOPPED:
            kinds = [TYPE_NAMES.get(k, str(k)) for k in data[1:]]
            self.stopped |= set(data[1:])
            self.stats.packets += 1
            self.stats.notices.append(f"the device stopped its {', '.join(kinds)} stream")
            return
        r = ControlResponse(data)
        self.status[(r.op, r.kind)] = r.status
        if r.op == OP_START and r.status == 0:
            factor = parse_settings(r.params).get(SETTING_FACTOR)
            if factor:
                self.factors[r.kind] = float(factor[0])
        self.stats.packets += 1

    def _pair(self) -> Samples:
        if not self._acc or not self._gyr:
            return Samples.empty(timed=True)
        ta = np.concatenate([a[0] for a in self._acc])
        aa = np.concatenate([a[1] for a in self._acc])
        tg = np.concatenate([g[0] for g in self._gyr])
        gg = np.concatenate([g[1] for g in self._gyr])
        if not len(ta) or not len(tg):
            return Samples.empty(timed=True)
        half = 0.5 / self.rate_hz
        hi = np.clip(np.searchsorted(tg, ta), 0, len(tg) - 1)
        lo = np.clip(hi - 1, 0, len(tg) - 1)
        nearest_g = np.where(np.abs(tg[lo] - ta) <= np.abs(tg[hi] - ta), lo, hi)
        matched = np.abs(tg[nearest_g] - ta) <= half
        settled = ta <= tg[-1] + half  # the GYRO stream has passed this ACC sample
        keep = matched & settled
        lost = int((settled & ~matched).sum())
        if lost:
            self.stats.last_error = f"{lost} ACC samples without a GYRO partner"
        wait = ~settled
        self._acc = [(ta[wait], aa[wait])] if wait.any() else []
        first_g = nearest_g[keep].max() + 1 if keep.any() else 0
        self._gyr = [(tg[first_g:], gg[first_g:])] if first_g < len(tg) else []
        out = Samples(acc=aa[keep], gyr=gg[nearest_g[keep]], t_device_s=ta[keep])
        self.stats.samples += len(out)
        return out


PROFILE = DeviceProfile(
    model="Polar Verity Sense",
    service_uuid=SERVICE_UUID,
    notify_uuids=(CONTROL_UUID, DATA_UUID),
    write_uuid=CONTROL_UUID,
    name_prefixes=("Polar Sense", "Polar OH1", "Polar H10"),
    rates_hz=RATES_HZ,
    start=start_imu,  # type: ignore[arg-type]
    stop=stop_imu,
    decoder=PolarDecoder,
    timed=True,
    battery_uuid=BATTERY_LEVEL_UUID,
)
