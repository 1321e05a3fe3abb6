"""Polar Measurement Data (PMD) protocol: Verity Sense, H10, OH1 (Polar BLE SDK docs,
"Polar Measurement Data specification").

- service ``fb005c80-02e7-f387-1cad-8acd2d8df0c8``; control point ``fb005c81-…``
  (write + indicate), data ``fb005c82-…`` (notify).
- Control point requests: ``01 TYPE`` get settings, ``02 TYPE <settings>`` start,
  ``03 TYPE`` stop.  Settings are TLV: ``SETTING_TYPE COUNT VALUE…`` (sample rate 0,
  resolution 1, range 2: uint16; range milliunit 3 and factor 5: 4 bytes; channels 4: uint8).
  Measurement types: ACC 2, GYRO 5.  Responses: ``F0 OP TYPE STATUS MORE <settings>``,
  STATUS 0 = success; a start response may carry the stream's FACTOR (float32).
- Data: ``TYPE TIMESTAMP(uint64 LE, ns since 2000-01-01, of the *last* sample)
  FRAME_TYPE <samples>``.  FRAME_TYPE bit 7 flags a delta-compressed frame; low bits
  give the raw width: 0 int8, 1 int16, 2 int24 per channel (uncompressed).
  Delta frame: one reference sample (channels × int16), then blocks
  ``BIT_WIDTH COUNT <COUNT × channels deltas, BIT_WIDTH-bit two's complement, packed
  LSB first>``; each sample is the previous one plus its deltas.
- Units: ACC in mG (× factor for compressed frames), GYRO in °/s (× factor).
Always send stop for every started stream: the device keeps measuring otherwise.
"""

from __future__ import annotations

import struct

import numpy as np

from sensor_io.protocols.common import (
    DEG,
    STANDARD_GRAVITY,
    Command,
    DecoderStats,
    DeviceProfile,
    ProtocolError,
    Samples,
)

SERVICE_UUID = "fb005c80-02e7-f387-1cad-8acd2d8df0c8"
CONTROL_UUID = "fb005c81-02e7-f387-1cad-8acd2d8df0c8"
DATA_UUID = "fb005c82-02e7-f387-1cad-8acd2d8df0c8"

OP_GET_SETTINGS = 0x01
OP_START = 0x02
OP_STOP = 0x03
RESPONSE = 0xF0
TYPE_ACC = 0x02
TYPE_GYRO = 0x05

SETTING_SAMPLE_RATE = 0
SETTING_RESOLUTION = 1
SETTING_RANGE = 2
SETTING_RANGE_MILLIUNIT = 3
SETTING_CHANNELS = 4
SETTING_FACTOR = 5
_SETTING_SIZE = {SETTING_SAMPLE_RATE: 2, SETTING_RESOLUTION: 2, SETTING_RANGE: 2,
                 SETTING_RANGE_MILLIUNIT: 4, SETTING_CHANNELS: 1, SETTING_FACTOR: 4}

COMPRESSED = 0x80
HEADER_LEN = 10
CHANNELS = 3

RATES_HZ = (26.0, 52.0, 104.0, 208.0, 416.0)
ACC_RANGE_G = 8
GYRO_RANGE_DPS = 2000


def settings_bytes(settings: dict[int, int | float]) -> bytes:
    """Encode {setting_type: value} as PMD TLV (one value per setting)."""
    out = bytearray()
    for kind, value in settings.items():
        size = _SETTING_SIZE[kind]
        out += bytes([kind, 1])
        if kind == SETTING_FACTOR:
            out += struct.pack("<f", float(value))
        else:
            out += int(value).to_bytes(size, "little")
    return bytes(out)


def parse_settings(data: bytes) -> dict[int, list[int | float]]:
    """Decode PMD TLV settings into {setting_type: [values]}."""
    out: dict[int, list[int | float]] = {}
    i = 0
    while i < len(data):
        if len(data) - i < 2 or data[i] not in _SETTING_SIZE:
            raise ProtocolError(f"PMD settings malformed at byte {i}")
        kind, count = data[i], data[i + 1]
        size = _SETTING_SIZE[kind]
        i += 2
        if len(data) - i < size * count:
            raise ProtocolError("PMD settings truncated")
        vals: list[int | float] = []
        for _ in range(count):
            chunk = data[i:i + size]
            vals.append(struct.unpack("<f", chunk)[0] if kind == SETTING_FACTOR
                        else int.from_bytes(chunk, "little"))
            i += size
        out[kind] = vals
    return out


def get_settings(kind: int) -> bytes:
    return bytes([OP_GET_SETTINGS, kind])


def start(kind: int, rate_hz: float, range_: int, resolution: int = 16) -> bytes:
    """Start request for ACC (range in g) or GYRO (range in °/s) at ``rate_hz``."""
    return bytes([OP_START, kind]) + settings_bytes({
        SETTING_SAMPLE_RATE: int(rate_hz), SETTING_RESOLUTION: resolution,
        SETTING_RANGE: range_})


def stop(kind: int) -> bytes:
    return bytes([OP_STOP, kind])


def parse_control_response(data: bytes) -> tuple[int, int, int, dict[int, list[int | float]]]:
    """(op, type, status, settings) of a control-point response ``F0 OP TYPE STATUS …``."""
    if len(data) < 4 or data[0] != RESPONSE:
        raise ProtocolError("not a PMD control point response")
    settings = parse_settings(data[5:]) if len(data) > 5 else {}
    return data[1], data[2], data[3], settings


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


def decode_delta_frame(body: bytes, channels: int = CHANNELS) -> np.ndarray:
    """Raw integer samples (N, channels) from a delta-compressed frame body (int16 reference)."""
    ref_len = 2 * channels
    if len(body) < ref_len:
        raise ProtocolError("PMD delta frame shorter than its reference sample")
    prev = np.array(struct.unpack_from(f"<{channels}h", body, 0), dtype=np.int64)
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


def encode_delta_frame(raw: np.ndarray, bits: int | None = None) -> bytes:
    """Inverse of :func:`decode_delta_frame` in one block: raw (N, 3) int samples."""
    raw = np.asarray(raw, dtype=np.int64)
    deltas = np.diff(raw, axis=0)
    if bits is None:
        peak = int(np.max(np.abs(deltas))) if deltas.size else 0
        bits = max(2, peak.bit_length() + 1)
    out = bytearray(struct.pack(f"<{raw.shape[1]}h", *raw[0]))
    if len(deltas):
        v = (deltas.ravel() & ((1 << bits) - 1)).astype(np.int64)
        b = ((v[:, None] >> np.arange(bits)) & 1).astype(np.uint8).ravel()
        out += bytes([bits, len(deltas)]) + np.packbits(b, bitorder="little").tobytes()
    return bytes(out)


def decode_frame(data: bytes, rate_hz: float, factor: float = 1.0) -> tuple[int, Samples]:
    """Decode one PMD data notification.

    Returns (measurement type, samples) with ACC in ``acc`` (m/s², gyr zeros) or GYRO in
    ``gyr`` (rad/s, acc zeros); ``t_device_s`` is s since 2000-01-01 (device clock), the
    last sample at the frame's timestamp and the others 1/rate_hz apart before it.
    """
    if len(data) < HEADER_LEN + 1:
        raise ProtocolError(f"PMD data frame of {len(data)} bytes is truncated")
    kind = data[0]
    (ts_ns,) = struct.unpack_from("<Q", data, 1)
    frame_type = data[9]
    body = data[HEADER_LEN:]
    if kind not in (TYPE_ACC, TYPE_GYRO):
        raise ProtocolError(f"PMD measurement type {kind} not handled")
    if frame_type & COMPRESSED:
        raw = decode_delta_frame(body).astype(np.float64) * factor
    else:
        width = {0: 1, 1: 2, 2: 3}.get(frame_type)
        if width is None:
            raise ProtocolError(f"PMD frame type {frame_type} unknown")
        if len(body) % (CHANNELS * width):
            raise ProtocolError("PMD frame body is not a whole number of samples")
        b = np.frombuffer(body, np.uint8).reshape(-1, width)
        v = sum(b[:, k].astype(np.int64) << (8 * k) for k in range(width))
        raw = _sign_extend(v, 8 * width).reshape(-1, CHANNELS).astype(np.float64)
    n = len(raw)
    t = ts_ns * 1e-9 - (n - 1 - np.arange(n)) / rate_hz
    zeros = np.zeros((n, 3))
    if kind == TYPE_ACC:
        return kind, Samples(acc=raw * 1e-3 * STANDARD_GRAVITY, gyr=zeros, t_device_s=t)
    return kind, Samples(acc=zeros, gyr=raw * DEG, t_device_s=t)


def encode_frame(kind: int, ts_ns: int, raw: np.ndarray, compressed: bool = True) -> bytes:
    """A PMD data notification for raw integer samples (N, 3) (emulator and tests)."""
    header = bytes([kind]) + struct.pack("<Q", ts_ns)
    if compressed:
        return header + bytes([COMPRESSED]) + encode_delta_frame(raw)
    return header + bytes([0x01]) + np.asarray(raw, dtype="<i2").tobytes()


class PolarDecoder:
    """Stateful PMD decoder: remembers stream factors from control-point responses and
    pairs ACC and GYRO frames into IMU samples by device time (nearest ACC sample within
    half a period; an ACC sample leaves once a later GYRO sample exists, so it pairs with
    at most a frame of delay)."""

    def __init__(self, rate_hz: float = 52.0) -> None:
        self.rate_hz = rate_hz
        self.stats = DecoderStats()
        self.factors: dict[int, float] = {TYPE_ACC: 1.0, TYPE_GYRO: 1.0}
        self.status: dict[tuple[int, int], int] = {}  # (op, type) -> status
        self._acc: list[tuple[np.ndarray, np.ndarray]] = []  # (t, acc)
        self._gyr: list[tuple[np.ndarray, np.ndarray]] = []

    def feed(self, char_uuid: str, data: bytes) -> Samples:
        try:
            if char_uuid == CONTROL_UUID:
                op, kind, status, settings = parse_control_response(bytes(data))
                self.status[(op, kind)] = status
                if SETTING_FACTOR in settings:
                    self.factors[kind] = float(settings[SETTING_FACTOR][0])
                self.stats.packets += 1
                return Samples.empty(timed=True)
            kind, s = decode_frame(bytes(data), self.rate_hz, self.factors.get(data[0], 1.0))
        except ProtocolError as err:
            self.stats.reject(err)
            return Samples.empty(timed=True)
        self.stats.packets += 1
        if kind == TYPE_ACC:
            self._acc.append((s.t_device_s, s.acc))
        else:
            self._gyr.append((s.t_device_s, s.gyr))
        return self._pair()

    def _pair(self) -> Samples:
        if not self._acc or not self._gyr:
            return Samples.empty(timed=True)
        ta = np.concatenate([a[0] for a in self._acc])
        aa = np.concatenate([a[1] for a in self._acc])
        tg = np.concatenate([g[0] for g in self._gyr])
        gg = np.concatenate([g[1] for g in self._gyr])
        half = 0.5 / self.rate_hz
        hi = np.clip(np.searchsorted(tg, ta), 0, len(tg) - 1)
        lo = np.clip(hi - 1, 0, len(tg) - 1)
        nearest = np.where(np.abs(tg[lo] - ta) <= np.abs(tg[hi] - ta), lo, hi)
        matched = np.abs(tg[nearest] - ta) <= half
        settled = ta <= tg[-1] + half  # the GYRO stream has passed this ACC sample
        keep = matched & settled
        lost = int((settled & ~matched).sum())
        if lost:
            self.stats.last_error = f"{lost} ACC samples without a GYRO partner"
        wait = ~settled
        self._acc = [(ta[wait], aa[wait])] if wait.any() else []
        first_g = nearest[keep].max() + 1 if keep.any() else 0
        self._gyr = [(tg[first_g:], gg[first_g:])] if first_g < len(tg) else []
        out = Samples(acc=aa[keep], gyr=gg[nearest[keep]], t_device_s=ta[keep])
        self.stats.samples += len(out)
        return out


def _start(rate_hz: float) -> list[Command]:
    return [Command(CONTROL_UUID, start(TYPE_ACC, rate_hz, ACC_RANGE_G)),
            Command(CONTROL_UUID, start(TYPE_GYRO, rate_hz, GYRO_RANGE_DPS))]


def _stop() -> list[Command]:
    return [Command(CONTROL_UUID, stop(TYPE_ACC)), Command(CONTROL_UUID, stop(TYPE_GYRO))]


PROFILE = DeviceProfile(
    model="Polar Verity Sense",
    service_uuid=SERVICE_UUID,
    notify_uuids=(CONTROL_UUID, DATA_UUID),
    write_uuid=CONTROL_UUID,
    name_prefixes=("Polar Sense", "Polar OH1", "Polar H10"),
    rates_hz=RATES_HZ,
    start=_start,
    stop=_stop,
    decoder=PolarDecoder,
    timed=True,
)
