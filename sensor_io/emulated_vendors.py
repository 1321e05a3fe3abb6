"""The device side of each vendor protocol, for the emulated peripherals of
:mod:`sensor_io.ble_emulation`: what a real sensor answers to each command and how it
packs its samples, written from the vendors' documents (cited per class), *not* from
this project's decoders, so a decoder and its emulator cannot agree on a wrong reading.

Each device refuses what the real one refuses: a Polar start with a setting it did not
offer (or without one it listed), GYRO on an H10; a Movesense command with reference 0
or a path without its leading '/'; a WitMotion configuration write before unlock.

Every device has ``on_write(uuid, data)``, ``on_read(uuid) -> bytes``,
``on_subscribe(uuid)``, ``streaming``, ``rate_hz``, ``samples_per_packet`` and
``packets(t, acc, gyr, device_time) -> [(uuid, bytes)]``; ``answer(uuid, bytes)`` (given
at construction) sends an answer notification.  Units in: acc (N, 3) m/s², gyr (N, 3)
rad/s, t (N,) s world time; ``device_time(t)`` maps it to the device's clock (s).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from sensor_io.protocols import movella, movesense, polar, witmotion
from sensor_io.protocols.common import DEG, STANDARD_GRAVITY

Answer = Callable[[str, bytes], None]
DeviceTime = Callable[[np.ndarray], np.ndarray]
Packets = list[tuple[str, bytes]]


# -- Polar PMD ------------------------------------------------------------------------------
def pack_bits(values: np.ndarray, bits: int) -> bytes:
    """Two's-complement ``bits``-bit integers packed LSB first (PMD delta block)."""
    out = bytearray((len(values) * bits + 7) // 8)
    pos = 0
    for v in values.tolist():
        u = v & ((1 << bits) - 1)
        for b in range(bits):
            if u >> b & 1:
                out[pos // 8] |= 1 << (pos % 8)
            pos += 1
    return bytes(out)


def pmd_delta_frame(counts: np.ndarray) -> bytes:
    """A compressed PMD frame body (PMD specification, "Delta frame sample example from
    Polar Verity Sense"): int16 reference sample, then one block ``BITS COUNT <deltas>``."""
    counts = np.asarray(counts, dtype=np.int64)
    body = struct.pack("<3h", *counts[0])
    deltas = np.diff(counts, axis=0)
    if len(deltas):
        bits = max(2, int(np.abs(deltas).max()).bit_length() + 1)
        body += bytes([bits, len(deltas)]) + pack_bits(deltas.ravel(), bits)
    return body


@dataclass(frozen=True)
class PolarModel:
    """What one Polar model offers (documentation/products/*.md and the PMD documents):
    its features, its settings answer per measurement type, what its start answer
    carries, and how its frames scale (FACTOR)."""

    name: str
    features: frozenset[int]
    settings: dict[int, dict[int, list[int | float]]]
    factors: dict[int, float]
    start_params: dict[int, bytes]  # parameter block of the start answer
    answer_chunk: int = 64          # parameter bytes per answer before MORE is used
    frame_type: dict[int, int] = field(default_factory=dict)
    refuse_start: int = 0           # a status every start is answered with (13: in charger)


VERITY_SENSE = PolarModel(
    name="Polar Sense",
    features=frozenset({polar.TYPE_PPG, polar.TYPE_ACC, polar.TYPE_PPI, polar.TYPE_GYRO,
                        polar.TYPE_MAG}),
    # online streaming without SDK mode: 52 Hz, ±8 g; gyro ranges as in the SDK's
    # PmdSettingTest literal (F5 00 F4 01 E8 03 D0 07)
    settings={polar.TYPE_ACC: {0: [52], 1: [16], 2: [8], 4: [3]},
              polar.TYPE_GYRO: {0: [52], 1: [16], 2: [245, 500, 1000, 2000], 4: [3]}},
    factors={polar.TYPE_ACC: 0.000244, polar.TYPE_GYRO: 0.061},
    start_params={polar.TYPE_ACC: bytes([5, 1]) + struct.pack("<f", 0.000244),
                  polar.TYPE_GYRO: bytes([5, 1]) + struct.pack("<f", 0.061)},
    frame_type={polar.TYPE_ACC: 0x80, polar.TYPE_GYRO: 0x80},
)

H10 = PolarModel(
    name="Polar H10",
    features=frozenset({polar.TYPE_ECG, polar.TYPE_ACC}),
    settings={polar.TYPE_ACC: {0: [25, 50, 100, 200], 1: [16], 2: [2, 4, 8]}},
    factors={polar.TYPE_ACC: 1.0},
    start_params={polar.TYPE_ACC: b"\x01"},  # the document's H10 answer F0 02 02 00 00 01
    answer_chunk=12,
    frame_type={polar.TYPE_ACC: 0x01},
)


class PolarDevice:
    """PMD control point and data as a Polar device answers and sends them."""

    samples_per_packet = 12
    chars = ((polar.CONTROL_UUID, ["read", "write", "indicate"]), (polar.DATA_UUID, ["notify"]),
             (polar.BATTERY_LEVEL_UUID, ["read", "notify"]))
    battery_pct = 87

    def __init__(self, model: PolarModel, answer: Answer) -> None:
        self.model, self.answer = model, answer
        self.started: dict[int, dict[int, int]] = {}
        self.requests: list[bytes] = []

    @property
    def streaming(self) -> bool:
        return bool(self.started)

    @property
    def rate_hz(self) -> float:
        rates = [s[polar.SETTING_SAMPLE_RATE] for s in self.started.values()]
        return float(rates[0]) if rates else 52.0

    def on_subscribe(self, uuid: str) -> None:
        return None

    def on_read(self, uuid: str) -> bytes:
        if uuid == polar.BATTERY_LEVEL_UUID:
            return bytes([self.battery_pct])
        if uuid != polar.CONTROL_UUID:
            return b""
        mask = sum(1 << t for t in self.model.features)
        return bytes([0x0F]) + mask.to_bytes(2, "little")

    def on_write(self, uuid: str, data: bytes) -> None:
        self.requests.append(data)
        if uuid != polar.CONTROL_UUID or len(data) < 2:
            return
        op, kind = data[0], data[1] & 0x3F
        if op == polar.OP_GET_SETTINGS:
            offered = self.model.settings.get(kind)
            if offered is None:
                return self._answer(op, kind, 3)  # not supported
            return self._answer(op, kind, 0, _tlv(offered))
        if op == polar.OP_START:
            status = self._check_start(kind, data[2:])
            if status:
                return self._answer(op, kind, status)
            self.started[kind] = _settings_from(data[2:])
            return self._answer(op, kind, 0, self.model.start_params.get(kind, b""))
        if op == polar.OP_STOP:
            self.started.pop(kind, None)
            return self._answer(op, kind, 0)
        self._answer(op, kind, 1)  # invalid op code

    def _check_start(self, kind: int, params: bytes) -> int:
        """0, or the status a device answers a start it cannot do with."""
        offered = self.model.settings.get(kind)
        if offered is None:
            return 3
        if self.model.refuse_start:
            return self.model.refuse_start
        if kind in self.started:
            return 6  # already in state
        try:
            asked = _settings_from(params)
        except (IndexError, KeyError, ValueError):
            return 4  # invalid length
        if set(asked) != set(offered):
            return 5  # every listed setting, nothing else
        bad = {0: 8, 1: 7, 2: 9, 4: 11}
        for k, v in asked.items():
            if v not in offered[k]:
                return bad.get(k, 5)
        others = [s[0] for s in self.started.values()]
        if others and asked[0] not in others:
            return 8
        return 0

    def _answer(self, op: int, kind: int, status: int, params: bytes = b"") -> None:
        chunk = self.model.answer_chunk
        parts = [params[i:i + chunk] for i in range(0, len(params), chunk)] or [b""]
        for k, part in enumerate(parts):
            more = 1 if k < len(parts) - 1 else 0
            self.answer(polar.CONTROL_UUID, bytes([0xF0, op, kind, status, more]) + part)

    def stop_by_device(self) -> None:
        """The device ends its online measurements (``01 TYPE…`` on the control point)."""
        kinds = sorted(self.started)
        self.started.clear()
        self.answer(polar.CONTROL_UUID, bytes([0x01, *kinds]))

    def packets(self, t: np.ndarray, acc: np.ndarray, gyr: np.ndarray,
                device_time: DeviceTime) -> Packets:
        # ns since 2000-01-01 of the last sample; the device believes it is ~2025
        ts_ns = int(round((device_time(t[-1:])[0] + 800_000_000) * 1e9))
        out = []
        for kind, values in ((polar.TYPE_ACC, acc / STANDARD_GRAVITY),
                             (polar.TYPE_GYRO, gyr / DEG)):
            if kind not in self.started:
                continue
            frame_type = self.model.frame_type[kind]
            if frame_type & 0x80:  # counts × FACTOR = G (ACC type 0) or °/s
                counts = np.round(values / self.model.factors[kind]).astype(np.int64)
                body = pmd_delta_frame(counts)
            else:  # ACC type 1: int16 mG
                body = np.round(values * 1000).astype("<i2").tobytes()
            out.append((polar.DATA_UUID, bytes([kind]) + struct.pack("<Q", ts_ns)
                        + bytes([frame_type]) + body))
        return out


def _tlv(settings: dict[int, list[int | float]]) -> bytes:
    out = b""
    for kind in sorted(settings):
        size = {0: 2, 1: 2, 2: 2, 3: 4, 4: 1}[kind]
        out += bytes([kind, len(settings[kind])])
        out += b"".join(int(v).to_bytes(size, "little") for v in settings[kind])
    return out


def _settings_from(params: bytes) -> dict[int, int]:
    """{kind: value} of a start request's settings (one value each)."""
    out, i = {}, 0
    while i < len(params):
        kind, count = params[i], params[i + 1]
        size = {0: 2, 1: 2, 2: 2, 3: 4, 4: 1}[kind]
        if count != 1 or len(params) < i + 2 + size:
            raise ValueError("one value per setting")
        out[kind] = int.from_bytes(params[i + 2:i + 2 + size], "little")
        i += 2 + size
    return out


# -- Movesense GSP --------------------------------------------------------------------------
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


# -- WitMotion ------------------------------------------------------------------------------
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


# -- Movella DOT ----------------------------------------------------------------------------
class DotDevice:
    """Movella DOT (BLE Service Specification, XD0506P): output rate in the device
    control characteristic (0x1002, 32 bytes, bit 4 of the visit index), measurement
    control ``01 ACTION MODE`` on 0x2001; "Rate quantities" (mode 21) notified on the
    medium payload characteristic 0x2003: uint32 µs timestamp, acc 3×float32 m/s²,
    gyro 3×float32 °/s, zero-padded to 40 bytes.  A type other than 1, or a rate not in
    the documented list, is refused (the write is ignored)."""

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
        return self.mode == 21 and movella.MEDIUM_UUID in self.notifying

    @property
    def rate_hz(self) -> float:
        return float(int.from_bytes(self.control[24:26], "little"))

    def on_subscribe(self, uuid: str) -> None:
        self.notifying.add(uuid)

    def on_read(self, uuid: str) -> bytes:
        if uuid == movella.DEVICE_CONTROL_UUID:
            return bytes(self.control)
        if uuid == movella.MEASUREMENT_CONTROL_UUID:
            return bytes([1, 1 if self.mode else 0, self.mode or 0])
        if uuid == movella.BATTERY_UUID:
            return bytes([64, 0])  # Table 21: level %, not charging
        return b""

    def on_write(self, uuid: str, data: bytes) -> None:
        if uuid == movella.DEVICE_CONTROL_UUID and len(data) == 32:
            rate = int.from_bytes(data[24:26], "little")
            if data[0] & 0x10 and rate in self.RATES[:-1] and self.mode is None:
                self.control[24:26] = data[24:26]
        elif uuid == movella.MEASUREMENT_CONTROL_UUID and len(data) == 3 and data[0] == 1:
            self.mode = data[2] if data[1] == 1 else None

    def packets(self, t: np.ndarray, acc: np.ndarray, gyr: np.ndarray,
                device_time: DeviceTime) -> Packets:
        us = (np.round(device_time(t) * 1e6).astype(np.int64) & 0xFFFFFFFF)
        return [(movella.MEDIUM_UUID, struct.pack("<I3f3f", int(u), *a, *(g / DEG)) + bytes(12))
                for u, a, g in zip(us, acc, gyr, strict=True)]
