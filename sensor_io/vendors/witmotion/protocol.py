"""WitMotion BWT901BLE / WT901BLECL (BLE 5.0) protocol.

Published by WitMotion (WT901BLE datasheet, "BLE 5.0 communication protocol"):

- service ``0000ffe5-0000-1000-8000-00805f9a34fb``, notify ``0000ffe4-…``, write ``0000ffe9-…``
  (note the vendor's non-standard base UUID ``…805f9a34fb``).
- The device streams a *byte stream* of 20-byte frames, usually one per notification:
  ``55 61`` then 9 × int16 little-endian: ax ay az (±16 g), wx wy wz (±2000 °/s),
  roll pitch yaw (±180°); scale = value / 32768 × full scale.  No checksum.
- ``55 71 RL RH`` + 8 × int16: reply to a register read (``FF AA 27 RL RH``), e.g.
  register 0x64 = battery voltage in 0.01 V.
- Commands are 5 bytes ``FF AA REG DL DH``: unlock ``FF AA 69 88 B5``, save ``FF AA 00 00 00``,
  output rate ``FF AA 03 CODE 00``.

Frames carry no timestamps: the host clock model (:mod:`sensor_io.clock`) times them.
The start procedure sets the rate, then reads the rate register back (``FF AA 27 03 00``,
as the vendor's BWT901BLE5_0 SDK example does) and the battery register: the device's
own answer confirms the rate.
"""

from __future__ import annotations

import struct

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
from sensor_io.vendors.witmotion.gatt import (  # noqa: F401 (the protocol's names)
    NOTIFY_UUID,
    SERVICE_UUID,
    WRITE_UUID,
)

HEADER = 0x55
FRAME_IMU = 0x61
FRAME_REGISTER = 0x71
FRAME_LEN = 20

ACC_FULL_SCALE = 16.0 * STANDARD_GRAVITY  # m/s²
GYR_FULL_SCALE = 2000.0 * DEG  # rad/s
ANGLE_FULL_SCALE = 180.0  # deg

PLAUSIBLE = Plausible(acc_max=ACC_FULL_SCALE, gyr_max=GYR_FULL_SCALE)

REG_SAVE = 0x00
REG_RATE = 0x03
REG_READ = 0x27
REG_BATTERY = 0x64
REG_UNLOCK = 0x69

# output-rate register codes (Hz -> code)
RATE_CODES: dict[float, int] = {
    0.2: 0x01, 0.5: 0x02, 1.0: 0x03, 2.0: 0x04, 5.0: 0x05, 10.0: 0x06,
    20.0: 0x07, 50.0: 0x08, 100.0: 0x09, 200.0: 0x0B,
}


def command(register: int, value: int) -> bytes:
    """The 5-byte write ``FF AA REG DL DH`` setting ``register`` to uint16 ``value``.

    Parameters
    ----------
    register : int
        The register (low byte used).
    value : int
        The uint16 value, written little-endian (DL, DH).

    Returns
    -------
    bytes
        The 5-byte command ``FF AA REG DL DH``.
    """
    return bytes([0xFF, 0xAA, register & 0xFF, value & 0xFF, (value >> 8) & 0xFF])


def unlock() -> bytes:
    """Unlock command ``FF AA 69 88 B5`` (before a configuration write).

    Returns
    -------
    bytes
        The 5-byte command ``FF AA REG DL DH``.
    """
    return command(REG_UNLOCK, 0xB588)


def save() -> bytes:
    """Save command ``FF AA 00 00 00`` (keeps the configuration).

    Returns
    -------
    bytes
        The 5-byte command ``FF AA REG DL DH``.
    """
    return command(REG_SAVE, 0x0000)


def set_rate(rate_hz: float) -> bytes:
    """Output-rate command; ``rate_hz`` must be one of :data:`RATE_CODES`.

    Parameters
    ----------
    rate_hz : float
        The output rate, Hz.

    Returns
    -------
    bytes
        The 5-byte command ``FF AA REG DL DH``.
    """
    if rate_hz not in RATE_CODES:
        raise ProtocolError(f"WitMotion rate {rate_hz} Hz not supported "
                            f"(choose from {sorted(RATE_CODES)})")
    return command(REG_RATE, RATE_CODES[rate_hz])


def read_register(register: int) -> bytes:
    """Ask for 8 registers starting at ``register``; the reply is a ``55 71`` frame.

    Parameters
    ----------
    register : int
        The first register.

    Returns
    -------
    bytes
        The 5-byte command ``FF AA REG DL DH``.
    """
    return command(REG_READ, register)


def decode_imu_frames(frames: np.ndarray) -> Samples:
    """Decode aligned ``55 61`` frames.

    Parameters
    ----------
    frames : numpy.ndarray
        Shape (N, 20), uint8, each row one frame: ``55 61`` then 9 × int16 little-endian
        (ax ay az ±16 g, wx wy wz ±2000 °/s, roll pitch yaw ±180°).

    Returns
    -------
    Samples
        acc (N, 3) m/s², gyr (N, 3) rad/s, sensor frame, untimed.
    """
    frames = np.ascontiguousarray(frames, dtype=np.uint8)
    if frames.ndim != 2 or frames.shape[1] != FRAME_LEN:
        raise ProtocolError(f"WitMotion frames must be (N, {FRAME_LEN}) bytes")
    if len(frames) and not (np.all(frames[:, 0] == HEADER) and np.all(frames[:, 1] == FRAME_IMU)):
        raise ProtocolError("WitMotion IMU frame does not start with 55 61")
    raw = frames[:, 2:].copy().view("<i2").astype(np.float64)  # (N, 9)
    return Samples(acc=raw[:, 0:3] / 32768.0 * ACC_FULL_SCALE,
                   gyr=raw[:, 3:6] / 32768.0 * GYR_FULL_SCALE)


def decode_angles_deg(frame: bytes) -> tuple[float, float, float]:
    """Roll, pitch, yaw in degrees from one ``55 61`` frame (the device's own fusion).

    Parameters
    ----------
    frame : bytes
        One 20-byte frame (int16 little-endian angles at offsets 14, 16, 18).

    Returns
    -------
    tuple of float
        (roll, pitch, yaw), degrees, ±180.
    """
    if len(frame) < FRAME_LEN or frame[0] != HEADER or frame[1] != FRAME_IMU:
        raise ProtocolError("not a complete WitMotion 55 61 frame")
    r, p, y = struct.unpack_from("<3h", frame, 14)
    return (r / 32768.0 * ANGLE_FULL_SCALE, p / 32768.0 * ANGLE_FULL_SCALE,
            y / 32768.0 * ANGLE_FULL_SCALE)


class WitMotionDecoder:
    """Stateful framer for the WitMotion byte stream.

    Bytes may arrive split or merged across notifications, and garbage may appear
    (corruption, a frame that lost its first bytes).  A frame starts with ``55 61`` or
    ``55 71`` and is 20 bytes long; there is no checksum.  A candidate whose next byte
    (once received) does not start a frame is torn only if a frame start inside it is
    followed by one: then the framer resynchronises there; otherwise the candidate is a
    whole frame followed by garbage and is kept.  Register replies land in
    :attr:`registers` (register -> int16 value).

    Parameters
    ----------
    rate_hz : float
        The configured output rate, Hz (set by :func:`start_imu`).
    """

    def __init__(self, rate_hz: float = 100.0) -> None:
        self.rate_hz = rate_hz
        self.stats = DecoderStats()
        self.registers: dict[int, int] = {}
        self.awaiting_rate = False  # frames before the rate register's reply: old rate
        self._buf = bytearray()

    @property
    def battery_v(self) -> float | None:
        """Battery voltage in V from the last register-0x64 reply, else None."""
        v = self.registers.get(REG_BATTERY)
        return None if v is None else v / 100.0

    def feed(self, char_uuid: str, data: bytes) -> Samples:
        """Add one notification's bytes to the stream and decode the whole frames in it.

        Parameters
        ----------
        char_uuid : str
            The characteristic that notified.
        data : bytes
            The notification's bytes (any part of the stream).

        Returns
        -------
        Samples
            acc m/s², gyr rad/s, sensor frame, untimed; possibly none.
        """
        self._buf += data
        frames: list[bytes] = []
        buf = self._buf
        i = 0
        n = len(buf)
        while n - i >= 2:
            if buf[i] != HEADER or buf[i + 1] not in (FRAME_IMU, FRAME_REGISTER):
                j = buf.find(HEADER, i + 1)
                j = n - 1 if j < 0 else j
                self.stats.skipped_bytes += j - i
                i = j
                continue
            if n - i < FRAME_LEN:
                break  # wait for the rest of the frame
            if n - i > FRAME_LEN and buf[i + FRAME_LEN] != HEADER:
                inner = _inner_frame_start(buf, i, n)
                if inner == -1:
                    break  # an inner start's successor not received yet: wait
                if inner is not None:
                    self.stats.reject(ProtocolError("WitMotion frame torn by the next one"))
                    self.stats.skipped_bytes += inner - i
                    i = inner
                    continue
            frame = bytes(buf[i:i + FRAME_LEN])
            i += FRAME_LEN
            self.stats.packets += 1
            if frame[1] == FRAME_REGISTER:
                self._register_reply(frame)
            elif self.awaiting_rate:
                self.stats.skipped_bytes += FRAME_LEN
            else:
                frames.append(frame)
        del buf[:i]
        if not frames:
            return Samples.empty()
        out = decode_imu_frames(np.frombuffer(b"".join(frames), np.uint8).reshape(-1, FRAME_LEN))
        out = PLAUSIBLE.check(out, self.stats)
        self.stats.samples += len(out)
        return out

    def _register_reply(self, frame: bytes) -> None:
        start = frame[2] | (frame[3] << 8)
        if start == REG_RATE:
            self.awaiting_rate = False
        for k, v in enumerate(struct.unpack_from("<8h", frame, 4)):
            self.registers[start + k] = v


def _inner_frame_start(buf: bytearray, i: int, n: int) -> int | None:
    """The first frame start inside the candidate at ``i`` that is followed by another
    frame start (None: there is none; -1: one whose successor has not arrived)."""
    for j in range(i + 1, i + FRAME_LEN):
        if buf[j] == HEADER and j + 1 < n and buf[j + 1] in (FRAME_IMU, FRAME_REGISTER):
            if j + FRAME_LEN >= n:
                return -1
            if buf[j + FRAME_LEN] == HEADER:
                return j
    return None


def register_reply(stream: bytes, register: int) -> int | None:
    """The int16 value of ``register`` from the first ``55 71`` reply for it in
    ``stream`` (bytes as received), else None.

    Parameters
    ----------
    stream : bytes
        Bytes as received.
    register : int
        The register asked for.

    Returns
    -------
    int or None
        The int16 (little-endian) value, None before a complete reply.
    """
    head = bytes([HEADER, FRAME_REGISTER, register & 0xFF, register >> 8])
    k = stream.find(head)
    if k < 0 or len(stream) - k < FRAME_LEN:
        return None
    return struct.unpack_from("<h", stream, k + 4)[0]


async def read_register_value(io: CommandIO, register: int) -> int:
    """Ask for ``register`` and await its reply in the byte stream (split or merged with
    data frames as it may be).

    Parameters
    ----------
    io : CommandIO
        The link to the device.
    register : int
        The register.

    Returns
    -------
    int
        Its int16 value (register 0x64: battery, 0.01 V).
    """
    parts = await io.request(
        Command(WRITE_UUID, read_register(register)), lambda uuid, d: uuid == NOTIFY_UUID,
        f"WitMotion register 0x{register:02X} read",
        done=lambda got: register_reply(b"".join(got), register) is not None)
    value = register_reply(b"".join(parts), register)
    assert value is not None
    return value


async def start_imu(io: CommandIO, wanted_hz: float, decoder: WitMotionDecoder) -> Started:
    """Unlock, set the documented rate nearest to ``wanted_hz``, save, read the rate
    register back (the device's answer must hold the code written) and the battery.

    Parameters
    ----------
    io : CommandIO
        The link to the device.
    wanted_hz : float
        The rate asked for, Hz.
    decoder : WitMotionDecoder
        The link's decoder (its rate is set).

    Returns
    -------
    Started
        The rate streamed, Hz, and the setup line; DeviceRejected when the device keeps
        another rate code.
    """
    offered = sorted(r for r in RATE_CODES if r >= 10.0)
    rate = nearest(offered, wanted_hz)
    decoder.awaiting_rate = True  # until the rate reply, frames come at the old rate
    for cmd in (unlock(), set_rate(rate), save()):
        await io.write(Command(WRITE_UUID, cmd))
    code = await read_register_value(io, REG_RATE)
    if code != RATE_CODES[rate]:
        raise DeviceRejected(f"WitMotion kept rate code 0x{code:02X} after 0x"
                             f"{RATE_CODES[rate]:02X} ({rate:g} Hz) was written")
    await read_register_value(io, REG_BATTERY)
    decoder.rate_hz = rate
    return Started(rate, f"{rate:g} Hz (of {[f'{r:g}' for r in offered]}), ±16 g, ±2000 °/s")


async def stop_imu(io: CommandIO) -> None:
    """Nothing to write: unsubscribing stops the stream.

    Parameters
    ----------
    io : CommandIO
        The link to the device.
    """
    return None  # the device streams whenever notifications are on; unsubscribing stops it


PROFILE = DeviceProfile(
    model="WitMotion BWT901BLE",
    service_uuid=SERVICE_UUID,
    notify_uuids=(NOTIFY_UUID,),
    write_uuid=WRITE_UUID,
    name_prefixes=("WT901", "BWT901", "WT"),
    rates_hz=tuple(r for r in RATE_CODES if r >= 10.0),
    start=start_imu,  # type: ignore[arg-type]
    stop=stop_imu,
    decoder=WitMotionDecoder,
    timed=False,
)
