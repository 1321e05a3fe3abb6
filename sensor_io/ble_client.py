"""Streaming several BLE IMUs at once through bleak, into a recorder.

Flow per sensor: connect (one sensor at a time: BLE stacks handle concurrent connection
set-up badly), subscribe, run the vendor's start procedure (capability discovery, the
rate and range nearest to what is asked from what the device offers, start, await the
device's answers: :mod:`sensor_io.vendors`) through :class:`_CommandIO`, which writes,
awaits the answer matched by op code or reference and times out naming the command.  A
start the device rejects, or an answer that never comes, leaves the sensor ``failed``
with the device's reason (status, events, and the exit message); a stream the device
stops is shown ``stopped`` with its reason, never as streaming.  Then all sensors stream
concurrently.  Notification callbacks only stamp the arrival time and enqueue the raw
bytes; one decode task journals the raw bytes, decodes them
(:mod:`sensor_io.vendors`), puts samples on the common clock (:mod:`sensor_io.clock`),
marks gaps explicitly and hands the samples to the sink.  A supervisor per sensor
reconnects after a drop with exponential backoff (re-scan, new client through
``bleak_retry_connector.establish_connection``, resubscribe, restart streams).

Common clock: s since the session started, from the host clock ``clock()`` (default: the
running event loop's clock, which is ``time.monotonic`` on a normal loop and virtual time
on :class:`sensor_io.virtual_clock.VirtualTimeLoop`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from bleak import BleakClient, BleakScanner
from bleak.exc import BleakError
from bleak_retry_connector import establish_connection

from sensor_io.clock import DeviceClock, HostRateClock
from sensor_io.errors import InputError, first_line
from sensor_io.vendors import profile_for
from sensor_io.vendors.common import (
    ANSWER_TIMEOUT_S,
    AnswerMatch,
    AnswerTimeout,
    Command,
    Decoder,
    DeviceProfile,
    DeviceRejected,
    ProtocolError,
)

GAP_FACTOR = 1.5  # a spacing above 1.5 sample periods is a gap


class SampleSink(Protocol):
    """Where streamed data goes (:class:`sensor_io.recorder.Recorder` fits).

    Parameters
    ----------
    *args, **kwargs
        None: a protocol describes an object's attributes, it is not built.
    """

    def add_raw(self, sensor: str, char_uuid: str, t_host: float, data: bytes) -> None:
        """Keep one notification as received.

        Parameters
        ----------
        sensor : str
            The placement.
        char_uuid : str
            The characteristic that notified.
        t_host : float
            Its arrival, s on the common clock.
        data : bytes
            The notification's bytes.
        """
        ...

    def add_samples(self, sensor: str, t: np.ndarray, acc: np.ndarray,
                    gyr: np.ndarray, mag: np.ndarray | None = None) -> int:
        """Append decoded samples.

        Parameters
        ----------
        sensor : str
            The placement.
        t : numpy.ndarray
            Sample times, shape (N,), s, common clock.
        acc : numpy.ndarray
            Specific force, shape (N, 3), m/s², sensor frame.
        gyr : numpy.ndarray
            Angular rate, shape (N, 3), rad/s, sensor frame.
        mag : numpy.ndarray, optional
            Magnetic field, shape (N, 3), µT, sensor frame.

        Returns
        -------
        int
            How many samples were kept.
        """
        ...

    def add_gap(self, sensor: str, start_s: float, end_s: float, reason: str) -> None:
        """Mark samples known missing.

        Parameters
        ----------
        sensor : str
            The placement.
        start_s : float
            Start of the gap, s, common clock.
        end_s : float
            End of the gap, s, common clock.
        reason : str
            Why (reconnect, dropped packets, ...).
        """
        ...

    def add_event(self, what: str, t: float, **fields: Any) -> None:
        """Note an event (connect, reconnect, device notice, ...).

        Parameters
        ----------
        what : str
            The event's name.
        t : float
            When, s on the common clock.
        **fields : Any
            Details, JSON-serialisable.
        """
        ...

    def update_sensor_meta(self, sensor: str, **fields: Any) -> None:
        """Update a sensor's entry in the recording's metadata.

        Parameters
        ----------
        sensor : str
            The placement.
        **fields : Any
            Keys to set (model, address, rate_hz in Hz, battery_pct in %, ...).
        """
        ...


@dataclass
class FoundDevice:
    """An advertising device found by :func:`scan`."""

    address: str
    """Its BLE address (or the platform's identifier)."""
    name: str | None
    """Its advertised name, None if it gives none."""
    model: str | None
    """The recognised vendor profile's model, None if not recognised."""
    rssi: int
    """Signal strength of the advertisement, dBm."""


async def scan(timeout_s: float = 5.0, *, backend: type | None = None) -> list[FoundDevice]:
    """IMUs advertising nearby, strongest signal first (model None if not recognised).

    Parameters
    ----------
    timeout_s : float
        How long to listen, s.
    backend : type, optional
        A bleak scanner backend (None: the platform's).

    Returns
    -------
    list of FoundDevice
        Recognised devices first, each group by falling RSSI.
    """
    kw: dict[str, Any] = {"backend": backend} if backend else {}
    found = await BleakScanner.discover(timeout=timeout_s, return_adv=True, **kw)
    out = []
    for dev, adv in found.values():
        prof = profile_for(adv.service_uuids, adv.local_name or dev.name)
        out.append(FoundDevice(dev.address, adv.local_name or dev.name,
                               prof.model if prof else None, adv.rssi))
    return sorted(out, key=lambda d: (d.model is None, -d.rssi))


@dataclass
class SensorSpec:
    """A sensor to stream: its placement, address, wanted rate (Hz) and, if known, the
    protocol profile (else found from its advertisement)."""

    placement: str
    """Where the sensor is worn (one of PLACEMENTS)."""
    address: str
    """Its BLE address."""
    rate_hz: float = 100.0
    """The rate asked for, Hz (the device's nearest offer is used)."""
    profile: DeviceProfile | None = None
    """Its vendor profile; None: found from its advertisement."""


@dataclass
class SensorStatus:
    """Live figures of one sensor, for the status display."""

    placement: str
    """Where the sensor is worn."""
    address: str
    """Its BLE address."""
    model: str = "?"
    """The device's model, once known."""
    state: str = "waiting"
    """waiting, connecting, streaming, reconnecting, stopped or failed."""
    rate_hz: float = 0.0
    """The configured rate, Hz."""
    samples: int = 0
    """Samples received."""
    gaps: int = 0
    """Gaps marked."""
    reconnects: int = 0
    """Reconnections after a drop."""
    bad_packets: int = 0
    """Notifications the decoder dropped as broken."""
    duplicates: int = 0
    """Notifications taken as delivered twice (dropped)."""
    battery_v: float | None = None
    """Battery voltage, V, where the device reports it."""
    last_t: float | None = None
    """Time of the last sample, s on the common clock."""
    error: str | None = None
    """The latest error or the device's reason for stopping, one line."""
    streaming_since: float | None = None
    """When streaming (re)started, s on the common clock."""
    setup: str | None = None
    """What was chosen from what the device offers (rate, range)."""
    implausible: int = 0
    """Samples dropped by the decoder's plausibility check."""
    rssi: int | None = None
    """dBm, from the advertisement found when connecting."""
    battery_pct: int | None = None
    """%, where the device has a battery level to read."""

    def silent_for(self, now_s: float) -> float:
        """How long (s) a streaming sensor has sent no samples; 0 if not streaming.

        Parameters
        ----------
        now_s : float
            The current time, s on the common clock.

        Returns
        -------
        float
            Seconds since its last sample (or since streaming started).
        """
        if self.state != "streaming" or self.streaming_since is None:
            return 0.0
        return now_s - max(self.last_t or -np.inf, self.streaming_since)


SURPLUS_TOLERANCE_S = 0.1
"""How far (s) an untimed stream may run ahead of its rate clock before a notification
byte-identical to the one before it is taken as the same notification delivered twice.

Without device timestamps (WitMotion) a repeated notification cannot be told from a still
sensor's next frame by its bytes, nor by its arrival time: BLE hands over everything
queued since the last connection event at once, so a still sensor's identical frames
arrive within a millisecond of each other.  What a repeat does change is the count: a
stream delivered twice (a stale subscription after a reconnect is the known cause)
holds more samples than its rate can have produced by then.  Samples can reach the host
earlier than the rate clock places them by at most one connection interval (≤ 50 ms on
common stacks) plus scheduling jitter, hence 0.1 s; beyond that a repeat is surplus.
A stream caught repeating keeps at most this much surplus: from the first repeat dropped
its rate fit stops (the count no longer measures the rate).  A still stream that does
not repeat keeps every frame."""


@dataclass
class _Waiter:
    """A command awaiting its answer: the notifications ``accept`` takes, until ``done``."""

    accept: AnswerMatch
    done: Callable[[list[bytes]], bool]
    future: asyncio.Future[list[bytes]]
    got: list[bytes] = field(default_factory=list)

    def offer(self, uuid: str, data: bytes) -> None:
        if self.future.done():
            return
        try:
            if self.accept(uuid, data):
                self.got.append(data)
                if self.done(self.got):
                    self.future.set_result(self.got)
        except ProtocolError as err:  # a malformed answer is never taken as success
            self.future.set_exception(ProtocolError(f"{err} (answer {data.hex(' ')})"))


@dataclass
class _Link:
    spec: SensorSpec
    status: SensorStatus
    profile: DeviceProfile | None = None
    rate_hz: float = 0.0
    client: BleakClient | None = None
    decoder: Decoder | None = None
    device_clock: DeviceClock = field(default_factory=DeviceClock)
    host_clock: HostRateClock | None = None
    lost: asyncio.Event = field(default_factory=asyncio.Event)
    last_raw: bytes = b""
    gap_reason: str | None = None
    closing: bool = False
    waiters: list[_Waiter] = field(default_factory=list)


class _CommandIO:
    """:class:`sensor_io.vendors.common.CommandIO` over one link's bleak client."""

    def __init__(self, link: _Link) -> None:
        self.link = link

    def _client(self) -> BleakClient:
        if self.link.client is None:
            raise BleakError("disconnected while starting")
        return self.link.client

    async def write(self, cmd: Command) -> None:
        await self._client().write_gatt_char(cmd.char_uuid, cmd.data, response=cmd.response)

    async def read(self, char_uuid: str) -> bytes:
        return bytes(await self._client().read_gatt_char(char_uuid))

    async def request(self, cmd: Command | None, accept: AnswerMatch, what: str, *,
                      done: Callable[[list[bytes]], bool] | None = None,
                      timeout_s: float = ANSWER_TIMEOUT_S) -> list[bytes]:
        waiter = _Waiter(accept, done or (lambda got: True),
                         asyncio.get_running_loop().create_future())
        self.link.waiters.append(waiter)
        try:
            if cmd is not None:
                await self.write(cmd)
            return await asyncio.wait_for(asyncio.shield(waiter.future), timeout_s)
        except TimeoutError:
            raise AnswerTimeout(f"no answer to {what} within {timeout_s:g} s") from None
        finally:
            self.link.waiters.remove(waiter)


class StreamingSession:
    """Streams ``specs`` into ``sink`` until asked to stop.

    >>> session = StreamingSession(specs, recorder)
    >>> await session.connect_all()        # one at a time; InputError names a failure
    >>> await session.run(stop_event)      # decode + supervise until stop_event is set

    Parameters
    ----------
    specs : list of SensorSpec
        The sensors (one per placement; InputError when a placement is given twice).
    sink : SampleSink
        Where raw bytes, samples, gaps and events go.
    scanner_backend : type, optional
        A bleak scanner backend (None: the platform's).
    client_backend : type, optional
        A bleak client backend (None: the platform's).
    clock : callable, optional
        The host clock, s (default: the running event loop's).
    connect_attempts : int
        Tries per sensor in :meth:`connect_all`.
    scan_timeout_s : float
        How long to look for a sensor's advertisement, s.
    backoff_s : tuple of float
        First and longest wait between reconnection attempts, s (doubling).
    on_samples : callable, optional
        Called with the placement each time the sink keeps samples of it.
    """

    def __init__(
        self, specs: list[SensorSpec], sink: SampleSink, *,
        scanner_backend: type | None = None, client_backend: type | None = None,
        clock: Callable[[], float] | None = None, connect_attempts: int = 3,
        scan_timeout_s: float = 10.0, backoff_s: tuple[float, float] = (0.5, 8.0),
        on_samples: Callable[[str], None] | None = None,
    ) -> None:
        placements = [s.placement for s in specs]
        if len(set(placements)) != len(placements):
            raise InputError(f"a placement is given twice: {placements}")
        self.sink = sink
        self._scanner_kw = {"backend": scanner_backend} if scanner_backend else {}
        self._client_kw = {"backend": client_backend} if client_backend else {}
        self._clock = clock or (lambda: asyncio.get_running_loop().time())
        self._t0: float | None = None
        self.connect_attempts = connect_attempts
        self.scan_timeout_s = scan_timeout_s
        self.backoff_s = backoff_s
        self.on_samples = on_samples
        self.links = {s.placement: _Link(s, SensorStatus(s.placement, s.address)) for s in specs}
        self._queue: asyncio.Queue[tuple[_Link, str, float, bytes]] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def status(self) -> dict[str, SensorStatus]:
        """Each sensor's live figures, by placement."""
        return {p: link.status for p, link in self.links.items()}

    def now(self) -> float:
        """Seconds on the common clock (since the session started).

        Returns
        -------
        float
            The time, s (the first call starts the clock).
        """
        if self._t0 is None:
            self._t0 = self._clock()
        return self._clock() - self._t0

    # -- connecting ----------------------------------------------------------------------
    async def connect_all(self) -> None:
        """Connect and start every sensor, one at a time.  Raises InputError naming the
        sensor that could not be reached (the ones already connected are closed)."""
        self.now()
        for link in self.links.values():
            try:
                await self._connect(link, attempts=self.connect_attempts)
            except (DeviceRejected, AnswerTimeout, ProtocolError) as err:
                await self.close()
                raise InputError(f"{link.spec.placement} sensor {link.spec.address}: "
                                 f"could not start ({first_line(err)})") from None
            except (BleakError, TimeoutError, InputError) as err:
                link.status.state, link.status.error = "failed", str(err)
                await self.close()
                raise InputError(f"{link.spec.placement} sensor {link.spec.address}: "
                                 f"could not connect ({first_line(err)})") from None

    async def _connect(self, link: _Link, attempts: int) -> None:
        link.status.state = "connecting"
        wanted = link.spec.address.upper()

        def match(dev: Any, adv: Any) -> bool:
            if dev.address.upper() != wanted:
                return False
            link.status.rssi = adv.rssi
            return True

        device = await BleakScanner.find_device_by_filter(
            match, timeout=self.scan_timeout_s, **self._scanner_kw)
        if device is None:
            raise InputError(f"not found within {self.scan_timeout_s:g} s")
        if link.profile is None:
            link.profile = link.spec.profile or _profile_from_name(device.name)
            link.status.model = link.profile.model
        link.lost.clear()
        client = await establish_connection(
            BleakClient, device, link.spec.placement,
            disconnected_callback=lambda _c, link=link: self._on_disconnect(link),
            max_attempts=attempts, use_services_cache=False, **self._client_kw)
        link.client = client
        link.decoder = link.profile.decoder(link.profile.pick_rate(link.spec.rate_hz))
        link.last_raw = b""
        try:
            for uuid in link.profile.notify_uuids:
                await client.start_notify(uuid, lambda ch, data, link=link: self._enqueue(
                    link, ch, data))
            started = await link.profile.start(_CommandIO(link), link.spec.rate_hz,
                                               link.decoder)
        except (DeviceRejected, AnswerTimeout, ProtocolError) as err:
            await self._start_failed(link, err)
            raise
        self._started(link, started.rate_hz, started.setup)
        await self._read_battery(link)

    async def _read_battery(self, link: _Link) -> None:
        """Battery level (%) where the profile names a characteristic holding it."""
        uuid = link.profile.battery_uuid if link.profile else None
        if uuid is None or link.client is None:
            return
        with contextlib.suppress(BleakError):
            level = bytes(await link.client.read_gatt_char(uuid))
            if level and level[0] <= 100:
                link.status.battery_pct = level[0]
                self.sink.update_sensor_meta(link.spec.placement, battery_pct=level[0])

    def _started(self, link: _Link, rate_hz: float, setup: str) -> None:
        st = link.status
        if link.profile is not None and not link.profile.timed:
            if link.host_clock is None or link.rate_hz != rate_hz:
                link.host_clock = HostRateClock(rate_hz)
            link.host_clock.restart()
        if rate_hz != link.rate_hz or setup != st.setup:
            self.sink.update_sensor_meta(link.spec.placement, model=st.model,
                                         address=link.spec.address, rate_hz=rate_hz,
                                         setup=setup)
        link.rate_hz, st.rate_hz, st.setup = rate_hz, rate_hz, setup
        st.state, st.error = "streaming", None
        st.streaming_since = self.now()
        self.sink.add_event("started", self.now(), sensor=link.spec.placement, setup=setup)

    async def _start_failed(self, link: _Link, err: Exception) -> None:
        """The device rejected the start or did not answer: say so, hang up."""
        link.status.state, link.status.error = "failed", first_line(err)
        self.sink.add_event("start_failed", self.now(), sensor=link.spec.placement,
                            reason=first_line(err))
        client, link.client = link.client, None
        link.closing = True
        if client is not None:
            with contextlib.suppress(BleakError):
                await client.disconnect()
        link.closing = False

    # -- streaming -----------------------------------------------------------------------
    def _enqueue(self, link: _Link, char: Any, data: bytearray) -> None:
        """Notification callback: stamp, hand to a command awaiting its answer, enqueue."""
        raw = bytes(data)
        for waiter in list(link.waiters):
            waiter.offer(char.uuid, raw)
        self._queue.put_nowait((link, char.uuid, self.now(), raw))

    def _on_disconnect(self, link: _Link) -> None:
        if link.closing:
            return
        link.client = None
        link.status.state = "reconnecting"
        link.gap_reason = "disconnected"
        link.lost.set()
        self.sink.add_event("disconnected", self.now(), sensor=link.spec.placement)

    async def run(self, stop: asyncio.Event) -> None:
        """Decode and supervise until ``stop`` is set, then stop every sensor cleanly.

        Parameters
        ----------
        stop : asyncio.Event
            Set to end the session.
        """
        self._tasks = [asyncio.create_task(self._decode_loop())]
        self._tasks += [asyncio.create_task(self._supervise(link)) for link in self.links.values()]
        try:
            await stop.wait()
        finally:
            await self.close()

    async def _decode_loop(self) -> None:
        while True:
            item = await self._queue.get()
            self._process(*item)
            while not self._queue.empty():
                self._process(*self._queue.get_nowait())

    def drain(self) -> None:
        """Decode everything already received (called when stopping)."""
        while not self._queue.empty():
            self._process(*self._queue.get_nowait())

    def _process(self, link: _Link, uuid: str, t_arrival: float, data: bytes) -> None:
        placement = link.spec.placement
        self.sink.add_raw(placement, uuid, t_arrival, data)
        if link.decoder is None or link.profile is None:
            return
        repeat, link.last_raw = data == link.last_raw, data
        s = link.decoder.feed(uuid, data)
        st = link.status
        st.bad_packets = link.decoder.stats.bad_packets
        st.implausible = link.decoder.stats.implausible
        if link.decoder.stats.notices:
            self._device_notices(link, t_arrival)
        battery = getattr(link.decoder, "battery_v", None)
        if battery is not None and battery != st.battery_v:
            st.battery_v = battery
            self.sink.update_sensor_meta(placement, battery_v=battery)
        if not len(s):
            return
        if s.t_device_s is not None:
            t = link.device_clock.to_host(s.t_device_s, t_arrival)
            if st.last_t is not None and t[0] - st.last_t > GAP_FACTOR / link.rate_hz:
                self._gap(link, st.last_t, t[0])
        else:
            assert link.host_clock is not None
            if repeat and link.host_clock.ahead_s(len(s), t_arrival) > SURPLUS_TOLERANCE_S:
                st.duplicates += 1
                link.host_clock.freeze_rate()  # repeats would inflate the fitted rate
                return
            t, gap = link.host_clock.to_host(len(s), t_arrival)
            if gap is not None:
                self._gap(link, gap.start_s, gap.end_s)
        kept = self.sink.add_samples(placement, t, s.acc, s.gyr, s.mag)
        st.samples += kept
        if kept:
            st.last_t = float(max(t[-1], st.last_t or -np.inf))
            if self.on_samples is not None:
                self.on_samples(placement)

    def _device_notices(self, link: _Link, t: float) -> None:
        """The device stopped a stream or refused a subscription: never shown as
        streaming; the reason goes to the status and the recording's events."""
        assert link.decoder is not None
        notices, link.decoder.stats.notices = link.decoder.stats.notices, []
        for reason in notices:
            if link.status.state != "failed":  # a failed start keeps its own reason
                link.status.state, link.status.error = "stopped", reason
            self.sink.add_event("device_stopped", t, sensor=link.spec.placement, reason=reason)

    def _gap(self, link: _Link, start: float, end: float) -> None:
        link.status.gaps += 1
        self.sink.add_gap(link.spec.placement, start, end, link.gap_reason or "missing samples")
        link.gap_reason = None

    async def _supervise(self, link: _Link) -> None:
        """Reconnect ``link`` whenever it drops, with exponential backoff."""
        while True:
            await link.lost.wait()
            delay = self.backoff_s[0]
            while True:
                try:
                    await self._connect(link, attempts=1)
                    link.status.reconnects += 1
                    self.sink.add_event("reconnected", self.now(), sensor=link.spec.placement)
                    break
                except DeviceRejected:
                    return  # the device refuses to start: retrying cannot help
                except (BleakError, TimeoutError, InputError) as err:
                    link.status.state, link.status.error = "reconnecting", first_line(err)
                    await asyncio.sleep(delay)
                    delay = min(2 * delay, self.backoff_s[1])

    async def close(self) -> None:
        """Stop streams (vendor stop commands), unsubscribe, disconnect, decode the rest."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        for link in self.links.values():
            link.closing = True
            client, link.client = link.client, None
            if client is None or not client.is_connected or link.profile is None:
                link.status.state = "stopped" if link.status.state != "failed" else "failed"
                continue
            link.client = client  # the stop procedure writes through the link
            try:
                await link.profile.stop(_CommandIO(link))
                for uuid in link.profile.notify_uuids:
                    await client.stop_notify(uuid)
            except (BleakError, InputError):
                pass
            finally:
                link.client = None
                await client.disconnect()
            if link.status.state not in ("stopped", "failed"):
                link.status.state = "stopped"
        self.drain()


def _profile_from_name(name: str | None) -> DeviceProfile:
    """The profile of a device found by address (its name is all the scan gives)."""
    prof = profile_for([], name)
    if prof is None:
        raise InputError(f"device {name!r} is not a supported IMU")
    return prof
