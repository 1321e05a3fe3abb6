"""Movesense: the gatt_sensordata_app (GSP) firmware, /Meas/IMU6 and IMU9 subscriptions.

``gatt``: GATT identifiers; ``protocol``: decoder, commands, start/stop, profile;
``emulator``: the emulated device.
"""

from sensor_io.vendors.base import Vendor
from sensor_io.vendors.movesense import emulator, protocol

VENDOR = Vendor(name="movesense", profile=protocol.PROFILE, emulate=emulator.emulate)
