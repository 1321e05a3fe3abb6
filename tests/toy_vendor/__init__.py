"""A toy vendor, laid out as a folder of ``sensor_io/vendors/`` is: what adding a vendor
takes (this folder, then one registry line: ``register(VENDOR)``), shown by
``tests/test_sensor_io/test_vendor_registry.py``.  Its protocol is invented: a start command answered
with a status, then packets of float32 samples with a µs device timestamp."""

from sensor_io.vendors.base import Vendor
from toy_vendor import emulator, protocol

VENDOR = Vendor(name="toy", profile=protocol.PROFILE, emulate=emulator.emulate)
