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
    with reference 0 is never answered, an unknown path never streams.

    Parameters
    ----------
    answer : Answer
        ``answer(uuid, bytes)``: sends a notification to the client.
    """

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
        """Whether any subscription is on."""
        return bool(self.subs)

    @property
    def rate_hz(self) -> float:
        """The first subscription's rate, Hz (52 without one)."""
        return next(iter(self.subs.values()))[1] if self.subs else 52.0

    def on_subscribe(self, uuid: str) -> None:
        """Nothing: GSP streams by subscription command.

        Parameters
        ----------
        uuid : str
            The characteristic subscribed to.
        """
        return None

    def on_read(self, uuid: str) -> bytes:
        """Nothing to read in GSP (empty).

        Parameters
        ----------
        uuid : str
            The characteristic read.

        Returns
        -------
        bytes
            Its value.
        """
        return b""

    def on_write(self, uuid: str, data: bytes) -> None:
        """A GSP command: hello, subscribe or unsubscribe.

        Parameters
        ----------
        uuid : str
            The characteristic written.
        data : bytes
            The bytes written.
        """
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
        """One ``02 REF`` notification per subscription: uint32 LE ms, then the samples'
        arrays as float32 LE (acc m/s², gyro °/s[, magnetometer µT]).

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
        mag : numpy.ndarray, optional
            Magnetic field, shape (N, 3), µT, sensor frame (IMU9; default a fixed field).

        Returns
        -------
        Packets
            ``[(uuid, bytes)]`` notifications, in sending order.
        """
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
    """The emulated device of a peripheral (one model).

    Parameters
    ----------
    answer : Answer
        ``answer(uuid, bytes)``: sends a notification to the client.
    variant : None
        The model (this vendor has one).
    battery_v : float
        The battery voltage, V (not reported through GSP).

    Returns
    -------
    MovesenseDevice
        A device in its power-up state.
    """
    return MovesenseDevice(answer)
