"""Movella DOT: rate-quantities real-time streaming.

``gatt``: GATT identifiers; ``protocol``: decoder, commands, start/stop, profile;
``emulator``: the emulated device; ``app_export``: the Movella DOT app's CSV exports
joined into a recording (``stepdown import-dot``).
"""

from sensor_io.vendors.base import Vendor
from sensor_io.vendors.movella import emulator, protocol

VENDOR = Vendor(name="movella", profile=protocol.PROFILE, emulate=emulator.emulate)
