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
    """A batch of IMU samples decoded from one or more packets."""

    acc: np.ndarray
    """Specific force, shape (N, 3), m/s², sensor frame."""
    gyr: np.ndarray
    """Angular rate, shape (N, 3), rad/s, sensor frame."""
    t_device_s: np.ndarray | None = None
    """Shape (N,), s on the device clock, or None when the protocol has no timestamps."""
    mag: np.ndarray | None = None
    """Magnetic field, shape (N, 3), µT, sensor frame, where the device measures it."""

    def __len__(self) -> int:
        return len(self.acc)

    def select(self, keep: np.ndarray) -> Samples:
        """The samples where ``keep`` (N,) bool is True.

        Parameters
        ----------
        keep : numpy.ndarray
            Shape (N,), bool.

        Returns
        -------
        Samples
            The kept samples, all arrays selected alike.
        """
        return Samples(self.acc[keep], self.gyr[keep],
                       None if self.t_device_s is None else self.t_device_s[keep],
                       None if self.mag is None else self.mag[keep])

    @staticmethod
    def empty(timed: bool = False) -> Samples:
        """No samples.

        Parameters
        ----------
        timed : bool
            Give ``t_device_s`` as an empty array rather than None.

        Returns
        -------
        Samples
            An empty batch (acc, gyr shape (0, 3)).
        """
        return Samples(np.zeros((0, 3)), np.zeros((0, 3)), np.zeros(0) if timed else None)

    @staticmethod
    def concat(parts: list[Samples]) -> Samples:
        """Join batches in order; the result is timed only if every part is.

        Parameters
        ----------
        parts : list of Samples
            The batches, in time order.

        Returns
        -------
        Samples
            Their samples; ``mag`` only if every non-empty part has it.
        """
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
    """Notifications decoded."""
    samples: int = 0
    """Samples decoded."""
    bad_packets: int = 0
    """Notifications dropped as broken."""
    skipped_bytes: int = 0
    """Bytes skipped while resynchronising a byte stream."""
    implausible: int = 0
    """Samples dropped by the plausibility check."""
    last_error: str | None = None
    """The latest problem, one line."""
    notices: list[str] = field(default_factory=list)
    """Device events for the client to show."""

    def reject(self, err: Exception) -> None:
        """Count a dropped packet and keep its reason.

        Parameters
        ----------
        err : Exception
            Why the packet was dropped.
        """
        self.bad_packets += 1
        self.last_error = str(err)


@dataclass(frozen=True)
class Plausible:
    """What a decoded sample can be, from the stream's configured full scale.

    A sensor saturates at its full scale, so a value beyond it (plus a small margin for
    the conversion's rounding) can only be a misread.
    """

    acc_max: float
    """Accelerometer full scale, m/s²."""
    gyr_max: float
    """Gyroscope full scale, rad/s."""
    mag_max: float | None = None
    """Magnetometer full scale, µT (None: not checked)."""
    margin: float = 1.02
    """Factor on the full scales allowed for the conversion's rounding."""

    def check(self, s: Samples, stats: DecoderStats, last_t: float | None = None) -> Samples:
        """``s`` without its implausible samples (counted in ``stats.implausible``):
        non-finite values, values beyond full scale, and device times not later than
        ``last_t`` or than the sample before (timestamp order).

        Parameters
        ----------
        s : Samples
            Decoded samples (m/s², rad/s, µT; device time s).
        stats : DecoderStats
            The decoder's counters, updated.
        last_t : float, optional
            Device time of the last sample already accepted, s.

        Returns
        -------
        Samples
            The plausible samples (``s`` itself when none was dropped).
        """
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
    """A stateful decoder for one device: feed notifications in arrival order.

    Parameters
    ----------
    *args, **kwargs
        None: a protocol describes an object's attributes, it is not built.
    """

    stats: DecoderStats

    def feed(self, char_uuid: str, data: bytes) -> Samples:
        """Decode one notification from characteristic ``char_uuid``; bad packets are
        counted in :attr:`stats` and dropped, never raised.

        Parameters
        ----------
        char_uuid : str
            The characteristic that notified.
        data : bytes
            The notification's value.

        Returns
        -------
        Samples
            The samples it completed (m/s², rad/s, sensor frame), possibly none.
        """
        ...


@dataclass(frozen=True)
class Command:
    """Bytes to write to a characteristic, and whether the write needs a response."""

    char_uuid: str
    """The characteristic to write."""
    data: bytes
    """The bytes to write."""
    response: bool = True
    """Write with response (the link confirms it)."""


AnswerMatch = Callable[[str, bytes], bool]
"""Whether a notification (characteristic UUID, bytes) answers the command awaited."""


class CommandIO(Protocol):
    """The transport a vendor's start/stop procedure talks through (bleak in the client).

    ``request`` writes ``cmd`` (None: writes nothing) and returns the notifications that
    ``accept`` takes, in order, once ``done`` says the answer is complete (a reply split
    over several notifications, Polar's MORE byte); it raises :class:`AnswerTimeout`
    naming ``what`` after ``timeout_s``.  The notifications also reach the decoder.

    Parameters
    ----------
    *args, **kwargs
        None: a protocol describes an object's attributes, it is not built.
    """

    async def write(self, cmd: Command) -> None:
        """Write a command without awaiting an answer.

        Parameters
        ----------
        cmd : Command
            What to write, where.
        """
        ...

    async def request(self, cmd: Command | None, accept: AnswerMatch, what: str, *,
                      done: Callable[[list[bytes]], bool] | None = None,
                      timeout_s: float = ANSWER_TIMEOUT_S) -> list[bytes]:
        """Write ``cmd`` and await its answer.

        Parameters
        ----------
        cmd : Command or None
            What to write (None: nothing, only await).
        accept : AnswerMatch
            Which notifications belong to the answer.
        what : str
            The command's name, for the timeout message.
        done : callable, optional
            Whether the notifications taken so far complete the answer (None: the first
            one does).
        timeout_s : float
            How long to wait, s.

        Returns
        -------
        list of bytes
            The answer's notifications, in order.
        """
        ...

    async def read(self, char_uuid: str) -> bytes:
        """Read a characteristic.

        Parameters
        ----------
        char_uuid : str
            The characteristic.

        Returns
        -------
        bytes
            Its value.
        """
        ...


@dataclass(frozen=True)
class Started:
    """What a start procedure set up: the rate the device streams at (Hz) and a line for
    the screen saying what was chosen from what the device offers."""

    rate_hz: float
    """The rate the device streams at, Hz."""
    setup: str
    """What was chosen from what the device offers, one line for the screen."""


def nearest(offered: list[float] | tuple[float, ...], wanted: float) -> float:
    """The offered value nearest to ``wanted`` (ties: the higher one).

    Parameters
    ----------
    offered : list or tuple of float
        The values the device offers.
    wanted : float
        The value asked for (same unit).

    Returns
    -------
    float
        The nearest offered value; ProtocolError when none is offered.
    """
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
    """The device family's name, for the screen and the recording's metadata."""
    service_uuid: str
    """The primary service UUID it advertises (lower case)."""
    notify_uuids: tuple[str, ...]
    """Characteristics to subscribe to (samples and answers)."""
    write_uuid: str
    """The characteristic commands are written to."""
    name_prefixes: tuple[str, ...]
    """Advertised-name prefixes that identify it when the service UUID is not advertised."""
    rates_hz: tuple[float, ...]
    """The documented output rates, Hz."""
    start: Callable[[CommandIO, float, Decoder], Awaitable[Started]]
    """``start(io, wanted_hz, decoder)``: the vendor's start procedure."""
    stop: Callable[[CommandIO], Awaitable[None]]
    """``stop(io)``: stops the streams."""
    decoder: Callable[[float], Decoder]
    """``decoder(rate_hz)``: a fresh stateful decoder."""
    timed: bool = field(default=False)
    """Whether the samples carry device timestamps (else the host clock model times them)."""
    battery_uuid: str | None = None
    """Read after the start: byte 0 is the battery level in %."""

    def pick_rate(self, wanted_hz: float) -> float:
        """The documented rate nearest to wanted_hz (Hz).

        Parameters
        ----------
        wanted_hz : float
            The rate asked for, Hz.

        Returns
        -------
        float
            The nearest of ``rates_hz``, Hz.
        """
        return nearest(self.rates_hz, wanted_hz)
