"""Movella DOT (formerly Xsens DOT) real-time streaming, from the "Movella DOT BLE Service
Specification" (XD0506P; revision C, 2023).

- UUIDs ``1517xxxx-4947-11e9-8646-d663bd873d93``: configuration service 0x1000 (device
  control 0x1002, read/write, 32 bytes), measurement service 0x2000 (control 0x2001,
  long/medium/short payload 0x2002/0x2003/0x2004, notify), battery 0x3001
  (``level% charging``).
- Device control (Table 7): visit index (bit 4: output rate), identify, power off,
  power-saving timeouts ×4, tag length, tag (16), output rate (uint16, offset 24),
  filter profile (offset 26), 5 reserved.  Streaming rates 1, 4, 10, 12, 15, 20, 30,
  60 Hz (120 Hz for recording only); the rate cannot change while measuring.
- Measurement control (Table 13): ``TYPE ACTION MODE``: type 1 = measurement, action
  1 start / 0 stop; notifications must be on before the start is written.
- Payload mode 21 "Rate quantities" (Table 15, medium payload, 28 bytes, trailing bytes
  zero): uint32 timestamp µs, acceleration 3×float32 m/s² (calibrated, sensor frame),
  angular velocity 3×float32 °/s.  Mode 20 adds the magnetic field (3×int16 fixed point
  in arbitrary units, not µT: not used here).

The device answers no command: the start procedure writes the rate, reads the device
control characteristic back (the device's own rate is what streams), starts, and reads
the measurement control back to confirm the mode.
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
from sensor_io.vendors.movella.gatt import (  # noqa: F401 (the protocol's names)
    BATTERY_UUID,
    DEVICE_CONTROL_UUID,
    MEASUREMENT_CONTROL_UUID,
    MEDIUM_UUID,
    SERVICE_UUID,
)

MODE_RATE_QUANTITIES = 21
RATE_QUANTITIES_LEN = 28
RATES_HZ = (1.0, 4.0, 10.0, 12.0, 15.0, 20.0, 30.0, 60.0)
VISIT_OUTPUT_RATE = 0x10
RATE_OFFSET = 24
# the DOT's IMU full scales: ±16 g, ±2000 °/s (Movella DOT user manual, specifications)
PLAUSIBLE = Plausible(acc_max=16 * STANDARD_GRAVITY, gyr_max=2000 * DEG)


def set_output_rate(rate_hz: float) -> bytes:
    """The 32-byte device control write that sets the output rate (visit index bit 4).

    Parameters
    ----------
    rate_hz : float
        One of RATES_HZ, Hz (else ProtocolError).

    Returns
    -------
    bytes
        32 bytes: visit index 0x10 at offset 0, the rate as little-endian uint16 at offset
        24, zeros elsewhere.
    """
    if rate_hz not in RATES_HZ:
        raise ProtocolError(f"Movella DOT streams at {list(RATES_HZ)} Hz, not {rate_hz}")
    out = bytearray(32)
    out[0] = VISIT_OUTPUT_RATE
    out[RATE_OFFSET:RATE_OFFSET + 2] = int(rate_hz).to_bytes(2, "little")
    return bytes(out)


def output_rate(device_control: bytes) -> int:
    """The output rate (Hz) in a device control read.

    Parameters
    ----------
    device_control : bytes
        The device control characteristic's value (at least 26 bytes).

    Returns
    -------
    int
        The little-endian uint16 at offset 24, Hz.
    """
    if len(device_control) < RATE_OFFSET + 2:
        raise ProtocolError(f"Movella DOT device control of {len(device_control)} bytes")
    return int.from_bytes(device_control[RATE_OFFSET:RATE_OFFSET + 2], "little")


def measurement(start: bool, mode: int = MODE_RATE_QUANTITIES) -> bytes:
    """Measurement control ``01 ACTION MODE``.

    Parameters
    ----------
    start : bool
        Start (action 1) or stop (action 0).
    mode : int
        The payload mode (21: rate quantities).

    Returns
    -------
    bytes
        The 3-byte write.
    """
    return bytes([1, 1 if start else 0, mode])


def decode_rate_quantities(data: bytes) -> tuple[int, np.ndarray, np.ndarray]:
    """(timestamp µs, acc (3,) m/s², gyr (3,) rad/s) of one mode-21 notification.

    Parameters
    ----------
    data : bytes
        The medium payload: little-endian uint32 µs, 3×float32 m/s², 3×float32 °/s, then
        only zero bytes (ProtocolError otherwise).

    Returns
    -------
    timestamp_us : int
        The device clock, µs (uint32, wraps).
    acc : numpy.ndarray
        Acceleration, shape (3,), m/s², sensor frame.
    gyr : numpy.ndarray
        Angular rate, shape (3,), rad/s, sensor frame.
    """
    if len(data) < RATE_QUANTITIES_LEN or any(data[RATE_QUANTITIES_LEN:]):
        raise ProtocolError(f"Movella DOT rate-quantities payload of {len(data)} bytes: "
                            f"{bytes(data[:8]).hex(' ')}…")
    us, ax, ay, az, gx, gy, gz = struct.unpack_from("<I3f3f", data)
    return us, np.array([ax, ay, az]), np.array([gx, gy, gz]) * DEG


class DotDecoder:
    """Rate-quantities notifications to samples; the uint32 µs clock is unwrapped
    (it wraps every 71.6 min), implausible samples dropped and counted.

    Parameters
    ----------
    rate_hz : float
        The configured output rate, Hz (set by :func:`start_imu`).
    """

    def __init__(self, rate_hz: float = 60.0) -> None:
        self.rate_hz = rate_hz
        self.stats = DecoderStats()
        self._wraps = 0
        self._last_us: int | None = None
        self._last_t: float | None = None

    def feed(self, char_uuid: str, data: bytes) -> Samples:
        """Decode one notification; anything but a rate-quantities payload is counted and
        dropped.

        Parameters
        ----------
        char_uuid : str
            The characteristic that notified (the medium payload's).
        data : bytes
            The notification's value.

        Returns
        -------
        Samples
            At most one sample: acc m/s², gyr rad/s, sensor frame, t_device_s s (unwrapped).
        """
        if char_uuid != MEDIUM_UUID:
            self.stats.reject(ProtocolError(f"Movella DOT notification on {char_uuid}"))
            return Samples.empty(timed=True)
        try:
            us, acc, gyr = decode_rate_quantities(bytes(data))
        except ProtocolError as err:
            self.stats.reject(err)
            return Samples.empty(timed=True)
        if self._last_us is not None and us + 0x80000000 < self._last_us:
            self._wraps += 1
        self._last_us = us
        t = np.array([(us + self._wraps * 2**32) * 1e-6])
        self.stats.packets += 1
        out = PLAUSIBLE.check(Samples(acc[None, :], gyr[None, :], t), self.stats, self._last_t)
        if len(out):
            self._last_t = float(out.t_device_s[-1])
        self.stats.samples += len(out)
        return out


async def start_imu(io: CommandIO, wanted_hz: float, decoder: DotDecoder) -> Started:
    """Set the documented streaming rate nearest to ``wanted_hz``, read it back, start
    "Rate quantities", read the measurement control back.

    Parameters
    ----------
    io : CommandIO
        The link to the device.
    wanted_hz : float
        The rate asked for, Hz.
    decoder : DotDecoder
        The link's decoder (its rate is set).

    Returns
    -------
    Started
        The rate streamed, Hz, and the setup line; DeviceRejected when the device keeps
        another rate or does not start.
    """
    rate = nearest(RATES_HZ, wanted_hz)
    await io.write(Command(DEVICE_CONTROL_UUID, set_output_rate(rate)))
    got = output_rate(await io.read(DEVICE_CONTROL_UUID))
    if got != rate:
        raise DeviceRejected(f"Movella DOT kept its output rate at {got} Hz after "
                             f"{rate:g} Hz was written (is it measuring already?)")
    await io.write(Command(MEASUREMENT_CONTROL_UUID, measurement(True)))
    state = await io.read(MEASUREMENT_CONTROL_UUID)
    if state[:3] != bytes([1, 1, MODE_RATE_QUANTITIES]):
        raise DeviceRejected(f"Movella DOT did not start rate quantities "
                             f"(control reads {state.hex(' ')})")
    decoder.rate_hz = rate
    return Started(rate, f"{rate:g} Hz (of {[int(r) for r in RATES_HZ]}), rate quantities")


async def stop_imu(io: CommandIO) -> None:
    """Stop the measurement (measurement control, action 0).

    Parameters
    ----------
    io : CommandIO
        The link to the device.
    """
    await io.write(Command(MEASUREMENT_CONTROL_UUID, measurement(False)))


PROFILE = DeviceProfile(
    model="Movella DOT",
    service_uuid=SERVICE_UUID,
    notify_uuids=(MEDIUM_UUID,),
    write_uuid=MEASUREMENT_CONTROL_UUID,
    name_prefixes=("Movella DOT", "Xsens DOT"),
    rates_hz=RATES_HZ,
    start=start_imu,  # type: ignore[arg-type]
    stop=stop_imu,
    decoder=DotDecoder,
    timed=True,
    battery_uuid=BATTERY_UUID,
)
