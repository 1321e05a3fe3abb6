"""Emulated BLE IMUs behind bleak's own API (``backend=`` of BleakScanner / BleakClient).

An :class:`EmulatedWorld` holds peripherals that speak a vendor protocol byte for byte
(WitMotion, Movesense GSP, Polar PMD: the encoders mirror :mod:`sensor_io.protocols`),
driven by an IMU signal, with scripted :class:`Faults`.  ``world.backends()`` returns the
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
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient, NotifyCallback
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, BaseBleakScanner
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakDeviceNotFoundError, BleakError

from sensor_io.protocols import movesense, polar, witmotion
from sensor_io.protocols.common import DEG, STANDARD_GRAVITY, DeviceProfile
from sensor_io.recording import SensorStream

ImuSignal = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
MTU = 247
POLAR_GYRO_FACTOR = 0.061  # °/s per count in compressed frames
POLAR_EPOCH_OFFSET_NS = 800_000_000 * 10**9  # the device believes it is ~2025


def gravity_signal(freq_hz: float = 0.5, amp_rad_s: float = 0.8) -> ImuSignal:
    """Gravity on +z plus a slow sinusoidal rotation about x (a synthetic IMU)."""

    def signal(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        w = 2 * np.pi * freq_hz
        acc = np.column_stack([0.5 * np.sin(w * t), 0.3 * np.cos(w * t),
                               np.full(len(t), STANDARD_GRAVITY)])
        gyr = np.column_stack([amp_rad_s * np.sin(w * t), 0.2 * np.cos(w * t), 0 * t])
        return acc, gyr

    return signal


def stream_signal(stream: SensorStream, t0: float = 0.0) -> ImuSignal:
    """A recorded/simulated stream replayed from world time ``t0`` (linear
    interpolation; the last sample is held after the end)."""
    ts = stream.t - stream.t[0]

    def signal(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        tt = np.clip(np.asarray(t) - t0, 0, ts[-1])
        acc = np.column_stack([np.interp(tt, ts, stream.acc[:, k]) for k in range(3)])
        gyr = np.column_stack([np.interp(tt, ts, stream.gyr[:, k]) for k in range(3)])
        return acc, gyr

    return signal


@dataclass
class Faults:
    """Scripted misbehaviour of one peripheral.

    ``*_every`` = k acts on every k-th notification (0: never).  ``disconnect_at_s``
    (world time) drops the link; the device is then unreachable for ``down_for_s`` s.
    ``fail_connects`` connection attempts fail before one succeeds; a ``silent`` sensor
    connects and accepts commands but never sends data.
    """

    drop_every: int = 0
    duplicate_every: int = 0
    split_every: int = 0
    corrupt_every: int = 0
    disconnect_at_s: float | None = None
    down_for_s: float = 3.0
    fail_connects: int = 0
    silent: bool = False


@dataclass
class EmulatedPeripheral:
    """One emulated IMU.  ``clock_offset_s``/``clock_drift`` shape its device clock:
    device_t = (world_t + offset) × (1 + drift)."""

    address: str
    profile: DeviceProfile
    signal: ImuSignal
    name: str | None = None
    rssi: int = -60
    faults: Faults = field(default_factory=Faults)
    clock_offset_s: float = 1000.0
    clock_drift: float = 20e-6
    battery_v: float = 3.9
    # filled at run time
    world: EmulatedWorld | None = field(default=None, repr=False)
    sent_samples: list[float] = field(default_factory=list, repr=False)  # world times
    notifications: int = 0
    connects: int = 0
    writes: list[bytes] = field(default_factory=list, repr=False)  # commands received

    def __post_init__(self) -> None:
        self.name = self.name or f"{self.profile.name_prefixes[0]} {self.address[-5:]}"
        self._client: EmulatedClient | None = None
        self._subs: dict[str, NotifyCallback] = {}
        self._task: asyncio.Task[None] | None = None
        self._rate: float = self.profile.rates_hz[0]
        self._streams: set[int] = set()  # what the host started (vendor specific)
        self._down_until = -1.0
        self._dropped_once = False
        self._next_sample_t = 0.0

    # -- link ---------------------------------------------------------------------------
    @property
    def reachable(self) -> bool:
        return self.world is not None and self.world.now() >= self._down_until

    def attach(self, client: EmulatedClient) -> None:
        if not self.reachable:
            raise BleakDeviceNotFoundError(self.address, "device not advertising")
        if self.faults.fail_connects > 0:
            self.faults.fail_connects -= 1
            raise BleakError(f"{self.address}: emulated connection failure")
        if self._client is not None:
            raise BleakError(f"{self.address}: already connected")
        self._client = client
        self.connects += 1
        self._streams.clear()

    def detach(self) -> None:
        self._client = None
        self._subs.clear()
        self._streams.clear()
        if self._task:
            self._task.cancel()
            self._task = None

    def drop_link(self) -> None:
        """Peripheral-side disconnect (out of range, battery, …)."""
        client = self._client
        self.detach()
        if client is not None:
            client.link_lost()

    def services(self) -> BleakGATTServiceCollection:
        coll = BleakGATTServiceCollection()
        svc = BleakGATTService(None, 1, self.profile.service_uuid)
        coll.add_service(svc)
        uuids = [(u, ["notify"]) for u in self.profile.notify_uuids]
        if self.profile.write_uuid not in self.profile.notify_uuids:
            uuids.append((self.profile.write_uuid, ["write", "write-without-response"]))
        else:
            uuids = [(u, p + (["write", "indicate"] if u == self.profile.write_uuid else []))
                     for u, p in uuids]
        for k, (uuid, props) in enumerate(uuids):
            char = BleakGATTCharacteristic(None, 2 + 2 * k, uuid, props, lambda: MTU - 3, svc)
            coll.add_characteristic(char)
        return coll

    def subscribe(self, uuid: str, callback: NotifyCallback) -> None:
        self._subs[uuid] = callback
        if self.profile is witmotion.PROFILE:
            self._start_streaming()  # WitMotion streams as soon as notifications are on

    def unsubscribe(self, uuid: str) -> None:
        self._subs.pop(uuid, None)

    # -- commands -----------------------------------------------------------------------
    def on_write(self, uuid: str, data: bytes) -> None:
        self.writes.append(data)
        if self.profile is witmotion.PROFILE:
            self._witmotion_command(data)
        elif self.profile is movesense.PROFILE:
            self._movesense_command(data)
        elif self.profile is polar.PROFILE:
            self._polar_command(data)

    def _witmotion_command(self, data: bytes) -> None:
        if len(data) != 5 or data[:2] != b"\xff\xaa":
            return
        reg, value = data[2], data[3] | (data[4] << 8)
        if reg == witmotion.REG_RATE:
            rates = {c: r for r, c in witmotion.RATE_CODES.items()}
            self._rate = rates.get(value, self._rate)
        elif reg == witmotion.REG_READ and value == witmotion.REG_BATTERY:
            reply = bytes([0x55, 0x71, value & 0xFF, value >> 8]) + struct.pack(
                "<8h", round(self.battery_v * 100), 0, 0, 0, 0, 0, 0, 0)
            self._notify(witmotion.NOTIFY_UUID, reply)

    def _movesense_command(self, data: bytes) -> None:
        if len(data) < 2:
            return
        cmd, ref = data[0], data[1]
        if cmd == movesense.CMD_SUBSCRIBE:
            path = data[2:].decode("ascii", "replace")
            ok = path.startswith("Meas/IMU6/")
            if ok:
                self._rate = float(path.rsplit("/", 1)[1])
                self._streams = {ref}
                self._start_streaming()
            self._notify(movesense.NOTIFY_UUID, bytes([movesense.RESP_COMMAND_RESULT, ref])
                         + struct.pack("<H", 200 if ok else 404))
        elif cmd == movesense.CMD_UNSUBSCRIBE:
            self._streams.discard(ref)
            self._notify(movesense.NOTIFY_UUID, bytes([movesense.RESP_COMMAND_RESULT, ref])
                         + struct.pack("<H", 200))

    def _polar_command(self, data: bytes) -> None:
        if len(data) < 2:
            return
        op, kind = data[0], data[1]
        extra = b""
        if op == polar.OP_START:
            settings = polar.parse_settings(data[2:])
            self._rate = float(settings[polar.SETTING_SAMPLE_RATE][0])
            self._streams.add(kind)
            factor = 1.0 if kind == polar.TYPE_ACC else POLAR_GYRO_FACTOR
            extra = polar.settings_bytes({polar.SETTING_FACTOR: factor})
            self._start_streaming()
        elif op == polar.OP_STOP:
            self._streams.discard(kind)
        self._notify(polar.CONTROL_UUID, bytes([polar.RESPONSE, op, kind, 0, 0]) + extra)

    # -- streaming ----------------------------------------------------------------------
    def _samples_per_packet(self) -> int:
        if self.profile is movesense.PROFILE:
            return 4
        if self.profile is polar.PROFILE:
            return 12
        return 1

    def _start_streaming(self) -> None:
        if self._task is None and self.world is not None:
            self._next_sample_t = self.world.now()
            self._task = asyncio.get_running_loop().create_task(self._stream())

    def device_time(self, t_world: np.ndarray) -> np.ndarray:
        return (np.asarray(t_world) + self.clock_offset_s) * (1.0 + self.clock_drift)

    async def _stream(self) -> None:
        assert self.world is not None
        world = self.world
        while True:
            k = self._samples_per_packet()
            period = 1.0 / self._rate
            f = self.faults
            if f.disconnect_at_s is not None and not self._dropped_once \
                    and world.now() >= f.disconnect_at_s:
                self._dropped_once = True
                self._down_until = world.now() + f.down_for_s
                loop = asyncio.get_running_loop()
                loop.call_soon(self.drop_link)
                return
            while world.now() >= self._next_sample_t + (k - 1) * period:
                t = self._next_sample_t + np.arange(k) * period
                self._next_sample_t = t[-1] + period
                if not f.silent:
                    self._emit(t)
            # notifications reach the host in connection events: all that is queued at once
            await asyncio.sleep(world.connection_interval_s / world.speed)

    def _emit(self, t: np.ndarray) -> None:
        acc, gyr = self.signal(t)
        if self.profile is witmotion.PROFILE:
            raw = np.column_stack([acc / witmotion.ACC_FULL_SCALE, gyr / witmotion.GYR_FULL_SCALE,
                                   np.zeros((len(t), 3))]) * 32768
            raw = np.clip(np.round(raw), -32768, 32767).astype("<i2")
            for row in raw:
                self._send(witmotion.NOTIFY_UUID, b"\x55\x61" + row.tobytes(), t)
        elif self.profile is movesense.PROFILE:
            if movesense.IMU_REF in self._streams:
                ms = int(self.device_time(t[:1])[0] * 1000)
                self._send(movesense.NOTIFY_UUID, movesense.encode_imu6(ms, acc, gyr), t)
        elif self.profile is polar.PROFILE:
            ts_ns = int(self.device_time(t[-1:])[0] * 1e9) + POLAR_EPOCH_OFFSET_NS
            if polar.TYPE_ACC in self._streams:
                raw = np.round(acc / STANDARD_GRAVITY * 1000).astype(np.int64)
                self._send(polar.DATA_UUID, polar.encode_frame(polar.TYPE_ACC, ts_ns, raw), t)
            if polar.TYPE_GYRO in self._streams:
                raw = np.round(gyr / DEG / POLAR_GYRO_FACTOR).astype(np.int64)
                self._send(polar.DATA_UUID, polar.encode_frame(polar.TYPE_GYRO, ts_ns, raw),
                           t if polar.TYPE_ACC not in self._streams else t[:0])

    def _send(self, uuid: str, data: bytes, t: np.ndarray) -> None:
        """Deliver one notification through the scripted faults."""
        if len(data) > MTU - 3:
            raise BleakError(f"notification of {len(data)} bytes exceeds the MTU")
        self.notifications += 1
        n, f = self.notifications, self.faults
        if f.drop_every and n % f.drop_every == 0:
            return
        self.sent_samples.extend(t.tolist())
        if f.corrupt_every and n % f.corrupt_every == 0:
            b = bytearray(data)
            b[len(b) // 2] ^= 0x5A
            data = bytes(b)
        if f.split_every and n % f.split_every == 0 and len(data) > 2:
            self._notify(uuid, data[: len(data) // 2])
            self._notify(uuid, data[len(data) // 2:])
        else:
            self._notify(uuid, data)
        if f.duplicate_every and n % f.duplicate_every == 0:
            self._notify(uuid, data)

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
    """

    def __init__(self, speed: float = 1.0, connection_interval_s: float = 0.03) -> None:
        self.speed = speed
        self.connection_interval_s = connection_interval_s
        self.peripherals: dict[str, EmulatedPeripheral] = {}
        self._t0: float | None = None

    def now(self) -> float:
        """Emulated wall-clock time in s (starts at 0 on first use)."""
        loop_t = asyncio.get_running_loop().time()
        if self._t0 is None:
            self._t0 = loop_t
        return (loop_t - self._t0) * self.speed

    def add(self, p: EmulatedPeripheral) -> EmulatedPeripheral:
        p.world = self
        self.peripherals[p.address.upper()] = p
        return p

    def get(self, address: str) -> EmulatedPeripheral | None:
        return self.peripherals.get(address.upper())

    def backends(self) -> tuple[type[EmulatedScanner], type[EmulatedClient]]:
        """Scanner and client backend classes bound to this world, for bleak's ``backend=``."""
        world = self
        scanner = type("EmulatedScanner", (EmulatedScanner,), {"world": world})
        client = type("EmulatedClient", (EmulatedClient,), {"world": world})
        return scanner, client


class EmulatedScanner(BaseBleakScanner):
    """Advertises every reachable peripheral of :attr:`world` every 0.1 s while scanning."""

    world: EmulatedWorld

    def __init__(self, detection_callback: Any, service_uuids: list[str] | None,
                 scanning_mode: str = "active", **kwargs: Any) -> None:
        super().__init__(detection_callback, service_uuids)
        self.seen_devices = {}
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.seen_devices = {}
        self._advertise()
        self._task = asyncio.get_running_loop().create_task(self._loop())

    async def stop(self) -> None:
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
    """A GATT client connected to an :class:`EmulatedPeripheral` in :attr:`world`."""

    world: EmulatedWorld

    def __init__(self, address_or_ble_device: BLEDevice | str, **kwargs: Any) -> None:
        super().__init__(address_or_ble_device,
                         disconnected_callback=kwargs.pop("disconnected_callback", None),
                         timeout=kwargs.pop("timeout", 10.0))
        self._peripheral: EmulatedPeripheral | None = None

    @property
    def name(self) -> str:
        p = self.world.get(self.address)
        return p.name if p and p.name else self.address

    @property
    def mtu_size(self) -> int:
        return MTU

    async def connect(self, pair: bool = False, **kwargs: Any) -> None:
        p = self.world.get(self.address)
        if p is None:
            raise BleakDeviceNotFoundError(self.address, f"{self.address} not found")
        await asyncio.sleep(0.01)
        p.attach(self)
        self._peripheral = p
        self.services = p.services()

    async def disconnect(self) -> None:
        if self._peripheral is not None:
            self._peripheral.detach()
            self._peripheral = None

    def link_lost(self) -> None:
        self._peripheral = None
        if self._disconnected_callback is not None:
            self._disconnected_callback()

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        return None

    async def unpair(self) -> None:
        return None

    @property
    def is_connected(self) -> bool:
        return self._peripheral is not None

    def _require(self) -> EmulatedPeripheral:
        if self._peripheral is None:
            raise BleakError(f"{self.address}: not connected")
        return self._peripheral

    async def read_gatt_char(self, characteristic: BleakGATTCharacteristic, **kwargs: Any
                             ) -> bytearray:
        self._require()
        return bytearray()

    async def read_gatt_descriptor(self, descriptor: Any, **kwargs: Any) -> bytearray:
        self._require()
        return bytearray()

    async def write_gatt_char(self, characteristic: BleakGATTCharacteristic, data: Any,
                              response: bool) -> None:
        self._require().on_write(characteristic.uuid, bytes(data))

    async def write_gatt_descriptor(self, descriptor: Any, data: Any) -> None:
        self._require()

    async def start_notify(self, characteristic: BleakGATTCharacteristic,
                           callback: NotifyCallback, **kwargs: Any) -> None:
        self._require().subscribe(characteristic.uuid, callback)

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        if self._peripheral is not None:
            self._peripheral.unsubscribe(characteristic.uuid)
