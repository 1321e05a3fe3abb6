"""Emulated BLE IMUs behind bleak's own API (``backend=`` of BleakScanner / BleakClient).

An :class:`EmulatedWorld` holds peripherals that speak a vendor protocol byte for byte:
one generic peripheral plays the emulated device of any registered vendor
(:mod:`sensor_io.vendors`, each written from the vendor's documents, not from the
decoders), driven by an IMU signal; a test can script faults through the
:class:`FaultScript` hooks (the tests' ``Faults``).  ``world.backends()`` returns the
scanner and client backend classes to hand to bleak, so the code under test is exactly
the code that talks to real hardware:

>>> world = EmulatedWorld(speed=10.0)
>>> world.add(EmulatedPeripheral("EE:00:00:00:00:01", movesense.PROFILE, gravity_signal()))
>>> scanner_backend, client_backend = world.backends()
>>> # BleakClient(address, backend=client_backend) ...

Time: ``world.now()`` is the emulated wall clock in s, running ``speed`` times faster
than the event loop's clock so a 30 s test can stream in a few seconds; on a
:class:`sensor_io.virtual_clock.VirtualTimeLoop` (what the tests use) it does not depend
on wall time or load at all.  Signals are
functions of that clock: ``signal(t (N,) s) -> (acc (N, 3) m/s², gyr (N, 3) rad/s)``.
Used by the tests and by ``stepdown record --emulate``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient, NotifyCallback
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, BaseBleakScanner
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakDeviceNotFoundError, BleakError

from sensor_io.recording import SensorStream
from sensor_io.vendors import vendor_of
from sensor_io.vendors.base import EmulatedDevice
from sensor_io.vendors.common import STANDARD_GRAVITY, DeviceProfile

ImuSignal = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
MTU = 247


def gravity_signal(freq_hz: float = 0.5, amp_rad_s: float = 0.8) -> ImuSignal:
    """Gravity on +z plus a slow sinusoidal rotation about x (a synthetic IMU).

    Parameters
    ----------
    freq_hz : float
        Frequency of the rotation, Hz.
    amp_rad_s : float
        Amplitude of the angular rate about x, rad/s.

    Returns
    -------
    ImuSignal
        ``signal(t (N,) s) -> (acc (N, 3) m/s², gyr (N, 3) rad/s)``, sensor frame.
    """

    def signal(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        w = 2 * np.pi * freq_hz
        acc = np.column_stack([0.5 * np.sin(w * t), 0.3 * np.cos(w * t),
                               np.full(len(t), STANDARD_GRAVITY)])
        gyr = np.column_stack([amp_rad_s * np.sin(w * t), 0.2 * np.cos(w * t), 0 * t])
        return acc, gyr

    return signal


def stream_signal(stream: SensorStream, t0: float = 0.0, origin_s: float | None = None
                  ) -> ImuSignal:
    """A recorded/simulated stream replayed from world time ``t0`` (linear
    interpolation; the first sample is held before the start, the last after the end).

    origin_s: the recording time (s) played at ``t0``; default the stream's first sample.
    Give the same origin to every stream of a recording so that the sensors keep the
    recording's common clock (each stream's own first sample is a few ms apart).

    Parameters
    ----------
    stream : SensorStream
        The samples to replay (t s, acc m/s², gyr rad/s, sensor frame).
    t0 : float
        World time the replay starts at, s.
    origin_s : float, optional
        The recording time (s) played at ``t0``.

    Returns
    -------
    ImuSignal
        ``signal(t (N,) s) -> (acc (N, 3) m/s², gyr (N, 3) rad/s)``, sensor frame.
    """
    ts = stream.t - (stream.t[0] if origin_s is None else origin_s)

    def signal(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        tt = np.asarray(t) - t0  # np.interp holds the end samples beyond the stream
        acc = np.column_stack([np.interp(tt, ts, stream.acc[:, k]) for k in range(3)])
        gyr = np.column_stack([np.interp(tt, ts, stream.gyr[:, k]) for k in range(3)])
        return acc, gyr

    return signal


class FaultScript(Protocol):
    """Scripted misbehaviour of one peripheral, for tests (``tests/ble_emulation/faults.py``
    has the scripts).  The peripheral asks it at each step; with no script it behaves.

    Parameters
    ----------
    *args, **kwargs
        None: a protocol describes an object's attributes, it is not built.
    """

    def refuses_connect(self) -> bool:
        """True: this connection attempt fails."""
        ...

    def on_tick(self, p: EmulatedPeripheral, now_s: float) -> bool:
        """Called at every connection event while streaming (``now_s`` world time, s); may
        call ``p.vanish(...)`` or ``p.device.stop_by_device()``.  False: the device
        measures but sends nothing (a silent sensor).

        Parameters
        ----------
        p : EmulatedPeripheral
            The peripheral.
        now_s : float
            World time, s.

        Returns
        -------
        bool
            Whether the device sends this tick's notifications.
        """
        ...

    def deliver(self, n: int, data: bytes) -> list[bytes]:
        """The notifications that reach the host for the ``n``-th one sent (1-based):
        ``[data]`` when nothing goes wrong, ``[]`` when it is lost.

        Parameters
        ----------
        n : int
            The notification's number, 1-based.
        data : bytes
            The notification sent.

        Returns
        -------
        list of bytes
            What reaches the host.
        """
        ...


@dataclass
class EmulatedPeripheral:
    """One emulated IMU.  ``clock_offset_s``/``clock_drift`` shape its device clock:
    device_t = (world_t + offset) × (1 + drift).  The vendor behaviour (what it answers,
    what it refuses, how it packs samples) is the emulated device of the profile's vendor
    (:mod:`sensor_io.vendors`); ``variant`` picks a model where the vendor has several (a
    Polar ``PolarModel``: Verity Sense by default, or H10)."""

    address: str
    """Its BLE address."""
    profile: DeviceProfile
    """The vendor profile whose emulated device it plays."""
    signal: ImuSignal
    """What it measures: ``signal(t (N,) s) -> (acc m/s², gyr rad/s)``, sensor frame."""
    name: str | None = None
    """Advertised name (default: the model's name prefix and the address's end)."""
    rssi: int = -60
    """Advertised signal strength, dBm."""
    faults: FaultScript | None = None
    """Scripted misbehaviour (tests); None: it behaves."""
    clock_offset_s: float = 1000.0
    """Device clock offset from world time, s."""
    clock_drift: float = 20e-6
    """Device clock drift, fraction (20e-6 = 20 ppm)."""
    battery_v: float = 3.9
    """Battery voltage, V, where the device reports it."""
    variant: Any = None
    """The vendor's model where it has several (None: its default)."""
    # filled at run time
    world: EmulatedWorld | None = field(default=None, repr=False)
    """The world it was added to."""
    sent_samples: list[float] = field(default_factory=list, repr=False)
    """World times (s) of the samples that reached the host."""
    notifications: int = 0
    """Notifications sent."""
    connects: int = 0
    """Connections accepted."""
    rate_hz: float = 0.0
    """The rate of the last samples streamed (Hz), as commands set it."""
    writes: list[bytes] = field(default_factory=list, repr=False)
    """Commands received."""

    def __post_init__(self) -> None:
        prefix = getattr(self.variant, "name", None) or self.profile.name_prefixes[0]
        self.name = self.name or f"{prefix} {self.address[-5:]}"
        self._client: EmulatedClient | None = None
        self._subs: dict[str, NotifyCallback] = {}
        self._task: asyncio.Task[None] | None = None
        self._down_until = -1.0
        self._next_sample_t = 0.0
        self.device = self._new_device()

    def _new_device(self) -> EmulatedDevice:
        return vendor_of(self.profile).emulate(self._notify, self.variant, self.battery_v)

    # -- link ---------------------------------------------------------------------------
    @property
    def reachable(self) -> bool:
        """Whether it is in a world and not out of range now."""
        return self.world is not None and self.world.now() >= self._down_until

    def attach(self, client: EmulatedClient) -> None:
        """Accept a connection (a fresh device state); bleak's errors when it cannot.

        Parameters
        ----------
        client : EmulatedClient
            The connecting client.
        """
        if not self.reachable:
            raise BleakDeviceNotFoundError(self.address, "device not advertising")
        if self.faults is not None and self.faults.refuses_connect():
            raise BleakError(f"{self.address}: emulated connection failure")
        if self._client is not None:
            raise BleakError(f"{self.address}: already connected")
        self._client = client
        self.connects += 1
        self.device = self._new_device()  # a new connection: nothing subscribed or started

    def detach(self) -> None:
        """End the connection: subscriptions dropped, streaming stopped."""
        self._client = None
        self._subs.clear()
        if self._task:
            self._task.cancel()
            self._task = None

    def vanish(self, for_s: float) -> None:
        """Out of range now: the link drops and the device cannot be reached for ``for_s``
        (s, world time).

        Parameters
        ----------
        for_s : float
            How long it stays unreachable, s, world time.
        """
        assert self.world is not None
        self._down_until = self.world.now() + for_s
        asyncio.get_running_loop().call_soon(self.drop_link)

    def drop_link(self) -> None:
        """Peripheral-side disconnect (out of range, battery, …)."""
        client = self._client
        self.detach()
        if client is not None:
            client.link_lost()

    def services(self) -> BleakGATTServiceCollection:
        """Its GATT table: the profile's service and the device's characteristics.

        Returns
        -------
        BleakGATTServiceCollection
            The services, as bleak discovers them.
        """
        coll = BleakGATTServiceCollection()
        svc = BleakGATTService(None, 1, self.profile.service_uuid)
        coll.add_service(svc)
        for k, (uuid, props) in enumerate(self.device.chars):
            char = BleakGATTCharacteristic(None, 2 + 2 * k, uuid, list(props),
                                           lambda: MTU - 3, svc)
            coll.add_characteristic(char)
        return coll

    def subscribe(self, uuid: str, callback: NotifyCallback) -> None:
        """Turn notifications of a characteristic on (the device may start streaming).

        Parameters
        ----------
        uuid : str
            The characteristic.
        callback : NotifyCallback
            Called with each notification's bytes.
        """
        self._subs[uuid] = callback
        self.device.on_subscribe(uuid)
        self._start_streaming()

    def unsubscribe(self, uuid: str) -> None:
        """Turn notifications of a characteristic off.

        Parameters
        ----------
        uuid : str
            The characteristic.
        """
        self._subs.pop(uuid, None)

    # -- commands -----------------------------------------------------------------------
    def on_write(self, uuid: str, data: bytes) -> None:
        """A write from the client, handed to the device (it may start streaming).

        Parameters
        ----------
        uuid : str
            The characteristic written.
        data : bytes
            The bytes written.
        """
        self.writes.append(data)
        self.device.on_write(uuid, data)
        self._start_streaming()

    def on_read(self, uuid: str) -> bytes:
        """A read from the client, answered by the device.

        Parameters
        ----------
        uuid : str
            The characteristic read.

        Returns
        -------
        bytes
            Its value.
        """
        return self.device.on_read(uuid)

    # -- streaming ----------------------------------------------------------------------
    def _start_streaming(self) -> None:
        if self._task is None and self.world is not None and self.device.streaming:
            self._next_sample_t = self.world.now()
            self._task = asyncio.get_running_loop().create_task(self._stream())

    def device_time(self, t_world: np.ndarray) -> np.ndarray:
        """The device clock at world times: (t_world + clock_offset_s) × (1 + clock_drift).

        Parameters
        ----------
        t_world : numpy.ndarray
            World times, s.

        Returns
        -------
        numpy.ndarray
            Device times, s, same shape.
        """
        return (np.asarray(t_world) + self.clock_offset_s) * (1.0 + self.clock_drift)

    async def _stream(self) -> None:
        assert self.world is not None
        world = self.world
        while True:
            sends = self.faults is None or self.faults.on_tick(self, world.now())
            if not self.reachable:  # the script made it vanish
                self._task = None
                return
            if not self.device.streaming:
                self._task = None
                return
            k = self.device.samples_per_packet
            self.rate_hz = float(self.device.rate_hz)
            period = 1.0 / self.rate_hz
            while world.now() >= self._next_sample_t + (k - 1) * period:
                t = self._next_sample_t + np.arange(k) * period
                self._next_sample_t = t[-1] + period
                if sends:
                    self._emit(t)
            # notifications reach the host in connection events: all that is queued at once
            await asyncio.sleep(world.connection_interval_s / world.speed)

    def _emit(self, t: np.ndarray) -> None:
        acc, gyr = self.signal(t)
        packets = self.device.packets(t, acc, gyr, self.device_time)
        for k, (uuid, data) in enumerate(packets):
            # samples count once, however many streams carry them (Polar: ACC and GYRO)
            self._send(uuid, data, t if k == 0 else t[:0])

    def _send(self, uuid: str, data: bytes, t: np.ndarray) -> None:
        """Deliver one notification (through the fault script, if any)."""
        if len(data) > MTU - 3:
            raise BleakError(f"notification of {len(data)} bytes exceeds the MTU")
        self.notifications += 1
        arriving = [data] if self.faults is None else self.faults.deliver(self.notifications,
                                                                          data)
        if arriving:
            self.sent_samples.extend(t.tolist())
        for part in arriving:
            self._notify(uuid, part)

    def _notify(self, uuid: str, data: bytes) -> None:
        cb = self._subs.get(uuid)
        if cb is not None and self._client is not None:
            cb(bytearray(data))


class EmulatedWorld:
    """The radio environment: peripherals by address and the emulated clock.

    ``connection_interval_s``: the BLE connection interval (world time, s).  A peripheral
    can only send in a connection event, so everything it queued since the last one
    reaches the host at once: at 100 Hz and 30 ms (BlueZ's default lower bound) three
    one-sample notifications arrive together, and a still WitMotion's three are
    byte-identical.

    Parameters
    ----------
    speed : float
        How many times faster than the event loop's clock world time runs.
    connection_interval_s : float
        The BLE connection interval, s, world time.
    """

    def __init__(self, speed: float = 1.0, connection_interval_s: float = 0.03) -> None:
        self.speed = speed
        self.connection_interval_s = connection_interval_s
        self.peripherals: dict[str, EmulatedPeripheral] = {}
        self._t0: float | None = None

    def now(self) -> float:
        """Emulated wall-clock time in s (starts at 0 on first use).

        Returns
        -------
        float
            World time, s.
        """
        loop_t = asyncio.get_running_loop().time()
        if self._t0 is None:
            self._t0 = loop_t
        return (loop_t - self._t0) * self.speed

    def add(self, p: EmulatedPeripheral) -> EmulatedPeripheral:
        """Place a peripheral in the world.

        Parameters
        ----------
        p : EmulatedPeripheral
            The peripheral.

        Returns
        -------
        EmulatedPeripheral
            ``p`` itself.
        """
        p.world = self
        self.peripherals[p.address.upper()] = p
        return p

    def get(self, address: str) -> EmulatedPeripheral | None:
        """The peripheral at an address.

        Parameters
        ----------
        address : str
            Its BLE address (any case).

        Returns
        -------
        EmulatedPeripheral or None
            The peripheral, None when the world has none there.
        """
        return self.peripherals.get(address.upper())

    def backends(self) -> tuple[type[EmulatedScanner], type[EmulatedClient]]:
        """Scanner and client backend classes bound to this world, for bleak's ``backend=``.

        Returns
        -------
        tuple of type
            (scanner backend, client backend).
        """
        world = self
        scanner = type("EmulatedScanner", (EmulatedScanner,), {"world": world})
        client = type("EmulatedClient", (EmulatedClient,), {"world": world})
        return scanner, client


class EmulatedScanner(BaseBleakScanner):
    """Advertises every reachable peripheral of :attr:`world` every 0.1 s while scanning.

    Parameters
    ----------
    detection_callback : Any
        Bleak's callback for each advertisement.
    service_uuids : list of str or None
        Only peripherals advertising one of these are reported (None: all).
    scanning_mode : str
        Ignored (bleak's backend interface).
    **kwargs : Any
        Ignored (bleak's backend interface).
    """

    world: EmulatedWorld

    def __init__(self, detection_callback: Any, service_uuids: list[str] | None,
                 scanning_mode: str = "active", **kwargs: Any) -> None:
        super().__init__(detection_callback, service_uuids)
        self.seen_devices = {}
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start advertising the world's peripherals to the scanner."""
        self.seen_devices = {}
        self._advertise()
        self._task = asyncio.get_running_loop().create_task(self._loop())

    async def stop(self) -> None:
        """Stop scanning."""
        if self._task:
            self._task.cancel()
            self._task = None

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(0.1)
            self._advertise()

    def _advertise(self) -> None:
        for p in list(self.world.peripherals.values()):
            if not p.reachable or p._client is not None:
                continue
            adv = AdvertisementData(local_name=p.name, manufacturer_data={}, service_data={},
                                    service_uuids=[p.profile.service_uuid], tx_power=None,
                                    rssi=p.rssi, platform_data=())
            if not self.is_allowed_uuid(adv.service_uuids):
                continue
            device = self.create_or_update_device(p.address, p.address, p.name,
                                                  {"emulated": True}, adv)
            self.call_detection_callbacks(device, adv)


class EmulatedClient(BaseBleakClient):
    """A GATT client connected to an :class:`EmulatedPeripheral` in :attr:`world`.

    Parameters
    ----------
    address_or_ble_device : BLEDevice or str
        The peripheral.
    **kwargs : Any
        ``disconnected_callback`` and ``timeout`` (s) as bleak passes them; others ignored.
    """

    world: EmulatedWorld

    def __init__(self, address_or_ble_device: BLEDevice | str, **kwargs: Any) -> None:
        super().__init__(address_or_ble_device,
                         disconnected_callback=kwargs.pop("disconnected_callback", None),
                         timeout=kwargs.pop("timeout", 10.0))
        self._peripheral: EmulatedPeripheral | None = None

    @property
    def name(self) -> str:
        """The peripheral's name, else its address."""
        p = self.world.get(self.address)
        return p.name if p and p.name else self.address

    @property
    def mtu_size(self) -> int:
        """The ATT MTU, bytes (a notification carries at most MTU - 3)."""
        return MTU

    async def connect(self, pair: bool = False, **kwargs: Any) -> None:
        """Connect to the peripheral at the client's address and discover its services.

        Parameters
        ----------
        pair : bool
            Ignored (nothing to pair).
        **kwargs : Any
            Ignored (bleak's backend interface).
        """
        p = self.world.get(self.address)
        if p is None:
            raise BleakDeviceNotFoundError(self.address, f"{self.address} not found")
        await asyncio.sleep(0.01)
        p.attach(self)
        self._peripheral = p
        self.services = p.services()

    async def disconnect(self) -> None:
        """Disconnect (the peripheral stops streaming)."""
        if self._peripheral is not None:
            self._peripheral.detach()
            self._peripheral = None

    def link_lost(self) -> None:
        """The peripheral dropped the link: bleak's disconnected callback is called."""
        self._peripheral = None
        if self._disconnected_callback is not None:
            self._disconnected_callback()

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        """Nothing to pair.

        Parameters
        ----------
        *args : Any
            Ignored.
        **kwargs : Any
            Ignored.
        """
        return None

    async def unpair(self) -> None:
        """Nothing to unpair."""
        return None

    @property
    def is_connected(self) -> bool:
        """Whether a peripheral is connected."""
        return self._peripheral is not None

    def _require(self) -> EmulatedPeripheral:
        if self._peripheral is None:
            raise BleakError(f"{self.address}: not connected")
        return self._peripheral

    async def read_gatt_char(self, characteristic: BleakGATTCharacteristic, **kwargs: Any
                             ) -> bytearray:
        """Read a characteristic of the connected peripheral.

        Parameters
        ----------
        characteristic : BleakGATTCharacteristic
            The characteristic.
        **kwargs : Any
            Ignored (bleak's backend interface).

        Returns
        -------
        bytearray
            Its value.
        """
        return bytearray(self._require().on_read(characteristic.uuid))

    async def read_gatt_descriptor(self, descriptor: Any, **kwargs: Any) -> bytearray:
        """Descriptors read empty.

        Parameters
        ----------
        descriptor : Any
            The descriptor.
        **kwargs : Any
            Ignored (bleak's backend interface).

        Returns
        -------
        bytearray
            Empty.
        """
        self._require()
        return bytearray()

    async def write_gatt_char(self, characteristic: BleakGATTCharacteristic, data: Any,
                              response: bool) -> None:
        """Write a characteristic of the connected peripheral.

        Parameters
        ----------
        characteristic : BleakGATTCharacteristic
            The characteristic.
        data : Any
            The bytes to write.
        response : bool
            Ignored (every write arrives).
        """
        self._require().on_write(characteristic.uuid, bytes(data))

    async def write_gatt_descriptor(self, descriptor: Any, data: Any) -> None:
        """Descriptor writes are accepted and ignored.

        Parameters
        ----------
        descriptor : Any
            The descriptor.
        data : Any
            The bytes.
        """
        self._require()

    async def start_notify(self, characteristic: BleakGATTCharacteristic,
                           callback: NotifyCallback, **kwargs: Any) -> None:
        """Subscribe to a characteristic's notifications.

        Parameters
        ----------
        characteristic : BleakGATTCharacteristic
            The characteristic.
        callback : NotifyCallback
            Called with each notification's bytes.
        **kwargs : Any
            Ignored (bleak's backend interface).
        """
        self._require().subscribe(characteristic.uuid, callback)

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        """Unsubscribe from a characteristic's notifications.

        Parameters
        ----------
        characteristic : BleakGATTCharacteristic
            The characteristic.
        """
        if self._peripheral is not None:
            self._peripheral.unsubscribe(characteristic.uuid)
