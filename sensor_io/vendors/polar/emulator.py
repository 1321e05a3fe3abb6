"""The emulated Polar device (PMD control point and data), written from the PMD
documents and the SDK, *not* from :mod:`.protocol`: models (Verity Sense, H10) with what
each offers; a start with a setting it did not offer (or without one it listed), or GYRO
on an H10, is refused as the device refuses it."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

import numpy as np

from sensor_io.vendors.base import Answer, DeviceTime, Packets
from sensor_io.vendors.common import DEG, STANDARD_GRAVITY
from sensor_io.vendors.polar import protocol as polar


def pack_bits(values: np.ndarray, bits: int) -> bytes:
    """Two's-complement ``bits``-bit integers packed LSB first (PMD delta block).

    Parameters
    ----------
    values : numpy.ndarray
        The integers, shape (M,).
    bits : int
        Bits per integer.

    Returns
    -------
    bytes
        ``ceil(M * bits / 8)`` bytes.
    """
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
    Polar Verity Sense"): int16 reference sample, then one block ``BITS COUNT <deltas>``.

    Parameters
    ----------
    counts : numpy.ndarray
        Shape (N, 3), integer counts (the first is the reference sample).

    Returns
    -------
    bytes
        The frame body (after the 10-byte header): 3 × int16 LE, then the delta block.
    """
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
    """The advertised name."""
    features: frozenset[int]
    """The measurement types offered."""
    settings: dict[int, dict[int, list[int | float]]]
    """Measurement type -> {setting kind: values offered} (rate Hz, range g or °/s)."""
    factors: dict[int, float]
    """Measurement type -> FACTOR its frames scale by."""
    start_params: dict[int, bytes]
    """Measurement type -> the parameter block of its start answer."""
    answer_chunk: int = 64
    """Parameter bytes per answer before MORE is used."""
    frame_type: dict[int, int] = field(default_factory=dict)
    """Measurement type -> the frame type it sends (bit 7: delta compressed)."""
    refuse_start: int = 0
    """A status every start is answered with (13: in charger); 0: starts succeed."""


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
    """PMD control point and data as a Polar device answers and sends them.

    Parameters
    ----------
    model : PolarModel
        What the device offers.
    answer : Answer
        ``answer(uuid, bytes)``: sends a notification (or indication) to the client.
    """

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
        """Whether any measurement is started."""
        return bool(self.started)

    @property
    def rate_hz(self) -> float:
        """The first started measurement's rate, Hz (52 without one)."""
        rates = [s[polar.SETTING_SAMPLE_RATE] for s in self.started.values()]
        return float(rates[0]) if rates else 52.0

    def on_subscribe(self, uuid: str) -> None:
        """Nothing: PMD streams by start request.

        Parameters
        ----------
        uuid : str
            The characteristic subscribed to.
        """
        return None

    def on_read(self, uuid: str) -> bytes:
        """The battery level (%), or the feature read ``0F <uint16 LE bitmask>``.

        Parameters
        ----------
        uuid : str
            The characteristic read.

        Returns
        -------
        bytes
            Its value (empty for another characteristic).
        """
        if uuid == polar.BATTERY_LEVEL_UUID:
            return bytes([self.battery_pct])
        if uuid != polar.CONTROL_UUID:
            return b""
        mask = sum(1 << t for t in self.model.features)
        return bytes([0x0F]) + mask.to_bytes(2, "little")

    def on_write(self, uuid: str, data: bytes) -> None:
        """A control-point request (get settings, start, stop), answered ``F0 OP TYPE
        STATUS MORE <parameters>``.

        Parameters
        ----------
        uuid : str
            The characteristic written.
        data : bytes
            The request.

        Returns
        -------
        None
            The answer goes out through ``answer``.
        """
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
        """One data frame per started stream: ``TYPE``, uint64 LE ns since 2000-01-01 of
        the last sample, ``FRAME_TYPE``, samples (delta compressed counts × FACTOR = G or
        °/s, or int16 LE mG).

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


def emulate(answer: Answer, variant: PolarModel | None, battery_v: float) -> PolarDevice:
    """The emulated device of a peripheral: a Verity Sense unless ``variant`` names
    another model.

    Parameters
    ----------
    answer : Answer
        ``answer(uuid, bytes)``: sends a notification (or indication) to the client.
    variant : PolarModel or None
        The model (None: VERITY_SENSE).
    battery_v : float
        The battery voltage, V (not used: the device reports a level in %).

    Returns
    -------
    PolarDevice
        A device in its power-up state.
    """
    return PolarDevice(variant or VERITY_SENSE, answer)
