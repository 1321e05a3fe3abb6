"""WitMotion BWT901BLE: 0x61 frames, output rate by unlocked register write.

``gatt``: GATT identifiers; ``protocol``: decoder, commands, start/stop, profile;
``emulator``: the emulated device.
"""

from sensor_io.vendors.base import Vendor
from sensor_io.vendors.witmotion import emulator, protocol

VENDOR = Vendor(name="witmotion", profile=protocol.PROFILE, emulate=emulator.emulate)
