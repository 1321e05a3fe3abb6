"""What every protocol decoder shares: the sample batch, the error, the device profile,
the plausibility check and the command/answer interface the vendors' start procedures use.

Units: ``acc`` m/s² (specific force, gravity included), ``gyr`` rad/s, ``mag`` µT, all in
the *sensor* frame; ``t_device_s`` is the device's own clock in s (None where the protocol
carries no timestamps: the host clock model then times the samples).

Commands: each vendor module has ``async start(io, wanted_hz, decoder) -> Started`` and
``async stop(io)``, written from the vendor's document against :class:`CommandIO` (write,
write-and-await-the-answer, read); :mod:`sensor_io.ble_client` implements it over bleak.
A device that refuses a start raises :class:`DeviceRejected` with the device's reason; an
answer that never comes raises :class:`AnswerTimeout` naming what was asked.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from sensor_io.errors import InputError

STANDARD_GRAVITY = 9.80665  # m/s² per g
DEG = np.pi / 180.0  # rad per degree


class ProtocolError(InputError):
    """A packet that breaks its protocol (truncated, corrupted, unknown type)."""


class DeviceRejected(InputError):
    """The device answered a command with an error (the message names its reason)."""


class AnswerTimeout(InputError):
    """The device did not answer a command in time (the message names the command)."""


ANSWER_TIMEOUT_S = 3.0  # how long a command waits for the device's answer


@dataclass
class Samples:
    """A batch of IMU samples decoded from one or more packets.

    acc: (N, 3) m/s², gyr: (N, 3) rad/s, sensor frame.
    t_device_s: (N,) s on the device clock, or None when the protocol has no timestamps.
    """

    acc: np.ndarray
    gyr: np.ndarray
    t_device_s: np.ndarray | None = None
    mag: np.ndarray | None = None  # (N, 3) µT where the device measures it

    def __len__(self) -> int:
        return len(self.acc)

    def select(self, keep: np.ndarray) -> Samples:
        """The samples where ``keep`` (N,) bool is True."""
        return Samples(self.acc[keep], self.gyr[keep],
                       None if self.t_device_s is None else self.t_device_s[keep],
                       None if self.mag is None else self.mag[keep])

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
        with_mag = all(p.mag is not None for p in parts)
        return Samples(
            np.concatenate([p.acc for p in parts]),
            np.concatenate([p.gyr for p in parts]),
            np.concatenate([p.t_device_s for p in parts]) if timed else None,
            np.concatenate([p.mag for p in parts]) if with_mag else None,
        )


@dataclass
class DecoderStats:
    """Counters a decoder keeps so a user can see why samples are missing."""

    packets: int = 0
    samples: int = 0
    bad_packets: int = 0
    skipped_bytes: int = 0
    implausible: int = 0  # samples dropped by the plausibility check
    last_error: str | None = None
    notices: list[str] = field(default_factory=list)  # device events for the client to show

    def reject(self, err: Exception) -> None:
        self.bad_packets += 1
        self.last_error = str(err)


@dataclass(frozen=True)
class Plausible:
    """What a decoded sample can be, from the stream's configured full scale.

    A sensor saturates at its full scale, so a value beyond it (plus a small margin for
    the conversion's rounding) can only be a misread.  acc_max m/s², gyr_max rad/s,
    mag_max µT (None: not checked).
    """

    acc_max: float
    gyr_max: float
    mag_max: float | None = None
    margin: float = 1.02

    def check(self, s: Samples, stats: DecoderStats, last_t: float | None = None) -> Samples:
        """``s`` without its implausible samples (counted in ``stats.implausible``):
        non-finite values, values beyond full scale, and device times not later than
        ``last_t`` or than the sample before (timestamp order)."""
        keep = np.all(np.isfinite(s.acc), axis=1) & np.all(np.isfinite(s.gyr), axis=1)
        keep &= np.all(np.abs(s.acc) <= self.acc_max * self.margin, axis=1)
        keep &= np.all(np.abs(s.gyr) <= self.gyr_max * self.margin, axis=1)
        if s.mag is not None and self.mag_max is not None:
            keep &= np.all(np.abs(s.mag) <= self.mag_max * self.margin, axis=1)
        if s.t_device_s is not None and len(s):
            t = s.t_device_s
            before = np.maximum.accumulate(np.concatenate([[-np.inf if last_t is None
                                                            else last_t], t[:-1]]))
            keep &= t > before
        dropped = int(len(s) - keep.sum())
        if dropped:
            stats.implausible += dropped
            stats.last_error = f"{dropped} implausible samples dropped"
            return s.select(keep)
        return s


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


AnswerMatch = Callable[[str, bytes], bool]
"""Whether a notification (characteristic UUID, bytes) answers the command awaited."""


class CommandIO(Protocol):
    """The transport a vendor's start/stop procedure talks through (bleak in the client).

    ``request`` writes ``cmd`` (None: writes nothing) and returns the notifications that
    ``accept`` takes, in order, once ``done`` says the answer is complete (a reply split
    over several notifications, Polar's MORE byte); it raises :class:`AnswerTimeout`
    naming ``what`` after ``timeout_s``.  The notifications also reach the decoder.
    """

    async def write(self, cmd: Command) -> None: ...

    async def request(self, cmd: Command | None, accept: AnswerMatch, what: str, *,
                      done: Callable[[list[bytes]], bool] | None = None,
                      timeout_s: float = ANSWER_TIMEOUT_S) -> list[bytes]: ...

    async def read(self, char_uuid: str) -> bytes: ...


@dataclass(frozen=True)
class Started:
    """What a start procedure set up: the rate the device streams at (Hz) and a line for
    the screen saying what was chosen from what the device offers."""

    rate_hz: float
    setup: str


def nearest(offered: list[float] | tuple[float, ...], wanted: float) -> float:
    """The offered value nearest to ``wanted`` (ties: the higher one)."""
    if not offered:
        raise ProtocolError("the device offers no value to choose from")
    return min(offered, key=lambda v: (abs(v - wanted), -v))


@dataclass(frozen=True)
class DeviceProfile:
    """How to talk to one family of devices over GATT.

    ``start(io, wanted_hz, decoder)`` runs the vendor's start procedure (capability
    discovery, configuration, start, await the answers) and returns :class:`Started`;
    ``stop(io)`` stops the streams; ``decoder(rate_hz)`` makes a fresh stateful decoder
    (the start procedure configures it from the device's answers); ``rates_hz`` are the
    documented output rates (the device's own answer decides where it gives one);
    ``battery_uuid`` a characteristic whose first byte is the battery level in %.
    """

    model: str
    service_uuid: str
    notify_uuids: tuple[str, ...]
    write_uuid: str
    name_prefixes: tuple[str, ...]
    rates_hz: tuple[float, ...]
    start: Callable[[CommandIO, float, Decoder], Awaitable[Started]]
    stop: Callable[[CommandIO], Awaitable[None]]
    decoder: Callable[[float], Decoder]
    timed: bool = field(default=False)
    battery_uuid: str | None = None  # read after the start: byte 0 is the level in %

    def pick_rate(self, wanted_hz: float) -> float:
        """The documented rate nearest to wanted_hz (Hz)."""
        return nearest(self.rates_hz, wanted_hz)
