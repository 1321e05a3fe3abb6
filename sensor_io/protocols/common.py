"""What every protocol decoder shares: the sample batch, the error, the device profile.

Units: ``acc`` m/s² (specific force, gravity included), ``gyr`` rad/s, ``mag`` µT, all in
the *sensor* frame; ``t_device_s`` is the device's own clock in s (None where the protocol
carries no timestamps: the host clock model then times the samples).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from sensor_io.errors import InputError

STANDARD_GRAVITY = 9.80665  # m/s² per g
DEG = np.pi / 180.0  # rad per degree


class ProtocolError(InputError):
    """A packet that breaks its protocol (truncated, corrupted, unknown type)."""


@dataclass
class Samples:
    """A batch of IMU samples decoded from one or more packets.

    acc: (N, 3) m/s², gyr: (N, 3) rad/s, sensor frame.
    t_device_s: (N,) s on the device clock, or None when the protocol has no timestamps.
    """

    acc: np.ndarray
    gyr: np.ndarray
    t_device_s: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.acc)

    @staticmethod
    def empty(timed: bool = False) -> Samples:
        return Samples(np.zeros((0, 3)), np.zeros((0, 3)), np.zeros(0) if timed else None)

    @staticmethod
    def concat(parts: list[Samples]) -> Samples:
        """Join batches in order; the result is timed only if every part is."""
        parts = [p for p in parts if len(p)]
        if not parts:
            return Samples.empty()
        timed = all(p.t_device_s is not None for p in parts)
        return Samples(
            np.concatenate([p.acc for p in parts]),
            np.concatenate([p.gyr for p in parts]),
            np.concatenate([p.t_device_s for p in parts]) if timed else None,
        )


@dataclass
class DecoderStats:
    """Counters a decoder keeps so a user can see why samples are missing."""

    packets: int = 0
    samples: int = 0
    bad_packets: int = 0
    skipped_bytes: int = 0
    last_error: str | None = None

    def reject(self, err: Exception) -> None:
        self.bad_packets += 1
        self.last_error = str(err)


class Decoder(Protocol):
    """A stateful decoder for one device: feed notifications in arrival order."""

    stats: DecoderStats

    def feed(self, char_uuid: str, data: bytes) -> Samples:
        """Decode one notification from characteristic ``char_uuid``; bad packets are
        counted in :attr:`stats` and dropped, never raised."""
        ...


@dataclass(frozen=True)
class Command:
    """Bytes to write to a characteristic, and whether the write needs a response."""

    char_uuid: str
    data: bytes
    response: bool = True


@dataclass(frozen=True)
class DeviceProfile:
    """How to talk to one family of devices over GATT.

    ``start(rate_hz)`` / ``stop()`` give the command writes that start / stop streaming;
    ``decoder(rate_hz)`` makes a fresh stateful decoder; ``rates_hz`` are the supported
    output rates (the client picks the nearest at or above what is asked).
    """

    model: str
    service_uuid: str
    notify_uuids: tuple[str, ...]
    write_uuid: str
    name_prefixes: tuple[str, ...]
    rates_hz: tuple[float, ...]
    start: Callable[[float], list[Command]]
    stop: Callable[[], list[Command]]
    decoder: Callable[[float], Decoder]
    timed: bool = field(default=False)

    def pick_rate(self, wanted_hz: float) -> float:
        """The lowest supported rate >= wanted_hz, else the highest supported (Hz)."""
        above = [r for r in self.rates_hz if r >= wanted_hz]
        return min(above) if above else max(self.rates_hz)
