"""What a vendor folder gives the rest of the package: its :class:`Vendor` entry (the
protocol profile the streaming client uses and the factory of its emulated device), and
the shape every emulated device has, which the generic emulator
(:mod:`sensor_io.ble_emulation`) drives.

An emulated device is the device side of a vendor protocol, written from the vendor's
documents, not from this project's decoders (so a decoder and its emulator cannot agree
on a wrong reading).  It has ``chars`` ((uuid, properties) pairs, its GATT table),
``on_write(uuid, data)``, ``on_read(uuid) -> bytes``, ``on_subscribe(uuid)``,
``streaming``, ``rate_hz`` (Hz), ``samples_per_packet`` and
``packets(t, acc, gyr, device_time) -> [(uuid, bytes)]``; it sends answers through the
``answer(uuid, bytes)`` it was made with.  Units in: t (N,) s world time, acc (N, 3) m/s²,
gyr (N, 3) rad/s, sensor frame; ``device_time(t)`` maps world time to the device's clock
(s).  A device that can end its measurement by itself has ``stop_by_device()``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from sensor_io.vendors.common import DeviceProfile

Answer = Callable[[str, bytes], None]
DeviceTime = Callable[[np.ndarray], np.ndarray]
Packets = list[tuple[str, bytes]]


class EmulatedDevice(Protocol):
    """The device side of one vendor protocol (see the module docstring).

    Parameters
    ----------
    *args, **kwargs
        None: a protocol describes an object's attributes, it is not built.
    """

    chars: Sequence[tuple[str, list[str]]]
    samples_per_packet: int

    @property
    def streaming(self) -> bool:
        """Whether the device is measuring (sending sample packets)."""
        ...

    @property
    def rate_hz(self) -> float:
        """The sample rate the device is set to, Hz."""
        ...

    def on_write(self, uuid: str, data: bytes) -> None:
        """Handle a write (a command) from the client.

        Parameters
        ----------
        uuid : str
            The characteristic written.
        data : bytes
            The bytes written.
        """
        ...

    def on_read(self, uuid: str) -> bytes:
        """Answer a read from the client.

        Parameters
        ----------
        uuid : str
            The characteristic read.

        Returns
        -------
        bytes
            Its value.
        """
        ...

    def on_subscribe(self, uuid: str) -> None:
        """Note that the client subscribed to notifications of a characteristic.

        Parameters
        ----------
        uuid : str
            The characteristic.
        """
        ...

    def packets(self, t: np.ndarray, acc: np.ndarray, gyr: np.ndarray,
                device_time: DeviceTime) -> Packets:
        """The notifications carrying these samples, in the vendor's wire format.

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
        ...


EmulatorFactory = Callable[[Answer, Any, float], EmulatedDevice]
"""``emulate(answer, variant, battery_v)``: a fresh emulated device (a new connection
starts from power-up state); ``variant`` picks a model where the vendor has several
(None: its default), ``battery_v`` (V) is the battery a device reports where it does."""


@dataclass(frozen=True)
class Vendor:
    """One supported device family, as its folder ``sensor_io/vendors/<name>/`` declares it:
    ``profile`` says how the client talks to it, ``emulate`` makes its emulated device."""

    name: str
    """The folder name under ``sensor_io/vendors/``."""
    profile: DeviceProfile
    """How the streaming client talks to the device."""
    emulate: EmulatorFactory
    """Makes a fresh emulated device (see :data:`EmulatorFactory`)."""
