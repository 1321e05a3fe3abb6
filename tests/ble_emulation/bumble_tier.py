"""A bleak backend over bumble: a real BLE host stack on two virtual controllers linked
in memory, so ATT MTU exchange, notification size limits and GATT discovery are real.

The peripheral is a bumble GATT server speaking the Movesense GSP (subscribe to
``Meas/IMU6/<rate>``, then IMU6 data notifications); the central is a bumble device
wrapped as a bleak client/scanner backend, so :class:`sensor_io.ble_client.StreamingSession`
runs unchanged on top.
"""

from __future__ import annotations

import asyncio
import struct
from typing import Any

import numpy as np
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient, NotifyCallback
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, BaseBleakScanner
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakError
from bumble.controller import Controller
from bumble.core import UUID, AdvertisingData
from bumble.device import Device, Peer
from bumble.gatt import Characteristic, CharacteristicValue, Service
from bumble.hci import Address
from bumble.host import Host
from bumble.link import LocalLink
from bumble.transport.common import AsyncPipeSink

from sensor_io.ble_emulation import ImuSignal
from sensor_io.vendors.movesense import protocol as movesense

PERIPHERAL_ADDRESS = "F1:F1:F1:F1:F1:F1"
CENTRAL_ADDRESS = "F0:F0:F0:F0:F0:F0"


class BumbleMovesense:
    """A Movesense-speaking GATT server on a bumble device; samples per packet: 4."""

    def __init__(self, device: Device, signal: ImuSignal, name: str = "Movesense 174630") -> None:
        self.device, self.signal, self.name = device, signal, name
        self.sent_samples = 0
        self._task: asyncio.Task[None] | None = None
        self.data_char = Characteristic(
            movesense.NOTIFY_UUID, Characteristic.Properties.NOTIFY,
            Characteristic.Permissions.READABLE, b"")
        cmd_char = Characteristic(
            movesense.WRITE_UUID,
            Characteristic.Properties.WRITE | Characteristic.Properties.WRITE_WITHOUT_RESPONSE,
            Characteristic.Permissions.WRITEABLE, CharacteristicValue(write=self._on_write))
        device.add_service(Service(movesense.SERVICE_UUID, [cmd_char, self.data_char]))
        device.advertising_data = bytes(AdvertisingData([
            (AdvertisingData.COMPLETE_LOCAL_NAME, name.encode()),
            (AdvertisingData.INCOMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
             UUID(movesense.SERVICE_UUID).to_bytes()),
        ]))

    def _on_write(self, connection: Any, value: bytes) -> None:
        """As GATTSensorDataClient.cpp: reference 0 is never answered, hello is answered
        ``01 REF Hello``, a subscription to a known path is answered by its data."""
        cmd, ref = value[0], value[1]
        if ref == 0:
            return
        if cmd == 0:
            asyncio.get_running_loop().create_task(self.device.notify_subscribers(
                self.data_char, bytes([1, ref]) + b"Hello"))
        elif cmd == 1 and self._task is None:
            path = value[2:].decode("ascii", "replace")
            if path in {f"/Meas/IMU6/{r}" for r in (13, 26, 52, 104, 208)}:
                rate = float(path.rsplit("/", 1)[1])
                self._task = asyncio.get_running_loop().create_task(self._stream(rate, ref))
        elif cmd == 2 and self._task is not None:
            self._task.cancel()
            self._task = None

    async def _stream(self, rate: float, ref: int) -> None:
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        k = 0
        while True:
            t = (k + np.arange(4)) / rate
            await asyncio.sleep(max(0.0, t0 + t[-1] - loop.time()))
            acc, gyr = self.signal(t)
            pkt = (bytes([2, ref]) + struct.pack("<I", int(t[0] * 1000) + 5000)
                   + np.asarray(acc, "<f4").tobytes() + np.degrees(gyr).astype("<f4").tobytes())
            await self.device.notify_subscribers(self.data_char, pkt)
            self.sent_samples += 4
            k += 4


class BumbleWorld:
    """Two bumble devices on one in-memory link: a Movesense peripheral and a central."""

    def __init__(self, signal: ImuSignal, mtu: int = 247) -> None:
        self.link = LocalLink()
        self.mtu = mtu
        ctrl_p = Controller("P", link=self.link, public_address=PERIPHERAL_ADDRESS)
        ctrl_c = Controller("C", link=self.link, public_address=CENTRAL_ADDRESS)
        self.peripheral = Device(address=Address(PERIPHERAL_ADDRESS),
                                 host=Host(ctrl_p, AsyncPipeSink(ctrl_p)))
        self.central = Device(address=Address(CENTRAL_ADDRESS),
                              host=Host(ctrl_c, AsyncPipeSink(ctrl_c)))
        self.sensor = BumbleMovesense(self.peripheral, signal)

    async def power_on(self) -> None:
        await self.peripheral.power_on()
        await self.central.power_on()
        await self.peripheral.start_advertising(auto_restart=True,
                                                advertising_interval_min=20.0)

    def backends(self) -> tuple[type[BaseBleakScanner], type[BaseBleakClient]]:
        world = self
        return (type("BumbleScanner", (BumbleScanner,), {"world": world}),
                type("BumbleClient", (BumbleClient,), {"world": world}))


class BumbleScanner(BaseBleakScanner):
    """Scans with the bumble central; advertisements come over the virtual radio."""

    world: BumbleWorld

    def __init__(self, detection_callback: Any, service_uuids: list[str] | None,
                 scanning_mode: str = "active", **kwargs: Any) -> None:
        super().__init__(detection_callback, service_uuids)
        self.seen_devices = {}

    async def start(self) -> None:
        self.seen_devices = {}
        self.world.central.on("advertisement", self._on_adv)
        await self.world.central.start_scanning(filter_duplicates=False)

    async def stop(self) -> None:
        await self.world.central.stop_scanning()
        self.world.central.remove_listener("advertisement", self._on_adv)

    def _on_adv(self, adv: Any) -> None:
        data = adv.data
        name = data.get(AdvertisingData.COMPLETE_LOCAL_NAME)
        name = name.decode() if isinstance(name, bytes) else name
        uuids = [str(u).lower() for u in
                 (data.get(AdvertisingData.INCOMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS) or [])]
        address = str(adv.address).split("/")[0]
        ad = AdvertisementData(local_name=name, manufacturer_data={}, service_data={},
                               service_uuids=uuids, tx_power=None, rssi=adv.rssi,
                               platform_data=())
        device = self.create_or_update_device(address, address, name, {"bumble": True}, ad)
        self.call_detection_callbacks(device, ad)


class BumbleClient(BaseBleakClient):
    """bleak client backend on the bumble central: connect, MTU exchange, discovery."""

    world: BumbleWorld

    def __init__(self, address_or_ble_device: BLEDevice | str, **kwargs: Any) -> None:
        super().__init__(address_or_ble_device,
                         disconnected_callback=kwargs.pop("disconnected_callback", None),
                         timeout=kwargs.pop("timeout", 10.0))
        self._peer: Peer | None = None
        self._proxies: dict[int, Any] = {}

    @property
    def mtu_size(self) -> int:
        return self._peer.connection.att_mtu if self._peer else 23

    async def connect(self, pair: bool = False, **kwargs: Any) -> None:
        connection = await self.world.central.connect(self.address)
        connection.on("disconnection", lambda *_: self._lost())
        peer = Peer(connection)
        if self.world.mtu > 23:
            await peer.request_mtu(self.world.mtu)
        await peer.discover_services()
        coll = BleakGATTServiceCollection()
        for svc in peer.services:
            await peer.discover_characteristics(service=svc)
            bsvc = BleakGATTService(svc, svc.handle, str(svc.uuid).lower())
            coll.add_service(bsvc)
            for ch in svc.characteristics:
                props = [p.name.lower().replace("_", "-") for p in Characteristic.Properties
                         if p in ch.properties]
                coll.add_characteristic(BleakGATTCharacteristic(
                    ch, ch.handle, str(ch.uuid).lower(), props, lambda: self.mtu_size - 3, bsvc))
                self._proxies[ch.handle] = ch
        self.services = coll
        self._peer = peer

    def _lost(self) -> None:
        if self._peer is not None:
            self._peer = None
            if self._disconnected_callback:
                self._disconnected_callback()

    async def disconnect(self) -> None:
        peer, self._peer = self._peer, None
        if peer is not None:
            await peer.connection.disconnect()

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        return None

    async def unpair(self) -> None:
        return None

    @property
    def is_connected(self) -> bool:
        return self._peer is not None

    def _require(self) -> Peer:
        if self._peer is None:
            raise BleakError("not connected")
        return self._peer

    async def read_gatt_char(self, characteristic: BleakGATTCharacteristic, **kw: Any
                             ) -> bytearray:
        return bytearray(await self._require().read_value(self._proxies[characteristic.handle]))

    async def read_gatt_descriptor(self, descriptor: Any, **kwargs: Any) -> bytearray:
        raise BleakError("not supported")

    async def write_gatt_char(self, characteristic: BleakGATTCharacteristic, data: Any,
                              response: bool) -> None:
        await self._require().write_value(self._proxies[characteristic.handle], bytes(data),
                                          with_response=response)

    async def write_gatt_descriptor(self, descriptor: Any, data: Any) -> None:
        raise BleakError("not supported")

    async def start_notify(self, characteristic: BleakGATTCharacteristic,
                           callback: NotifyCallback, **kwargs: Any) -> None:
        await self._require().subscribe(self._proxies[characteristic.handle],
                                        lambda value: callback(bytearray(value)))

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        await self._require().unsubscribe(self._proxies[characteristic.handle])
