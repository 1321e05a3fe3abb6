"""Polar Verity Sense and H10: PMD online streaming of ACC and GYRO.

``gatt``: GATT identifiers; ``protocol``: decoder, commands, start/stop, profile;
``emulator``: the emulated device.
"""

from sensor_io.vendors.base import Vendor
from sensor_io.vendors.polar import emulator, protocol

VENDOR = Vendor(name="polar", profile=protocol.PROFILE, emulate=emulator.emulate)
